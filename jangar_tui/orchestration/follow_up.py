"""What a follow-up continues: the work order it names (`followUpOf`), its worktree, its Codex
thread and its pull request.

Terminal states are final, so review feedback on an ended work order becomes a new work order
linked to the first. It runs on the first one's branch, in the worktree of the first work order of
the chain (made again from the cache on the pushed branch when it was removed), continues the
Codex thread the previous run logged (a `setup` event with `threadId`), and delivers to the same
branch and pull request. Where codex no longer has the thread, or the previous run had none (another
agent, a run that never started), the agent is given a prompt seeded with what the previous run
was asked and how it ended.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from jangar_tui.models import (
    FOLLOW_UP_CHAIN_MAX,
    LAUNCHED_STATUSES,
    PAGE_SIZE_MAX,
    ErrorCode,
    EventKind,
    JangarError,
    WorkOrder,
)
from jangar_tui.outcome import find_completion_message
from jangar_tui.store.base import Store

SEED_RESULT_CHARS = 16 * 1024
SEED_NOTE = (
    "(This work continues an earlier run on the same branch and worktree, whose conversation is no "
    "longer available. What that run was asked and how it ended are below; the follow-up request is "
    "at the end.)"
)

GetWorkOrder = Callable[[str], Awaitable[WorkOrder | None]]


async def chain(work_order: WorkOrder, get_work_order: GetWorkOrder) -> list[WorkOrder]:
    """The work order and those it follows up, newest first (a deleted one ends the chain)."""
    found = [work_order]
    while found[-1].followUpOf and len(found) < FOLLOW_UP_CHAIN_MAX:
        previous = await get_work_order(found[-1].followUpOf)
        if previous is None:
            break
        found.append(previous)
    return found


async def workspace_owner(work_order: WorkOrder, get_work_order: GetWorkOrder) -> WorkOrder:
    """The work order whose worktree this one works in: the first of its chain."""
    return (await chain(work_order, get_work_order))[-1]


async def refuse_while_worktree_busy(store: Store, work_order: WorkOrder) -> None:
    """JangarError(CONFLICT) while another work order of `work_order`'s chain is launched
    (submitted, accepted or running): one run at a time in a chain's worktree (or, without a
    repository, its scratch directory) and Codex thread. A draft holds nothing.

    This is the early answer, for the operator (no workflow is started). The guard against a race
    is the store's: it makes the same check in the transaction that marks a follow-up `submitted`
    (two launched at once cannot both pass), and the worker checks once more under the
    repository cache's lock (`workspace.prepare_workspace`).
    """
    busy = await _launched_in_worktree(store, work_order)
    if busy is not None:
        raise JangarError(
            ErrorCode.CONFLICT,
            f"Work order {busy.id} ({busy.title or busy.workflowId}) is {busy.status.value} in the same "
            "worktree, and one run at a time works in a worktree: try again once it has ended, or cancel it.",
        )


async def _launched_in_worktree(store: Store, work_order: WorkOrder) -> WorkOrder | None:
    owner = await workspace_owner(work_order, store.get_work_order)
    # A follow-up is in the session of the work order it follows: that session holds the chain.
    orders: dict[str, WorkOrder] = {}
    cursor: str | None = None
    while True:
        page = await store.list_work_orders_by_session(owner.sessionId, PAGE_SIZE_MAX, cursor)
        orders.update((order.id, order) for order in page.page)
        if page.isDone or not page.continueCursor:
            break
        cursor = page.continueCursor
    return next(
        (
            order
            for order in orders.values()
            if order.status in LAUNCHED_STATUSES and order.id != work_order.id and _first_of(order, orders) == owner.id
        ),
        None,
    )


def _first_of(work_order: WorkOrder, orders: dict[str, WorkOrder]) -> str:
    """The id of the first work order of `work_order`'s chain among `orders` (as `workspace_owner`:
    a link that is not there, deleted, ends the chain)."""
    current = work_order
    for _ in range(FOLLOW_UP_CHAIN_MAX):
        previous = orders.get(current.followUpOf) if current.followUpOf else None
        if previous is None:
            break
        current = previous
    return current.id


async def pull_request_of(work_order: WorkOrder, get_work_order: GetWorkOrder) -> str | None:
    """The PR an earlier run of the chain opened or kept (a follow-up pushes to it, opens none)."""
    for earlier in (await chain(work_order, get_work_order))[1:]:
        if earlier.prUrl:
            return earlier.prUrl
    return None


async def thread_of(store: Store, work_order_id: str) -> str | None:
    """The Codex thread the work order's run logged last, or None when it logged none."""
    cursor: str | None = None
    while True:
        page = await store.list_work_order_events(work_order_id, PAGE_SIZE_MAX, cursor)
        for event in page.page:  # newest first: a retried attempt's thread wins
            if event.kind == EventKind.SETUP and isinstance(event.metadata, dict):
                thread = event.metadata.get("threadId")
                if isinstance(thread, str) and thread:
                    return thread
        if page.isDone or not page.continueCursor:
            return None
        cursor = page.continueCursor


async def seeded_prompt(store: Store, previous: WorkOrder, note: str) -> str:
    """The follow-up's note after what the previous run was asked and the message it ended with."""
    parts = [SEED_NOTE]
    if previous.prompt or previous.title:
        parts.append("## The earlier run was asked\n\n" + (previous.prompt or previous.title or ""))
    result = await find_completion_message(store, previous)
    if result is not None:
        text = result.content
        if len(text) > SEED_RESULT_CHARS:
            text = "…" + text[-SEED_RESULT_CHARS:]
        parts.append("## It ended with\n\n" + text)
    parts.append("## Follow-up\n\n" + note)
    return "\n\n".join(parts)
