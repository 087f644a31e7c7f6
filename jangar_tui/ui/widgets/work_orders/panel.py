"""The work-order panel: a title with the count, the list and a hint when there is none.

While a work order runs, the panel follows the newest events of its run log (one small watch per
running work order) and shows the newest that is not a token count under the row. A failed one's
reason is read once (it never changes) and shown under its row.
"""

from __future__ import annotations

import asyncio

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from jangar_tui.models import EventKind, JangarError, WorkOrder, WorkOrderStatus
from jangar_tui.ui.keymap import key_label
from jangar_tui.ui.widgets.text import set_text
from jangar_tui.ui.widgets.work_orders.work_order_list import WorkOrderList

# The newest events read for the row's activity: Codex reports its token usage after every model
# answer, so the newest event is most often a token count, which says nothing of what the agent
# does; the row shows the newest other event among these.
ACTIVITY_WINDOW = 4
# While the run log grows fast (a worker commits up to 20 batches a second), the row's activity is
# read again at most this often: the watch re-queries only when asked for its next snapshot, so the
# commits of the pause are read once, after it. A change after a quiet spell shows at once.
ACTIVITY_INTERVAL_S = 0.25


class WorkOrderPanel(Vertical):
    class ActivityChanged(Message):
        def __init__(self, work_order_id: str, line: str | None) -> None:
            self.work_order_id, self.line = work_order_id, line
            super().__init__()

    class ReasonRead(Message):
        def __init__(self, work_order_id: str, reason: str) -> None:
            self.work_order_id, self.reason = work_order_id, reason
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._followed: set[str] = set()
        self._reasons_asked: set[str] = set()  # failed work orders whose reason is read (or being read)

    def compose(self) -> ComposeResult:
        yield Static("Work orders", id="work-orders-title", classes="pane-title")
        yield Static("", id="work-orders-empty", classes="empty-hint")
        yield WorkOrderList(id="work-order-list")
        yield Static("", id="work-orders-error", classes="error-line")

    def on_mount(self) -> None:
        self.query_one("#work-orders-error").display = False

    def show_error(self, text: str | None) -> None:
        """The last refusal (e.g. why a launch failed), until the next action succeeds."""
        error = self.query_one("#work-orders-error", Static)
        set_text(error, f"✗ {text}" if text else "")
        error.display = bool(text)

    @property
    def work_order_list(self) -> WorkOrderList:
        return self.query_one(WorkOrderList)

    def show_placeholder(self, text: str) -> None:
        self.work_order_list.set_work_orders([])
        self._update(text)

    def set_work_orders(self, work_orders: list[WorkOrder]) -> None:
        self.work_order_list.set_work_orders(work_orders)
        new = key_label(self.app, "main", "new_work_order")
        self._update(f"No work orders yet.\n{new} turns the session\n(or a selected message)\ninto one.")
        self._follow_running(work_orders)
        self._read_reasons(work_orders)

    def _read_reasons(self, work_orders: list[WorkOrder]) -> None:
        for work_order in work_orders:
            if work_order.status == WorkOrderStatus.FAILED and work_order.id not in self._reasons_asked:
                self._reasons_asked.add(work_order.id)
                self.run_worker(self._read_reason(work_order), group="failure-reasons")

    async def _read_reason(self, work_order: WorkOrder) -> None:
        service = self.app.service  # type: ignore[attr-defined]
        try:
            reason = await service.work_order_failure_reason(work_order)
        except JangarError:
            self._reasons_asked.discard(work_order.id)  # read again with the next snapshot
            return
        if reason:
            self.post_message(self.ReasonRead(work_order.id, reason))

    def on_work_order_panel_reason_read(self, message: ReasonRead) -> None:
        self.work_order_list.set_reason(message.work_order_id, message.reason)

    def _follow_running(self, work_orders: list[WorkOrder]) -> None:
        running = {w.id for w in work_orders if w.status == WorkOrderStatus.RUNNING}
        for gone in self._followed - running:
            self.workers.cancel_group(self, f"activity-{gone}")
            self.work_order_list.set_activity(gone, None)
        for new in running - self._followed:
            self.run_worker(self._follow_activity(new), group=f"activity-{new}", exclusive=True)
        self._followed = running

    async def _follow_activity(self, work_order_id: str) -> None:
        service = self.app.service  # type: ignore[attr-defined]
        try:
            async for events in service.watch_work_order_events(work_order_id, ACTIVITY_WINDOW):
                doing = [event for event in events if event.kind != EventKind.USAGE]
                if doing:
                    line = next((part for part in doing[-1].text.split("\n") if part.strip()), "")
                    self.post_message(self.ActivityChanged(work_order_id, line[:200]))
                await asyncio.sleep(ACTIVITY_INTERVAL_S)
        except JangarError:
            return  # the row simply shows no activity

    def on_work_order_panel_activity_changed(self, message: ActivityChanged) -> None:
        if message.work_order_id in self._followed:
            self.work_order_list.set_activity(message.work_order_id, message.line)

    def _update(self, empty_text: str) -> None:
        count = len(self.work_order_list.work_orders)
        set_text(self.query_one("#work-orders-title", Static), f"Work orders ({count})")
        hint = self.query_one("#work-orders-empty", Static)
        set_text(hint, empty_text)
        hint.display = count == 0
