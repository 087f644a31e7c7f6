"""The session's work orders, newest first: status, title, target, PR URL, while one runs the
latest line of its run log, and once one has failed its reason (an OptionList)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from jangar_tui.models import WorkOrder, WorkOrderStatus
from jangar_tui.ui.keymap import bindings
from jangar_tui.ui.safe_text import line_text, one_line
from jangar_tui.ui.widgets.work_orders.applies import key_applies
from jangar_tui.ui.widgets.work_orders.status_style import status_text

ACTIVITY_PREFIX = "  ▸ "


def work_order_row(work_order: WorkOrder, activity: str | None = None, reason: str | None = None) -> Group:
    head = status_text(work_order.status)
    head.append("  ")
    head.append_text(line_text(work_order.title or "(untitled)"))
    head.no_wrap, head.overflow = True, "ellipsis"
    lines: list[RenderableType] = [head]
    target = work_order.targetRepo or "no repo"
    if work_order.targetBranch:
        target += f" @ {work_order.targetBranch}"
    lines.append(line_text(f"  {target}", style="dim"))
    if activity and work_order.status == WorkOrderStatus.RUNNING:
        lines.append(line_text(f"{ACTIVITY_PREFIX}{activity}", style="italic"))
    if reason and work_order.status == WorkOrderStatus.FAILED:
        why = line_text(f"  ✗ {reason}", style="red")
        why.no_wrap, why.overflow = True, "ellipsis"
        lines.append(why)
    if work_order.prUrl:
        lines.append(pr_line(work_order.prUrl))
    return Group(*lines)


def pr_line(url: str) -> Table:
    """The whole PR URL, folded under itself where the column is narrower than it: a cut URL
    cannot be read, compared or typed."""
    line = Table.grid()
    line.add_column(no_wrap=True)
    line.add_column(overflow="fold")
    line.add_row(Text("  PR "), Text(one_line(url), style="underline", overflow="fold"))
    return line


class WorkOrderList(OptionList):
    BINDINGS = bindings("work_orders")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._work_orders: list[WorkOrder] = []
        self._want_id: str | None = None  # highlight this one once it arrives (just created)
        self._activity: dict[str, str] = {}  # work order id -> the latest line of its run log
        self._painted: dict[str, str] = {}  # work order id -> the line its row was last drawn with
        self._reasons: dict[str, str] = {}  # failed work order id -> why it failed

    @property
    def work_orders(self) -> list[WorkOrder]:
        return self._work_orders

    @property
    def chosen(self) -> WorkOrder | None:
        index = self.highlighted
        if index is None or index >= len(self._work_orders):
            return None
        return self._work_orders[index]

    def set_work_orders(self, work_orders: list[WorkOrder]) -> None:
        if work_orders == self._work_orders:
            return
        chosen, previous = self.chosen, self._work_orders
        self._work_orders = work_orders
        ids = [w.id for w in work_orders]
        if [o.id for o in self.options] == ids:
            # Same rows: replace only the prompts that changed (e.g. a status moved on).
            for index, (old, new) in enumerate(zip(previous, work_orders, strict=True)):
                if old != new:
                    self.replace_option_prompt_at_index(index, self._row(new))
        else:
            self.set_options(Option(self._row(w), id=w.id) for w in work_orders)
            if chosen is not None and chosen.id in ids:
                self.highlighted = ids.index(chosen.id)
            elif work_orders:
                self.highlighted = 0
        if self._want_id in ids:
            self.highlighted = ids.index(self._want_id)
            self._want_id = None
        self.refresh_bindings()  # the chosen one's status may have moved on: other keys apply

    def set_activity(self, work_order_id: str, line: str | None) -> None:
        """Show `line` (the newest of the run log) under the work order while it runs.

        The row is drawn again only when what it shows changes: a line that differs beyond the
        column's width is kept for a resize, not painted (each repaint renders every row again).
        """
        if line is None:
            if self._activity.pop(work_order_id, None) is None:
                return
        else:
            self._activity[work_order_id] = line
            painted = self._painted.get(work_order_id)
            if painted is not None and self._cut(painted) == self._cut(line):
                return
        self._repaint(work_order_id)

    def _row(self, work_order: WorkOrder) -> Group:
        line = self._activity.get(work_order.id)
        if line is None:
            self._painted.pop(work_order.id, None)
        else:
            self._painted[work_order.id] = line
        return work_order_row(work_order, line, self._reasons.get(work_order.id))

    def set_reason(self, work_order_id: str, reason: str) -> None:
        """Show why the work order failed under it (one line, cut with an ellipsis)."""
        if self._reasons.get(work_order_id) != reason:
            self._reasons[work_order_id] = reason
            self._repaint(work_order_id)

    def _repaint(self, work_order_id: str) -> None:
        for index, work_order in enumerate(self._work_orders):
            if work_order.id == work_order_id:
                self.replace_option_prompt_at_index(index, self._row(work_order))

    def _cut(self, line: str) -> str:
        """`line` as the row shows it: one line, cut with … to the column left of '  ▸ '."""
        padding = self.get_component_styles("option-list--option").padding
        width = self.scrollable_content_region.width - padding.width - len(ACTIVITY_PREFIX)
        text = line_text(line)
        if width > 0:  # laid out
            text.truncate(width, overflow="ellipsis")
        return text.plain

    def on_resize(self) -> None:
        # A wider column shows more of a line whose tail changed while it was cut.
        for work_order_id, line in list(self._activity.items()):
            if self._painted.get(work_order_id) != line:
                self._repaint(work_order_id)

    def key_applies(self, action: str) -> bool:
        return key_applies(action, self.chosen)

    def watch_highlighted(self, highlighted: int | None) -> None:
        super().watch_highlighted(highlighted)
        self.refresh_bindings()

    def choose(self, work_order_id: str) -> None:
        self._want_id = work_order_id
        ids = [w.id for w in self._work_orders]
        if work_order_id in ids:
            self.highlighted = ids.index(work_order_id)
            self._want_id = None
