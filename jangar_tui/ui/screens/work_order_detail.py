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

import asyncio
import time
from collections.abc import Awaitable

from rich.style import Style
from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Static

from jangar_tui.models import (
    ChatMessage,
    EventKind,
    HistoryEvent,
    JangarError,
    Page,
    WorkflowDescription,
    WorkOrder,
    WorkOrderEvent,
)
from jangar_tui.orchestration.diff_review import Diff
from jangar_tui.orchestration.workspace import WorkspaceInfo, human_bytes
from jangar_tui.ui.clock import clock_time
from jangar_tui.ui.keymap import bindings, key_label
from jangar_tui.ui.safe_text import line_text
from jangar_tui.ui.screens.confirm import ConfirmScreen
from jangar_tui.ui.screens.lifecycle import ask, is_closed
from jangar_tui.ui.screens.work_order_actions import WorkOrderActions
from jangar_tui.ui.widgets.key_bar import KeyBar
from jangar_tui.ui.widgets.text import set_text
from jangar_tui.ui.widgets.work_orders.applies import can_remove_workspace, key_applies
from jangar_tui.ui.widgets.work_orders.detail_summary import (
    DetailSummary,
)
from jangar_tui.ui.widgets.work_orders.diff_view import DiffView
from jangar_tui.ui.widgets.work_orders.event_log import EventLogView

ACTIVE_REFRESH_S = 3.0
# The live part of the log: more than arrive between two snapshots at 500 events/s (~25 at the
# store's 50 ms poll), and small, since every snapshot re-reads it; a burst past it is fetched
# by the gap fill.
EVENTS_WATCH_LIMIT = 100
# While the log streams, new lines are painted at most this often: each paint redraws every row
# (following scrolls them all) and the scrollbar, and a snapshot arrives every 50 ms at 500 events/s.
PAINT_EVENTS_EVERY_S = 0.1
# The screen's first frame waits this long at most for the newest page of the log, read while its
# widgets are made: then it opens with the log in one frame instead of an empty one first (each
# frame of the whole screen costs ~10 ms). A slower store shows the screen first, the log after.
FIRST_PAGE_WAIT_S = 0.15
NARROW_BELOW = 120
DETAILS_MIN_WIDTH = 16


def diff_title(diff: Diff) -> str:
    count = len(diff.files)
    return f"Diff · {count:,} file{'' if count == 1 else 's'} · from {diff.source.value}"


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
        def __init__(self, message: ChatMessage | None, error: str | None, reason: str | None) -> None:
            self.message, self.error, self.reason = message, error, reason
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
        self._view = "log"  # what the part under the summary shows: "log", "history" or "diff"
        self._history: list[HistoryEvent] = []  # Temporal's, kept for the table made on first `v`
        # Temporal still runs the workflow: it records the work order's end just before it closes,
        # so a detail opened (or told of the end) in between still has a close to show.
        self._workflow_open = False
        self._diff_title = "Diff"

    def compose(self) -> ComposeResult:
        # The newest page is read while the widgets are made (see FIRST_PAGE_WAIT_S).
        self._first_page: asyncio.Future[Page[WorkOrderEvent]] = asyncio.ensure_future(
            self.service.work_order_events(self.work_order.id)
        )
        yield Static(self._title(), id="detail-title", classes="pane-title")
        # One scrolling area above the log (tab focuses it; the arrows scroll it on a small
        # terminal), one widget inside it (`DetailSummary`).
        with VerticalScroll(id="detail-top"):
            yield DetailSummary(self.work_order, key_label(self.app, "detail", "launch"), id="detail-summary")
        # One title for whichever view is shown below it. The history table and the diff view are
        # made the first time they are shown: most openings show only the log.
        yield Static(id="detail-view-title", classes="section-title")
        yield EventLogView(id="detail-log")
        yield KeyBar()

    async def on_mount(self) -> None:
        if is_closed(self):
            return
        # The run log first: a work order that ran has one, and painting the screen once with it
        # costs less than painting it with the history and then again with the log. An empty
        # first page switches to Temporal's history (a draft, an agent that has said nothing).
        self._show_view("log")
        first = self._first_page
        # Awaited here, the screen's first frame waits for it (no frame is drawn before on_mount returns).
        await asyncio.wait([first], timeout=FIRST_PAGE_WAIT_S)
        if first.done() and first.exception() is None:
            self._first_page_read(first.result())
        self._watch_events(first)
        self._fetch_workspace()
        self._watch_work_order()
        self._refresh_temporal()
        self._fetch_result()
        self.set_interval(ACTIVE_REFRESH_S, self._tick)

    def on_resize(self, event: events.Resize) -> None:
        if is_closed(self):
            return
        # Side by side needs room for a whole workflow id; below that, one above the other.
        self.query_one(DetailSummary).set_narrow(event.size.width < NARROW_BELOW)

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
        self.query_one(DetailSummary).set_work_order(self.work_order)
        self._refresh_temporal()
        self._fetch_result()
        self._fetch_workspace()
        if self._view == "diff":
            self._fetch_diff()

    # -- the run log ----------------------------------------------------------------------------
    def _first_page_read(self, first: Page[WorkOrderEvent]) -> None:
        self.on_work_order_detail_screen_older_events_fetched(
            self.OlderEventsFetched(first.page[::-1], not first.isDone, first.continueCursor)
        )

    @work(group="detail-events-first", exclusive=True)
    async def _watch_events(self, first: asyncio.Future[Page[WorkOrderEvent]]) -> None:
        """The newest page (with a cursor for the pages before it) unless on_mount showed it, then
        the live tail."""
        work_order_id = self.work_order.id
        if not first.done():
            try:
                page = await first
            except JangarError as exc:
                self.post_message(self.EventsFailed(exc.message))
            else:
                self.post_message(self.OlderEventsFetched(page.page[::-1], not page.isDone, page.continueCursor))
        elif (error := first.exception()) is not None:
            if not isinstance(error, JangarError):
                raise error
            self.post_message(self.EventsFailed(error.message))
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
            if not message.events and not self._view_chosen and self._view == "log":
                self._show_view("history")  # nothing logged yet: the history says more
        else:
            log.prepend(message.events, more=message.more)
        self._note_usage(message.events)
        self._log_has_events()

    def _log_has_events(self) -> None:
        if not self._view_chosen and self.query_one(EventLogView).last_seq and self._view != "log":
            self._show_view("log")

    def on_work_order_detail_screen_events_failed(self, message: EventsFailed) -> None:
        self._log_error = message.error
        if self.query_one(EventLogView).first_seq is None and not self._view_chosen and self._view == "log":
            self._show_view("history")
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
        if self._view == "log":
            self._update_view_title()

    def _log_title(self) -> str:
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
        return " · ".join(parts)

    def _update_view_title(self) -> None:
        if self._view == "log":
            title = self._log_title()
        else:
            title = self._diff_title if self._view == "diff" else "Event history"
        # One row, the screen's width: its text never changes its size (it streams with the log).
        set_text(self.query_one("#detail-view-title", Static), title, layout=False)

    # -- the views under the summary: the run log, Temporal's history, the diff -----------------
    def _history_table(self) -> DataTable[Text | str]:
        """Temporal's event history, made (and filled) the first time it is shown."""
        tables = self.query(DataTable)
        if tables:
            return tables.first(DataTable)
        table: DataTable[Text | str] = DataTable(id="detail-history", cursor_type="row", zebra_stripes=False)
        # Fixed widths (the table never re-measures as events stream in); details take the rest.
        fixed = (("#", 4), ("time (UTC)", 19), ("event", 30))
        rest = self.app.size.width - sum(width for _, width in fixed) - 2 * (len(fixed) + 1) - 2
        for label, width in (*fixed, ("details", max(DETAILS_MIN_WIDTH, rest))):
            table.add_column(label, width=width)
        self.mount(table, before=self.query_one(KeyBar))
        self._fill_history(table)
        return table

    def _diff_view(self) -> DiffView:
        """The change's view, made the first time it is shown."""
        views = self.query(DiffView)
        if views:
            return views.first(DiffView)
        view = DiffView(id="detail-diff")
        self.mount(view, before=self.query_one(KeyBar))
        return view

    def _show_view(self, name: str) -> None:
        self._view = name
        # The diff takes the whole screen below the title: at 80×24 the fields would leave it a few rows.
        self.set_class(name == "diff", "-diff")
        shown: EventLogView | DataTable[Text | str] | DiffView
        if name == "log":
            shown = self.query_one(EventLogView)
        else:
            shown = self._history_table() if name == "history" else self._diff_view()
        for widget in (*self.query(EventLogView), *self.query(DataTable), *self.query(DiffView)):
            widget.display = widget is shown
        self._update_view_title()
        shown.focus()
        self.refresh_bindings()

    def action_toggle_log(self) -> None:
        self._view_chosen = True
        self._show_view("history" if self._view == "log" else "log")

    def action_toggle_diff(self) -> None:
        self._view_chosen = True
        if self._view == "diff":
            self._show_view("log" if self.query_one(EventLogView).last_seq else "history")
            return
        self._show_view("diff")
        view = self._diff_view()
        if view.diff is None:
            view.show_note("Reading the change…")
            self._diff_title = "Diff"
            self._update_view_title()
        view.scroll_home(animate=False, immediate=True)  # opened again: from the list of files
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
        view = self._diff_view()
        if message.error is not None:
            view.show_note(f"✗ {message.error}", Style(color="red"))
            self._diff_title = "Diff · ✗ the change could not be read"
        elif message.diff is None:
            view.show_note(no_diff_note(self.work_order))
            self._diff_title = "Diff"
        else:
            view.show_diff(message.diff)
            self._diff_title = diff_title(message.diff)
        self._update_view_title()

    def _tick(self) -> None:
        if not self.work_order.status.is_terminal or self._workflow_open:
            self._refresh_temporal()
        if not self.work_order.status.is_terminal and self._view == "diff":
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
        reason: str | None = None
        try:
            message = await self.service.work_order_result(self.work_order)
            reason = await self.service.work_order_failure_reason(self.work_order)
        except JangarError as exc:
            error = exc.message
        self.post_message(self.ResultFetched(message, error, reason))

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
        self.query_one(DetailSummary).set_workspace(message.info, message.error, shown=message.shown)

    def on_work_order_detail_screen_result_fetched(self, message: ResultFetched) -> None:
        self.query_one(DetailSummary).set_result(message.message, message.error, message.reason)

    def on_work_order_detail_screen_temporal_fetched(self, message: TemporalFetched) -> None:
        self.query_one(DetailSummary).set_workflow(message.description, message.error)
        self._workflow_open = message.description is not None and message.description.is_open
        self._history = message.history
        for table in self.query(DataTable):
            self._fill_history(table)

    def _fill_history(self, table: DataTable[Text | str]) -> None:
        history, shown = self._history, table.row_count
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

    def action_cancel_work_order(self) -> None:
        self.cancel(self.work_order)

    def _lister(self) -> WorkOrderActions | None:
        """The screen this detail was opened from (the main screen or the board), when it lists work orders."""
        stack = self.app.screen_stack
        below = stack[-2] if len(stack) > 1 and stack[-1] is self else None
        return below if isinstance(below, WorkOrderActions) else None

    def launch_hint(self) -> str:
        # The retry's draft is not this screen's work order: it is launched from the list below,
        # with that list's key, and is chosen there (action_retry).
        lister = self._lister()
        hint = lister.launch_hint() if lister is not None else super().launch_hint()
        return f"back in the list, {hint}"

    @work(group="detail-action")
    async def action_retry(self) -> None:
        draft = await self.retry(self.work_order)
        if draft is not None and (lister := self._lister()) is not None:
            lister.show_work_order(draft)

    def action_follow_up(self) -> None:
        self.follow_up(self.work_order)

    def action_remove_workspace(self) -> None:
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
        # Asked here, in the key's action: a ctrl+y typed right behind x answers it (lifecycle.ask).
        self._remove_workspace_if_yes(ask(self.app, ConfirmScreen(question, yes="Remove it", no="Keep it")))

    @work(group="detail-action")
    async def _remove_workspace_if_yes(self, answer: Awaitable[bool | None]) -> None:
        if not await answer:
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
