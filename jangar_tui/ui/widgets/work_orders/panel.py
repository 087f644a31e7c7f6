"""The work-order panel: a title with the count, the list and a hint when there is none."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from jangar_tui.models import WorkOrder
from jangar_tui.ui.widgets.text import set_text
from jangar_tui.ui.widgets.work_orders.work_order_list import WorkOrderList


class WorkOrderPanel(Vertical):
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
        self._update("No work orders yet.\nctrl+o turns the session\n(or a selected message)\ninto one.")

    def _update(self, empty_text: str) -> None:
        count = len(self.work_order_list.work_orders)
        set_text(self.query_one("#work-orders-title", Static), f"Work orders ({count})")
        hint = self.query_one("#work-orders-empty", Static)
        set_text(hint, empty_text)
        hint.display = count == 0
