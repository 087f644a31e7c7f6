"""One work order in full: its fields, the Temporal workflow's state, its result, its run log and
Temporal's event history (`v` switches between the last two), and the change its agent made
(`d`: the files and the diff, read by the service off the UI thread, `DiffView`).

The run log follows the store live (a watch on the newest events, older pages loaded as the
operator scrolls up, `EventLogView`).

The fields follow the store live (a watch on the session's work orders); the workflow state and
history are fetched from Temporal again whenever the status moves, and every few seconds while
the work order is active (events arrive without the row changing). Once it has ended, the
message its run ended with (the agent's answer, or why it failed) is shown as its result.
"""

from __future__ import annotations

import time

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Static

from jangar_tui.models import (
    ChatMessage,
    EventKind,
    HistoryEvent,
    JangarError,
    Role,
    WorkflowDescription,
    WorkOrder,
    WorkOrderEvent,
)
from jangar_tui.orchestration.diff_review import Diff
from jangar_tui.orchestration.workspace import WorkspaceInfo, human_bytes
from jangar_tui.outcome import excerpt
from jangar_tui.ui.clock import clock_time
from jangar_tui.ui.keymap import bindings, key_label
from jangar_tui.ui.safe_text import data_text, line_text
from jangar_tui.ui.screens.confirm import ConfirmScreen
from jangar_tui.ui.screens.work_order_actions import WorkOrderActions
from jangar_tui.ui.widgets.key_bar import KeyBar
from jangar_tui.ui.widgets.text import set_text
from jangar_tui.ui.widgets.work_orders.applies import can_remove_workspace, key_applies
from jangar_tui.ui.widgets.work_orders.diff_view import DiffView
from jangar_tui.ui.widgets.work_orders.event_log import EventLogView
from jangar_tui.ui.widgets.work_orders.status_style import status_text

ACTIVE_REFRESH_S = 3.0
# The live part of the log: more than arrive between two snapshots at 500 events/s (~25 at the
# store's 50 ms poll), and small, since every snapshot re-reads it; a burst past it is fetched
# by the gap fill.
EVENTS_WATCH_LIMIT = 100
# While the log streams, new lines are painted at most this often: each paint redraws every row
# (following scrolls them all) and the scrollbar, and a snapshot arrives every 50 ms at 500 events/s.
PAINT_EVENTS_EVERY_S = 0.1
NARROW_BELOW = 120
DETAILS_MIN_WIDTH = 16


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


def diff_title(diff: Diff) -> str:
    count = len(diff.files)
    return f"Diff · {count:,} file{'' if count == 1 else 's'} · from {diff.source.value}"


def workflow_table(description: WorkflowDescription | None, error: str | None, launch_key: str) -> Table | Text:
    if error is not None:
        return data_text(f"✗ Temporal: {error}", style="red")
    if description is None:
        return Text(f"Not started on Temporal yet (a draft). Press {launch_key} to launch it.", style="dim")
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


def no_diff_note(work_order: WorkOrder) -> str:
    """Why there is no diff to show."""
    if not work_order.targetRepo:
        return "This work order names no repository, so its agent changed no repository to show."
    if not work_order.status.is_terminal:
        return "No change yet: the agent's worktree does not exist yet (it is made when the run starts)."
    return (
        "No change to show: this machine has neither the work order's worktree nor its branch, and the"
        " run log holds no recorded change (the agent changed nothing, or the run ended before Jangar committed)."
    )


class WorkOrderDetailScreen(WorkOrderActions):
    BINDINGS = bindings("detail")
    # on_mount focuses the view it shows; an automatic focus first (the scrolling summary at the
    # top) would restyle that whole part twice as it gains and loses the focus.
    AUTO_FOCUS = ""

    class WorkOrderChanged(Message):
        def __init__(self, work_order: WorkOrder | None) -> None:
            self.work_order = work_order
            super().__init__()

    class TemporalFetched(Message):
        def __init__(
            self, description: WorkflowDescription | None, history: list[HistoryEvent], error: str | None
        ) -> None:
            self.description, self.history, self.error = description, history, error
            super().__init__()

    class EventsArrived(Message):
        """Newer events of the run log (oldest first)."""

        def __init__(self, events: list[WorkOrderEvent]) -> None:
            self.events = events
            super().__init__()

    class OlderEventsFetched(Message):
        """A page of older events (oldest first); `more` when there are older still."""

        def __init__(self, events: list[WorkOrderEvent], more: bool, cursor: str | None) -> None:
            self.events, self.more, self.cursor = events, more, cursor
            super().__init__()

    class EventsFailed(Message):
        def __init__(self, error: str) -> None:
            self.error = error
            super().__init__()

    class DiffFetched(Message):
        def __init__(self, diff: Diff | None, error: str | None) -> None:
            self.diff, self.error = diff, error
            super().__init__()

    class WorkspaceFetched(Message):
        def __init__(self, info: WorkspaceInfo | None, error: str | None, *, shown: bool = True) -> None:
            self.info, self.error, self.shown = info, error, shown
            super().__init__()

    class ResultFetched(Message):
        def __init__(self, message: ChatMessage | None, error: str | None) -> None:
            self.message, self.error = message, error
            super().__init__()

    def __init__(self, work_order: WorkOrder) -> None:
        super().__init__(classes="detail")
        self.work_order = work_order
        self._older_cursor: str | None = None
        self._tokens: int | None = None
        self._log_error: str | None = None
        self._view_chosen = False  # the operator pressed v: the automatic switch to the log is off
        self._unpainted: list[WorkOrderEvent] = []  # arrived, waiting for the next paint
        self._paint_timer: Timer | None = None
        self._painted_at = 0.0
        self._workspace: WorkspaceInfo | None = None

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="detail-title", classes="pane-title")
        # One scrolling area above the history (tab focuses it; the arrows scroll it on a small
        # terminal): the work order and its workflow side by side, then the result.
        with VerticalScroll(id="detail-top"):
            with Horizontal(id="detail-summary"):
                with Vertical(id="detail-fields-box"):
                    yield Static("Work order", classes="section-title")
                    yield Static(fields_table(self.work_order), id="detail-fields")
                    yield Static(id="detail-workspace")
                with Vertical(id="detail-workflow-box"):
                    yield Static("Temporal workflow", classes="section-title")
                    yield Static(Text("Loading…", style="dim"), id="detail-workflow")
            with Vertical(id="detail-result-box"):
                yield Static("Result", classes="section-title")
                yield Static(id="detail-result")
        yield Static(id="detail-log-title", classes="section-title")
        yield EventLogView(id="detail-log")
        yield Static("Event history", id="detail-history-title", classes="section-title")
        yield DataTable(id="detail-history", cursor_type="row", zebra_stripes=False)
        yield Static(id="detail-diff-title", classes="section-title")
        yield DiffView(id="detail-diff")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # Fixed widths (the table never re-measures as events stream in); details take the rest.
        fixed = (("#", 4), ("time (UTC)", 19), ("event", 30))
        rest = self.app.size.width - sum(width for _, width in fixed) - 2 * (len(fixed) + 1) - 2
        for label, width in (*fixed, ("details", max(DETAILS_MIN_WIDTH, rest))):
            table.add_column(label, width=width)
        # The run log first: a work order that ran has one, and painting the screen once with it
        # costs less than painting it with the history and then again with the log. An empty
        # first page switches to Temporal's history (a draft, an agent that has said nothing).
        self._show_log(True)
        self.query_one("#detail-workspace").display = False
        self._fetch_workspace()
        self._update_log_title()
        self._watch_events()
        self._watch_work_order()
        self._refresh_temporal()
        self._fetch_result()
        self.set_interval(ACTIVE_REFRESH_S, self._tick)

    def on_resize(self, event: events.Resize) -> None:
        # Side by side needs room for a whole workflow id; below that, one above the other.
        self.set_class(event.size.width < NARROW_BELOW, "-narrow")

    def _title(self, suffix: str = "") -> Text:
        return line_text(f"Work order · {self.work_order.title or self.work_order.workflowId}{suffix}")

    # -- live data ------------------------------------------------------------------------------
    def _watch_work_order(self) -> None:
        session_id, work_order_id = self.work_order.sessionId, self.work_order.id

        def changed(work_orders: list[WorkOrder]) -> Message:
            return self.WorkOrderChanged(next((w for w in work_orders if w.id == work_order_id), None))

        self.watch_stream(
            "detail-watch", lambda: self.service.watch_work_orders(session_id), changed, what="the work order"
        )

    def on_work_order_detail_screen_work_order_changed(self, message: WorkOrderChanged) -> None:
        if message.work_order is None:
            self.query_one("#detail-title", Static).update(self._title("  (deleted)"))
            return
        if message.work_order == self.work_order:
            return
        self.work_order = message.work_order
        self.refresh_bindings()
        self.query_one("#detail-title", Static).update(self._title())
        self.query_one("#detail-fields", Static).update(fields_table(self.work_order))
        self._refresh_temporal()
        self._fetch_result()
        self._fetch_workspace()
        if self.query_one(DiffView).display:
            self._fetch_diff()

    # -- the run log ----------------------------------------------------------------------------
    @work(group="detail-events-first", exclusive=True)
    async def _watch_events(self) -> None:
        """The newest page (with a cursor for the pages before it), then the live tail."""
        work_order_id = self.work_order.id
        try:
            first = await self.service.work_order_events(work_order_id)
        except JangarError as exc:
            self.post_message(self.EventsFailed(exc.message))
        else:
            self.post_message(self.OlderEventsFetched(first.page[::-1], not first.isDone, first.continueCursor))
        self.watch_stream(
            "detail-events",
            lambda: self.service.watch_work_order_events(work_order_id, EVENTS_WATCH_LIMIT),
            self.EventsArrived,
            what="the run log",
        )

    @work(group="detail-events-older", exclusive=True)
    async def _load_older(self, cursor: str | None) -> None:
        try:
            page = await self.service.work_order_events(self.work_order.id, cursor=cursor)
        except JangarError as exc:
            self.post_message(self.EventsFailed(exc.message))
            return
        self.post_message(self.OlderEventsFetched(page.page[::-1], not page.isDone, page.continueCursor))

    @work(group="detail-events-gap", exclusive=True)
    async def _fill_gap(self, after_seq: int) -> None:
        """More events arrived between two snapshots than a snapshot holds: fetch the missing ones."""
        found: list[WorkOrderEvent] = []
        cursor: str | None = None
        try:
            while True:
                page = await self.service.work_order_events(self.work_order.id, cursor=cursor, after_seq=after_seq)
                found.extend(page.page)
                if page.isDone:
                    break
                cursor = page.continueCursor
        except JangarError as exc:
            self.post_message(self.EventsFailed(exc.message))
            return
        self.post_message(self.EventsArrived(sorted(found, key=lambda e: e.seq)))

    def on_work_order_detail_screen_events_arrived(self, message: EventsArrived) -> None:
        log = self.query_one(EventLogView)
        last = self._unpainted[-1].seq if self._unpainted else log.last_seq
        events = message.events
        if events and log.first_seq is not None and events[0].seq > last + 1:
            self._fill_gap(last)
            return
        self._unpainted.extend(event for event in events if event.seq > last)
        if not self._unpainted or self._paint_timer is not None:
            return
        wait = self._painted_at + PAINT_EVENTS_EVERY_S - time.monotonic()
        if wait <= 0:
            self._paint_events()  # the first after a pause shows at once
        else:
            self._paint_timer = self.set_timer(wait, self._paint_events)

    def _paint_events(self) -> None:
        self._paint_timer = None
        self._painted_at = time.monotonic()
        events, self._unpainted = self._unpainted, []
        self.query_one(EventLogView).append(events)
        self._note_usage(events)
        self._log_has_events()

    def on_work_order_detail_screen_older_events_fetched(self, message: OlderEventsFetched) -> None:
        log = self.query_one(EventLogView)
        self._older_cursor = message.cursor
        if log.first_seq is None:
            log.has_older = message.more
            log.append(message.events)
            if not message.events and not self._view_chosen and log.display:
                self._show_log(False)  # nothing logged yet: the history says more
        else:
            log.prepend(message.events, more=message.more)
        self._note_usage(message.events)
        self._log_has_events()

    def _log_has_events(self) -> None:
        if not self._view_chosen and self.query_one(EventLogView).last_seq and not self.query_one(EventLogView).display:
            self._show_log(True)

    def on_work_order_detail_screen_events_failed(self, message: EventsFailed) -> None:
        self._log_error = message.error
        if (
            self.query_one(EventLogView).first_seq is None
            and not self._view_chosen
            and self.query_one(EventLogView).display
        ):
            self._show_log(False)
        self.query_one(EventLogView).loading_older = False
        self._update_log_title()

    def on_event_log_view_older_wanted(self, message: EventLogView.OlderWanted) -> None:
        self._load_older(self._older_cursor)

    def on_event_log_view_follow_changed(self, message: EventLogView.FollowChanged) -> None:
        self._update_log_title()

    def _note_usage(self, events: list[WorkOrderEvent]) -> None:
        for event in events:
            if event.kind == EventKind.USAGE and isinstance(event.metadata, dict):
                total = event.metadata.get("totalTokens")
                if isinstance(total, int):
                    self._tokens = total
        self._update_log_title()

    def _update_log_title(self) -> None:
        log = self.query_one(EventLogView)
        parts = ["Run log"]
        if log.last_seq:
            parts.append(f"{log.last_seq:,} event{'s' if log.last_seq != 1 else ''}")
        if self._tokens is not None:
            parts.append(f"{self._tokens:,} tokens")
        if self._log_error is not None:
            parts.append(f"✗ {self._log_error}")
        elif log.last_seq:
            parts.append("following" if log.following else "paused (end follows)")
        # One row, the screen's width: its text never changes its size (it streams with the log).
        set_text(self.query_one("#detail-log-title", Static), " · ".join(parts), layout=False)

    def _show_log(self, log: bool) -> None:
        self._show_diff(False)
        self.query_one("#detail-log-title").display = log
        self.query_one(EventLogView).display = log
        self.query_one("#detail-history-title").display = not log
        self.query_one(DataTable).display = not log
        (self.query_one(EventLogView) if log else self.query_one(DataTable)).focus()
        self.refresh_bindings()

    def action_toggle_log(self) -> None:
        self._view_chosen = True
        self._show_log(not self.query_one(EventLogView).display)

    # -- the diff -------------------------------------------------------------------------------
    def _show_diff(self, diff: bool) -> None:
        # The diff takes the whole screen below the title: at 80×24 the fields would leave it a few rows.
        self.set_class(diff, "-diff")
        self.query_one("#detail-diff-title").display = diff
        self.query_one(DiffView).display = diff

    def action_toggle_diff(self) -> None:
        self._view_chosen = True
        if self.query_one(DiffView).display:
            self._show_log(bool(self.query_one(EventLogView).last_seq))
            return
        for widget in (self.query_one(EventLogView), self.query_one(DataTable)):
            widget.display = False
        self.query_one("#detail-log-title").display = self.query_one("#detail-history-title").display = False
        self._show_diff(True)
        view = self.query_one(DiffView)
        if view.diff is None:
            view.show_note("Reading the change…")
            set_text(self.query_one("#detail-diff-title", Static), "Diff")
        view.scroll_home(animate=False, immediate=True)  # opened again: from the list of files
        view.focus()
        self.refresh_bindings()
        self._fetch_diff()

    @work(group="detail-diff", exclusive=True)
    async def _fetch_diff(self) -> None:
        diff: Diff | None = None
        error: str | None = None
        try:
            diff = await self.service.work_order_diff(self.work_order)
        except JangarError as exc:
            error = exc.message
        self.post_message(self.DiffFetched(diff, error))

    def on_work_order_detail_screen_diff_fetched(self, message: DiffFetched) -> None:
        view = self.query_one(DiffView)
        title = self.query_one("#detail-diff-title", Static)
        if message.error is not None:
            view.show_note(f"✗ {message.error}", Style(color="red"))
            set_text(title, "Diff · ✗ the change could not be read")
        elif message.diff is None:
            view.show_note(no_diff_note(self.work_order))
            set_text(title, "Diff")
        else:
            view.show_diff(message.diff)
            set_text(title, diff_title(message.diff))

    def _tick(self) -> None:
        if not self.work_order.status.is_terminal:
            self._refresh_temporal()
            if self.query_one(DiffView).display:
                self._fetch_diff()  # the agent is still changing files

    @work(group="detail-temporal", exclusive=True)
    async def _refresh_temporal(self) -> None:
        description: WorkflowDescription | None = None
        history: list[HistoryEvent] = []
        error: str | None = None
        try:
            description = await self.service.describe_work_order(self.work_order.id)
            if description is not None:
                history = await self.service.work_order_history(self.work_order.id)
        except JangarError as exc:
            error = exc.message
        # Handled on the screen's queue, so a fetch that ends as the screen closes touches nothing.
        self.post_message(self.TemporalFetched(description, history, error))

    @work(group="detail-result", exclusive=True)
    async def _fetch_result(self) -> None:
        if not self.work_order.status.is_terminal:
            return  # nothing to show until it has ended
        message: ChatMessage | None = None
        error: str | None = None
        try:
            message = await self.service.work_order_result(self.work_order)
        except JangarError as exc:
            error = exc.message
        self.post_message(self.ResultFetched(message, error))

    @work(group="detail-workspace", exclusive=True)
    async def _fetch_workspace(self) -> None:
        info: WorkspaceInfo | None = None
        error: str | None = None
        try:
            info = await self.service.work_order_workspace(self.work_order)
        except (JangarError, OSError) as exc:  # the disk or the store: shown, never fatal
            error = exc.message if isinstance(exc, JangarError) else str(exc)
        if error is None and (info is None or (not info.exists and not self.work_order.status.is_terminal)):
            # No repository, no data dir here, or not made yet (or by a worker elsewhere): nothing to say.
            self.post_message(self.WorkspaceFetched(None, None, shown=False))
            return
        self.post_message(self.WorkspaceFetched(info, error))

    def on_work_order_detail_screen_workspace_fetched(self, message: WorkspaceFetched) -> None:
        self._workspace = message.info
        if message.shown:
            self.query_one("#detail-workspace", Static).update(workspace_table(message.info, message.error))
        self.query_one("#detail-workspace").display = message.shown

    def on_work_order_detail_screen_result_fetched(self, message: ResultFetched) -> None:
        self.query_one("#detail-result", Static).update(result_text(message.message, message.error))
        self.query_one("#detail-result-box").display = True

    def on_work_order_detail_screen_temporal_fetched(self, message: TemporalFetched) -> None:
        self.query_one("#detail-workflow", Static).update(
            workflow_table(message.description, message.error, key_label(self.app, "detail", "launch"))
        )
        self._show_history(message.history)

    def _show_history(self, history: list[HistoryEvent]) -> None:
        table = self.query_one(DataTable)
        shown = table.row_count
        if shown > len(history) or (shown and str(history[0].eventId) != str(table.get_row_at(0)[0])):
            table.clear()
            shown = 0
        # History only grows: append the new events, keep the cursor where it is.
        for event in history[shown:]:
            table.add_row(
                str(event.eventId),
                clock_time(event.eventTime).removesuffix(" UTC"),
                line_text(event.eventType),
                line_text(event.details),
            )

    # -- actions --------------------------------------------------------------------------------
    def key_applies(self, action: str) -> bool:
        return key_applies(action, self.work_order)

    def action_close(self) -> None:
        self.dismiss()

    @work(group="detail-action")
    async def action_launch(self) -> None:
        await self.launch(self.work_order)

    @work(group="detail-action")
    async def action_cancel_work_order(self) -> None:
        await self.cancel(self.work_order)

    def launch_hint(self) -> str:
        # The retry's draft is not this screen's work order: it is launched from the list.
        return f"back in the work-order list, {super().launch_hint()}"

    @work(group="detail-action")
    async def action_retry(self) -> None:
        await self.retry(self.work_order)

    @work(group="detail-action")
    async def action_follow_up(self) -> None:
        await self.follow_up(self.work_order)

    @work(group="detail-action")
    async def action_remove_workspace(self) -> None:
        """Remove the ended work order's worktree now (asks first); never one that runs."""
        if not can_remove_workspace(self.work_order):
            self.report_error(
                f"The work order is {self.work_order.status.value}: its worktree is removed only once it has ended."
            )
            return
        info = self._workspace
        if info is None or not info.exists:
            self.report_error("This work order has no worktree on this machine.")
            return
        title = self.work_order.title or self.work_order.workflowId
        question = f"Remove the worktree of “{title}” ({human_bytes(info.bytes)})? Its branch and pushed commits stay."
        if not await self.app.push_screen_wait(ConfirmScreen(question, yes="Remove it", no="Keep it")):
            return
        try:
            removed = await self.service.remove_work_order_workspace(self.work_order.id)
        except JangarError as error:
            self.report_error(f"Not removed: {error.message}")
        else:
            freed = f" ({human_bytes(removed.bytes)} freed)" if removed is not None else ""
            self.report_done(f"Worktree removed{freed}.")
        self._fetch_workspace()

    def action_copy_pr_url(self) -> None:
        self.copy_pr_url(self.work_order)

    def action_copy_workflow_id(self) -> None:
        self.copy_workflow_id(self.work_order)
