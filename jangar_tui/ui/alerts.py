"""Alerts in the app: when a work order ends, a toast, and the terminal's own notification.

The app runs one live watch per ended status (the newest `ALERT_WATCH_LIMIT`, on the
(status, updatedAt) index); `EndedWatch` tells which rows are new. The terminal's bytes come from
`jangar_tui.alerts.terminal_sequence` and go through the driver's writer, in order with the frames,
so an alert never lands in the middle of an escape sequence Textual is writing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from jangar_tui.alerts import EndedWatch, NotifyMode, terminal_sequence
from jangar_tui.models import TERMINAL_STATUSES, ErrorCode, JangarError, WorkOrder, WorkOrderStatus
from jangar_tui.text_safety import one_line

if TYPE_CHECKING:
    from jangar_tui.ui.app import JangarApp

ALERT_WATCH_LIMIT = 20
WATCH_RETRY_S = 2.0
_SEVERITY = {
    WorkOrderStatus.SUCCEEDED: "information",
    WorkOrderStatus.FAILED: "error",
    WorkOrderStatus.CANCELED: "warning",
}


class WorkOrderAlerts:
    def __init__(self, app: JangarApp, mode: NotifyMode, *, in_tmux: bool, write: Callable[[str], None]) -> None:
        self._app = app
        self._mode = mode
        self._in_tmux = in_tmux
        self._write = write
        self._ended = EndedWatch()

    @property
    def following(self) -> bool:
        """Every ended status is watched: a work order that ends now is announced."""
        return self._ended.following == TERMINAL_STATUSES

    def start(self) -> None:
        for status in sorted(TERMINAL_STATUSES):
            self._app.run_worker(self._follow(status), group="alerts", exit_on_error=False)

    async def _follow(self, status: WorkOrderStatus) -> None:
        while True:
            try:
                async for orders in self._app.service.watch_work_orders_by_status(status, ALERT_WATCH_LIMIT):
                    for work_order in self._ended.newly_ended(status, orders):
                        self.announce(work_order)
                return
            except JangarError as error:
                if error.code != ErrorCode.UNAVAILABLE:
                    return
                await asyncio.sleep(WATCH_RETRY_S)

    def announce(self, work_order: WorkOrder) -> None:
        title = work_order.title or work_order.workflowId
        outcome = work_order.status.value
        self._app.notify(
            f"“{one_line(title)}” {outcome}",
            title="Work order ended",
            severity=_SEVERITY.get(work_order.status, "information"),  # type: ignore[arg-type]
            markup=False,
            timeout=8,
        )
        if sequence := terminal_sequence(self._mode, "Jangar", f"{title} {outcome}", in_tmux=self._in_tmux):
            self._write(sequence)
