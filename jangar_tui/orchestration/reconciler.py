"""The reconciler: closes work orders whose workflow ended without telling the store.

A workflow that is terminated, times out or fails outside our code never runs its record step,
so its work order would stay `submitted`/`accepted`/`running` forever. The reconciler looks at
every launched work order, asks Temporal, and closes those whose workflow is closed, with a system
message saying why (the same kind of completion message the workflow writes, so there is still
exactly one).
"""

from __future__ import annotations

import asyncio
import logging

from jangar_tui.aio import within
from jangar_tui.models import LAUNCHED_STATUSES, ErrorCode, JangarError, Role, WorkOrder, WorkOrderStatus
from jangar_tui.orchestration.launcher import TemporalLauncher
from jangar_tui.outcome import COMPLETION_KIND, find_completion_message
from jangar_tui.store.base import Store

log = logging.getLogger(__name__)

S = WorkOrderStatus
RECONCILE_EVERY_S = 10.0
_PAGE = 100
_MAX_PAGES = 20  # per status and round: a bounded amount of work each time

# Temporal's closed statuses -> the status the work order closes with, and why.
_CLOSED: dict[str, tuple[WorkOrderStatus, str]] = {
    "TERMINATED": (S.CANCELED, "The workflow was terminated on Temporal"),
    "CANCELED": (S.CANCELED, "The workflow was canceled on Temporal before it recorded the result"),
    "TIMED_OUT": (S.FAILED, "The workflow timed out on Temporal"),
    "FAILED": (S.FAILED, "The workflow failed on Temporal"),
    "COMPLETED": (S.FAILED, "The workflow completed without recording a result"),
    "CONTINUED_AS_NEW": (S.FAILED, "The workflow continued as a new run, which Jangar does not follow"),
}


class Reconciler:
    def __init__(self, store: Store, launcher: TemporalLauncher) -> None:
        self.store = store
        self.launcher = launcher

    async def reconcile_once(self) -> list[WorkOrder]:
        """One pass over the launched work orders; returns the ones it closed."""
        fixed: list[WorkOrder] = []
        for status in (s for s in WorkOrderStatus if s in LAUNCHED_STATUSES):
            cursor: str | None = None
            for _ in range(_MAX_PAGES):
                page = await self.store.list_work_orders_by_status(status, numItems=_PAGE, cursor=cursor)
                for work_order in page.page:
                    closed = await self._reconcile(work_order)
                    if closed is not None:
                        fixed.append(closed)
                if page.isDone or not page.continueCursor:
                    break
                cursor = page.continueCursor
        return fixed

    async def run(self, stop: asyncio.Event, interval_s: float = RECONCILE_EVERY_S) -> None:
        """Reconcile now and every `interval_s` until `stop` is set; a failed round is retried later."""
        while not stop.is_set():
            try:
                await self.reconcile_once()
            except JangarError as exc:
                log.info("reconcile skipped: %s", exc.message)
            except Exception:
                log.exception("reconcile round failed")
            try:
                await within(stop.wait(), interval_s)
            except TimeoutError:
                pass

    async def _reconcile(self, work_order: WorkOrder) -> WorkOrder | None:
        description = await self.launcher.describe(work_order)
        if description is None or description.status not in _CLOSED:
            # Still running, or unknown to this Temporal (another cluster may own it): leave it.
            return None
        current = await self.store.get_work_order(work_order.id)
        if current is None or current.status.is_terminal:
            return None  # the workflow recorded it after all
        target, reason = _CLOSED[description.status]
        detail = await self._close_detail(current)
        message = f"{reason}{f' ({detail})' if detail else ''}; the work order is now {target.value}."
        if await find_completion_message(self.store, current) is None:
            await self.store.append_message(
                current.sessionId,
                Role.SYSTEM,
                message,
                {
                    "workOrderId": current.id,
                    "workflowId": current.workflowId,
                    "kind": COMPLETION_KIND,
                    "status": target.value,
                    "source": "reconciler",
                    "temporalStatus": description.status,
                },
            )
        try:
            return await self.store.update_work_order_status(current.id, target, expectedStatus=current.status)
        except JangarError as exc:
            if exc.code in (ErrorCode.CONFLICT, ErrorCode.INVALID_TRANSITION):
                return None  # moved meanwhile; the next round looks again
            raise

    async def _close_detail(self, work_order: WorkOrder) -> str:
        """The reason Temporal recorded on the closing event (terminate reason, failure message)."""
        events = await self.launcher.history(work_order)
        return events[-1].details if events else ""
