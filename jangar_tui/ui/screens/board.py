"""The board: work orders across all of the operator's sessions, by what they need from them.

Four views (keys 1-4 unless rebound): ended since the board was last closed (needs attention),
running (submitted, accepted, running), drafts, done. Only the operator's own work orders (those of
their sessions): each status is read by its own live watch on the (ownerId, status, updatedAt)
index, at most `BOARD_LIMIT` rows each, never a scan of the table. The table
(`BoardTable`) draws lines from strips cached per work order, so a change redraws one row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import Static

from jangar_tui.models import (
    LAUNCHED_STATUSES,
    TERMINAL_STATUSES,
    ChatSession,
    JangarError,
    WorkOrder,
    WorkOrderStatus,
)
from jangar_tui.ui.clock import Clock, relative_time, system_clock
from jangar_tui.ui.keymap import bindings, joined_keys, key_label
from jangar_tui.ui.screens.lifecycle import is_closed
from jangar_tui.ui.screens.work_order_actions import WorkOrderActions
from jangar_tui.ui.widgets.key_bar import KeyBar
from jangar_tui.ui.widgets.work_orders.applies import key_applies
from jangar_tui.ui.widgets.work_orders.board_table import CELL_PADDING, BoardTable, fit

S = WorkOrderStatus
BOARD_LIMIT = 100  # rows per status watched, and per view shown: the newest by updatedAt
SESSIONS_WATCHED = 200  # session titles followed live; older sessions' are read when shown
AGE_REFRESH_S = 30.0

# view -> (its name, the statuses it shows)
VIEWS: dict[str, tuple[str, frozenset[WorkOrderStatus]]] = {
    "attention": ("Attention", TERMINAL_STATUSES),
    "running": ("Running", LAUNCHED_STATUSES),
    "drafts": ("Drafts", frozenset({S.DRAFT})),
    "done": ("Done", TERMINAL_STATUSES),
}
VIEW_ORDER = tuple(VIEWS)
# What a view with no rows says, once its statuses are read.
EMPTY_NOTES: dict[str, str] = {
    "attention": "No work order has ended since you last looked.",
    "running": "No work order is running.",
    "drafts": "No drafts.",
    "done": "No work order has ended yet.",
}


def view_rows(by_status: dict[WorkOrderStatus, list[WorkOrder]], view: str, seen_since: int) -> list[WorkOrder]:
    """The work orders a view shows, most recently updated first. "attention" is every work order
    that ended after `seen_since` (when the operator last left the board)."""
    rows = [w for status in VIEWS[view][1] for w in by_status.get(status, [])]
    if view == "attention":
        rows = [w for w in rows if w.updatedAt > seen_since]
    rows.sort(key=lambda w: w.updatedAt, reverse=True)
    return rows[:BOARD_LIMIT]


class BoardScreen(WorkOrderActions):
    BINDINGS = bindings("board")
    LAUNCH_KEY = ("board", "launch_work_order")

    class StatusChanged(Message):
        def __init__(self, status: WorkOrderStatus, work_orders: list[WorkOrder]) -> None:
            self.status, self.work_orders = status, work_orders
            super().__init__()

    class SessionsChanged(Message):
        def __init__(self, sessions: list[ChatSession]) -> None:
            self.sessions = sessions
            super().__init__()

    # Column key -> (label, width at 80 columns, how many of each 12 columns beyond 80 it takes, its
    # widest). The title takes what is left.
    COLUMNS: ClassVar[dict[str, tuple[str, int, int, int]]] = {
        "status": ("Status", 11, 0, 11),
        "title": ("Title", 0, 0, 0),
        "target": ("Repo @ branch", 14, 3, 32),
        "age": ("Age", 4, 0, 4),
        "session": ("Session", 12, 2, 24),
        "pr": ("PR", 5, 0, 5),
    }

    def __init__(
        self,
        *,
        seen_since: int,
        open_session: Callable[[str], None],
        clock: Clock = system_clock,
        view: str = "running",
    ) -> None:
        super().__init__(classes="board")
        self._open_session = open_session
        self._clock = clock
        self.seen_since = seen_since
        self.view = view
        self.by_status: dict[WorkOrderStatus, list[WorkOrder]] = {}
        self._watched: set[WorkOrderStatus] = set()
        self._live_titles: dict[str, str] = {}  # the newest sessions', live
        self._older_titles: dict[str, str] = {}  # others', read once when a row shows them
        self._lookup_pending = False
        self._reasons: dict[str, str] = {}  # failed work order id -> why (it never changes)
        self._reasons_asked: set[str] = set()
        self._title_width = 0  # the columns are laid out again when the title's width changes
        self._refresh_pending = False
        self._title = Text()

    def compose(self) -> ComposeResult:
        yield Static("", id="board-title", classes="pane-title")
        yield Static("", id="board-header")
        yield BoardTable(id="board-table")
        yield KeyBar()

    def on_mount(self) -> None:
        if is_closed(self):
            return
        self._layout_columns(self.app.size.width)
        self._show_title()
        # The view shown first is read first; the other statuses once it is on screen.
        for status in sorted(VIEWS[self.view][1]):
            self._watch(status)
        self._watch_sessions()
        self.set_interval(AGE_REFRESH_S, self._refresh_table)
        self.table.focus()

    @property
    def table(self) -> BoardTable:
        return self.query_one(BoardTable)

    @property
    def chosen(self) -> WorkOrder | None:
        return self.table.chosen

    @property
    def rows(self) -> list[WorkOrder]:
        """The work orders the table shows, top to bottom."""
        return self.table.rows

    # -- watches -----------------------------------------------------------------------------------
    def _watch(self, status: WorkOrderStatus) -> None:
        if status in self._watched:
            return
        self._watched.add(status)
        self.watch_stream(
            f"board-{status.value}",
            lambda: self.service.watch_work_orders_by_status(status, BOARD_LIMIT),
            lambda orders: self.StatusChanged(status, orders),
            what=f"{status.value} work orders",
        )

    def _watch_sessions(self) -> None:
        self.watch_stream(
            "board-sessions",
            lambda: self.service.watch_sessions(SESSIONS_WATCHED),
            self.SessionsChanged,
            what="sessions",
        )

    def _watch_the_rest(self) -> None:
        for status in sorted(S):
            self._watch(status)

    def on_board_screen_status_changed(self, message: StatusChanged) -> None:
        self.by_status[message.status] = message.work_orders
        self._show_title()
        if message.status in VIEWS[self.view][1]:
            self._refresh_soon()
        if len(self._watched) < len(S) and VIEWS[self.view][1] <= self.by_status.keys():
            self.call_after_refresh(self._watch_the_rest)

    def on_board_screen_sessions_changed(self, message: SessionsChanged) -> None:
        titles = {s.id: s.title for s in message.sessions}
        if titles != self._live_titles:
            self._live_titles = titles
            self._refresh_soon()

    def _session_title(self, session_id: str) -> str:
        title = self._live_titles.get(session_id)
        if title is None:
            title = self._older_titles.get(session_id)
        if title is None:
            self._look_up_titles()
        return title or ""

    def _look_up_titles(self) -> None:
        """Sessions beyond the newest SESSIONS_WATCHED: read once each, when a row shows one."""
        if not self._lookup_pending:
            self._lookup_pending = True
            self.call_later(self._read_missing_titles)

    @work(group="board-titles", exit_on_error=False)
    async def _read_missing_titles(self) -> None:
        self._lookup_pending = False
        missing = list({w.sessionId for w in self.rows} - self._live_titles.keys() - self._older_titles.keys())
        found = await asyncio.gather(*(self._read_title(i) for i in missing))
        self._older_titles.update(zip(missing, found, strict=True))
        if any(found):
            self._refresh_soon()

    async def _read_title(self, session_id: str) -> str:
        try:
            return (await self.service.get_session(session_id)).title
        except JangarError:
            return ""  # deleted meanwhile, or unreachable: the row shows none

    def _reason(self, work_order: WorkOrder) -> str | None:
        """A failed work order's reason, read once when its row is first shown (None until then)."""
        if work_order.status != S.FAILED:
            return None
        if work_order.id not in self._reasons_asked:
            self._reasons_asked.add(work_order.id)
            self.call_later(self._read_reason, work_order)  # drawn in a paint: read after it
        return self._reasons.get(work_order.id)

    @work(group="board-reasons", exit_on_error=False)
    async def _read_reason(self, work_order: WorkOrder) -> None:
        try:
            reason = await self.service.work_order_failure_reason(work_order)
        except JangarError:
            self._reasons_asked.discard(work_order.id)  # asked again when the row is drawn again
            return
        if reason:
            self._reasons[work_order.id] = reason
            self._refresh_soon()

    def _refresh_soon(self) -> None:
        """Refresh once for every snapshot already queued (the watches answer in a burst)."""
        if not self._refresh_pending:
            self._refresh_pending = True
            self.call_later(self._refresh_table)

    # -- drawing -----------------------------------------------------------------------------------
    def _show_title(self) -> None:
        title = Text("Board ", style="bold")
        for view, key in zip(VIEW_ORDER, self._view_keys(), strict=True):
            name = VIEWS[view][0]
            known = VIEWS[view][1] <= self.by_status.keys()
            count = len(view_rows(self.by_status, view, self.seen_since)) if known else "…"
            entry = f" {key} {name} {count} "
            title.append(entry, style="reverse bold" if view == self.view else "")
        if title != self._title:
            self._title = title
            self.query_one("#board-title", Static).update(title, layout=False)  # one line: no layout pass

    def _view_keys(self) -> list[str]:
        """The key of each view, in VIEW_ORDER: "1" to "4" unless config.toml's [keys] rebinds them."""
        return [key_label(self.app, "board", f"show_view('{view}')") for view in VIEW_ORDER]

    def _layout_columns(self, width: int) -> None:
        beyond = max(0, width - 80) // 12
        widths = {key: min(widest, base + share * beyond) for key, (_, base, share, widest) in self.COLUMNS.items()}
        padding = 2 * CELL_PADDING * len(self.COLUMNS)
        widths["title"] = max(8, width - sum(widths.values()) - padding - 2)
        if widths["title"] == self._title_width:
            return
        self._title_width = widths["title"]
        columns = tuple((key, widths[key]) for key in self.COLUMNS)
        self.table.set_columns(columns)
        header = "".join(f" {fit(label, widths[key])} " for key, (label, *_) in self.COLUMNS.items())
        self.query_one("#board-header", Static).update(Text(header), layout=False)

    def on_resize(self) -> None:
        if is_closed(self):
            return
        self._layout_columns(self.app.size.width)

    def _refresh_table(self) -> None:
        self._refresh_pending = False
        rows = view_rows(self.by_status, self.view, self.seen_since)
        now = self._clock()
        loaded = VIEWS[self.view][1] <= self.by_status.keys()
        self.table.set_rows(
            rows,
            session_title=self._session_title,
            age=lambda updated_at: relative_time(updated_at, now),
            note=EMPTY_NOTES[self.view] if loaded else "Loading…",
            reason=self._reason,
        )
        self.refresh_bindings()

    # -- actions -----------------------------------------------------------------------------------
    def key_applies(self, action: str) -> bool:
        return key_applies(action, self.chosen)

    @on(BoardTable.Highlighted)
    def _row_highlighted(self) -> None:
        self.refresh_bindings()

    def action_show_view(self, view: str) -> None:
        if view in VIEWS and view != self.view:
            self.view = view
            self._watch_the_rest()
            self._refresh_table()
            self._show_title()

    def action_next_view(self, step: int) -> None:
        self.action_show_view(VIEW_ORDER[(VIEW_ORDER.index(self.view) + step) % len(VIEW_ORDER)])

    def action_close(self) -> None:
        self.dismiss()

    def _chosen_or_say(self) -> WorkOrder | None:
        work_order = self.chosen
        if work_order is None:
            self.report_error(f"No work order here: {joined_keys(self._view_keys())} switch views.")
        return work_order

    def action_open_detail(self) -> None:
        if work_order := self._chosen_or_say():
            from jangar_tui.ui.screens.work_order_detail import WorkOrderDetailScreen

            self.app.push_screen(WorkOrderDetailScreen(work_order))

    @work(group="board-action")
    async def action_launch_work_order(self) -> None:
        if work_order := self._chosen_or_say():
            await self.launch(work_order)

    def action_cancel_work_order(self) -> None:
        if work_order := self._chosen_or_say():
            self.cancel(work_order)

    @work(group="board-action")
    async def action_retry_work_order(self) -> None:
        if work_order := self._chosen_or_say():
            draft = await self.retry(work_order)
            if draft is not None:
                self.show_work_order(draft)

    def show_work_order(self, work_order: WorkOrder) -> None:
        """Open the view that lists it (a draft: the drafts view) and choose it there."""
        view = next(view for view in VIEW_ORDER if work_order.status in VIEWS[view][1])
        self.action_show_view(view)
        self.table.choose(work_order.id)

    def action_follow_up_work_order(self) -> None:
        if work_order := self._chosen_or_say():
            self.follow_up(work_order)

    def action_open_session(self) -> None:
        if work_order := self._chosen_or_say():
            self.dismiss()
            self._open_session(work_order.sessionId)
