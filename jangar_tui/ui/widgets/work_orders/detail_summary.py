"""The top of the work-order detail in one widget: a headline with what matters most of the work
order now (a draft's launch key, a failure's reason, the PR or why there is none), its fields and
worktree, the Temporal workflow beside them (one above the other on a narrow terminal), and the
result once it has ended. The headline comes first: at 80×24 the top shows about a dozen rows.

One `Static` draws it all as one Rich renderable: opening the detail is the operator's hot path,
and every widget Textual mounts, styles and lays out costs time there (the same sections as ten
nested widgets took about 25 ms more to open). Each part is set on its own; the renderable is
built again from the parts.

Every value from the store or Temporal goes through `ui.safe_text`: shown as text, never markup.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from jangar_tui.models import ChatMessage, Role, WorkflowDescription, WorkOrder, WorkOrderStatus
from jangar_tui.orchestration.workspace import WorkspaceInfo, human_bytes
from jangar_tui.outcome import excerpt
from jangar_tui.ui.clock import clock_time
from jangar_tui.ui.safe_text import data_text
from jangar_tui.ui.widgets.work_orders.status_style import status_text

# The work order's column beside the workflow: "Requested by" and a whole workflow id, leaving
# room for a run id beside it.
FIELDS_WIDTH = 64
SECTION_TITLE = "bold underline"


def fields_table(work_order: WorkOrder) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column(overflow="fold")
    target = work_order.targetRepo or "—"
    if work_order.targetBranch:
        target += f" @ {work_order.targetBranch}"
    table.add_row("Status", status_text(work_order.status))
    table.add_row("Title", data_text(work_order.title or "(untitled)"))
    table.add_row("Workflow", data_text(work_order.workflowId))
    table.add_row("Target", data_text(target))
    table.add_row("Issue", data_text(work_order.githubIssueUrl or "—"))
    table.add_row("PR", data_text(work_order.prUrl or "—"))
    if work_order.followUpOf:
        table.add_row("Follows up", data_text(work_order.followUpOf))
    table.add_row("Requested by", data_text(work_order.requestedBy or "—"))
    table.add_row("Created", clock_time(work_order.createdAt))
    table.add_row("Updated", clock_time(work_order.updatedAt))
    return table


def workspace_table(info: WorkspaceInfo | None, error: str | None) -> Table:
    """The worktree row(s) under the fields: its size and place, or that it was removed."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True, width=12)
    table.add_column(overflow="fold")
    if error is not None:
        table.add_row("Worktree", data_text(f"✗ {error}", style="red"))
    elif info is not None and info.exists:
        table.add_row("Worktree", data_text(f"{human_bytes(info.bytes)} · {info.path}"))
        if info.lastUsedBy and info.lastUsedBy != info.workspaceOf:
            table.add_row("", data_text(f"shared with its follow-ups (last: {info.lastUsedBy})", style="dim"))
    else:
        table.add_row("Worktree", Text("none here (removed, or made on another machine)", style="dim"))
    return table


def headline(work_order: WorkOrder, reason: str | None, result: ChatMessage | None, launch_key: str) -> Text | None:
    """What matters most of the work order now, or None: a draft's launch key, a failure's reason
    (whole), a success's PR, else why it has none (the delivery's note, the completion's last part)."""
    status = work_order.status
    if status == WorkOrderStatus.DRAFT:
        return Text(f"○ Not launched yet. Press {launch_key} to launch it.", style="bold")
    if status == WorkOrderStatus.FAILED and reason is not None:
        line = Text("✗ Failed: ", style="bold red")
        line.append_text(data_text(reason, style="red"))
        return line
    if status == WorkOrderStatus.SUCCEEDED and work_order.prUrl:
        line = Text("✓ PR ", style="bold green")
        line.append_text(data_text(work_order.prUrl, style="underline"))
        return line
    if status == WorkOrderStatus.SUCCEEDED and work_order.targetRepo and result is not None:
        note = result.content.strip("\n").split("\n\n")[-1]  # the delivery's note ends the message
        line = Text("✓ ", style="bold green")
        line.append_text(data_text(note))
        return line
    return None


def workflow_table(description: WorkflowDescription | None, error: str | None) -> Table | Text:
    if error is not None:
        return data_text(f"✗ Temporal: {error}", style="red")
    if description is None:
        return Text("Not started on Temporal yet (a draft).", style="dim")
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("Workflow status", data_text(description.status, style="bold"))
    table.add_row("Run", data_text(description.runId or "—"))
    table.add_row("Task queue", data_text(description.taskQueue or "—"))
    table.add_row("Started", clock_time(description.startTime))
    table.add_row("Closed", clock_time(description.closeTime))
    table.add_row("Events", str(description.historyLength) if description.historyLength is not None else "—")
    return table


def result_text(message: ChatMessage | None, error: str | None) -> Text:
    if error is not None:
        return data_text(f"✗ The result could not be read: {error}", style="red")
    if message is None:
        return Text("No result message was recorded in the chat.", style="dim")
    # A failure's reason is a system note; the agent's answer is the assistant's.
    return data_text(excerpt(message.content), style="" if message.role == Role.ASSISTANT else "italic")


def section(title: str, *body: RenderableType) -> Padding:
    """A titled part, as the detail's other section titles look: a blank row, then the title."""
    heading = Text.assemble("\n ", (title, SECTION_TITLE))  # only the words underlined, not the column
    return Padding(Group(heading, *body), (0, 1))


class DetailSummary(Static):
    """The fields, worktree, workflow and result of one work order (see the module's docstring).

    Each setter takes the data and draws again only when it differs from what is shown: the
    fetches behind them repeat every few seconds while a work order runs, and every new drawing
    lays the screen out again.
    """

    def __init__(self, work_order: WorkOrder, launch_key: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._work_order = work_order
        self._launch_key = launch_key
        self._workspace: tuple[WorkspaceInfo | None, str | None] | None = None  # None: not shown
        self._workflow: tuple[WorkflowDescription | None, str | None] | None = None  # None: loading
        self._result: tuple[ChatMessage | None, str | None] | None = None  # None: not ended
        self._reason: str | None = None  # a failed one's, once read
        self._narrow = False

    def on_mount(self) -> None:
        self._show()

    def set_work_order(self, work_order: WorkOrder) -> None:
        self._set("_work_order", work_order)

    def set_workspace(self, info: WorkspaceInfo | None, error: str | None, *, shown: bool = True) -> None:
        """The worktree's rows under the fields (`shown=False` hides them)."""
        self._set("_workspace", (info, error) if shown else None)

    def set_workflow(self, description: WorkflowDescription | None, error: str | None) -> None:
        self._set("_workflow", (description, error))

    def set_result(self, message: ChatMessage | None, error: str | None, reason: str | None = None) -> None:
        """The completion message (or why it could not be read), and a failed one's reason."""
        if (self._result, self._reason) != ((message, error), reason):
            self._result, self._reason = (message, error), reason
            self._show()

    def set_narrow(self, narrow: bool) -> None:
        """Below the width of a whole workflow id beside a run id: one part above the other."""
        self._set("_narrow", narrow)

    def _set(self, part: str, value: object) -> None:
        if getattr(self, part) != value:
            setattr(self, part, value)
            self._show()

    def _show(self) -> None:
        first = headline(self._work_order, self._reason, self._result[0] if self._result else None, self._launch_key)
        fields: list[RenderableType] = [fields_table(self._work_order)]
        if self._workspace is not None:
            fields.append(workspace_table(*self._workspace))
        workflow = Text("Loading…", style="dim") if self._workflow is None else workflow_table(*self._workflow)
        parts: list[RenderableType]
        if self._narrow:
            parts = [section("Work order", *fields), section("Temporal workflow", workflow)]
        else:
            beside = Table.grid(expand=True)
            beside.add_column(width=FIELDS_WIDTH)
            beside.add_column(ratio=1)
            beside.add_row(section("Work order", *fields), section("Temporal workflow", workflow))
            parts = [beside]
        if first is not None:
            parts.insert(0, Padding(first, (0, 1)))  # right under the screen's title
        if self._result is not None:
            parts.append(section("Result", result_text(*self._result)))
        self.update(Group(*parts))
