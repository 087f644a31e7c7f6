"""Which work-order actions apply to a work order, in one place.

The action methods refuse with a reason where these say no; the key bar shows a key only where its
action applies (`key_applies`), so a succeeded work order does not offer "l Launch".
"""

from __future__ import annotations

from collections.abc import Callable

from jangar_tui.models import RETRYABLE_STATUSES, WorkOrder, WorkOrderStatus


def can_launch(work_order: WorkOrder) -> bool:
    return work_order.status == WorkOrderStatus.DRAFT


def can_cancel(work_order: WorkOrder) -> bool:
    return not work_order.status.is_terminal


def can_retry(work_order: WorkOrder) -> bool:
    return work_order.status in RETRYABLE_STATUSES


def can_follow_up(work_order: WorkOrder) -> bool:
    return work_order.status.is_terminal


def can_remove_workspace(work_order: WorkOrder) -> bool:
    return work_order.status.is_terminal


def has_pr(work_order: WorkOrder) -> bool:
    return bool(work_order.prUrl)


# Actions that apply to some work orders only, by action name (as bound on the list and on the
# detail screen). The key bar shows a key only where it applies; pressing it elsewhere still says why
# nothing happened.
_APPLIES: dict[str, Callable[[WorkOrder], bool]] = {
    "launch_work_order": can_launch,
    "launch": can_launch,
    "cancel_work_order": can_cancel,
    "retry_work_order": can_retry,
    "retry": can_retry,
    "follow_up_work_order": can_follow_up,
    "follow_up": can_follow_up,
    "remove_workspace": can_remove_workspace,
    "copy_pr_url": has_pr,
}


def key_applies(action: str, work_order: WorkOrder | None) -> bool:
    """Whether the key bound to `action` ("screen.launch_work_order", "retry", ...) does something now."""
    check = _APPLIES.get(action.rpartition(".")[2])
    if check is None:
        return True
    return work_order is not None and check(work_order)
