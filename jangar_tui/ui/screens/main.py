"""The main screen: sessions on the left, the chat in the middle, work orders on the right, the
status line on top and the keys at the bottom.

Every pane follows a watch stream of the service. A Textual worker consumes each async iterator
and posts a message with the fresh snapshot; the handler hands it to the one widget it concerns,
which redraws only what changed. Below 110 columns the work-order panel folds away behind ctrl+t
(and then takes the chat's place while shown), so everything stays reachable at 80×24.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static

from jangar_tui.aio import within
from jangar_tui.models import (
    ChatMessage,
    ChatSession,
    ConnectionState,
    JangarError,
    TemporalState,
    WorkOrder,
)
from jangar_tui.ui.clock import Clock
from jangar_tui.ui.keymap import bindings, key_label
from jangar_tui.ui.screens.confirm import ConfirmScreen
from jangar_tui.ui.screens.lifecycle import ask
from jangar_tui.ui.screens.work_order_actions import WorkOrderActions
from jangar_tui.ui.validation import first_line_title
from jangar_tui.ui.widgets.chat.composer import Composer, ComposerInput
from jangar_tui.ui.widgets.chat.reply_view import chat_title
from jangar_tui.ui.widgets.chat.transcript import Transcript
from jangar_tui.ui.widgets.key_bar import KeyBar
from jangar_tui.ui.widgets.sessions.session_list import SessionList
from jangar_tui.ui.widgets.sessions.sidebar import SessionSidebar
from jangar_tui.ui.widgets.status.status_line import StatusLine
from jangar_tui.ui.widgets.work_orders.panel import WorkOrderPanel
from jangar_tui.ui.widgets.work_orders.work_order_list import WorkOrderList

if TYPE_CHECKING:
    from jangar_tui.ui.screens.work_order_form import WorkOrderDraft

# The dialogs (help, rename, work-order form and detail) are imported when first opened: together
# about 20 ms less before the first frame.

MESSAGE_PAGE = 50
MESSAGE_LIMIT_MAX = 10_000
SESSION_PAGE = 500  # sessions watched at first; more as the reader nears the end, or filters
SESSION_LIMIT_MAX = 10_000
NARROW_BELOW = 110
AGE_REFRESH_S = 30.0
DEFAULT_SESSION_TITLE = "New session"
SESSION_OPEN_DELAY_S = 0.05
FIRST_SESSIONS_WAIT_S = 0.25  # at most, before the first frame (see on_mount)
SESSION_BURST_S = 0.1  # a selection change this soon after the previous one is key repeat


class MainScreen(WorkOrderActions):
    BINDINGS = bindings("main")

    # -- messages the watch workers post ----------------------------------------------------------
    class SessionsChanged(Message):
        def __init__(self, limit: int, sessions: list[ChatSession]) -> None:
            self.limit, self.sessions = limit, sessions
            super().__init__()

    class MessagesChanged(Message):
        def __init__(self, session_id: str, limit: int, messages: list[ChatMessage]) -> None:
            self.session_id, self.limit, self.messages = session_id, limit, messages
            super().__init__()

    class WorkOrdersChanged(Message):
        def __init__(self, session_id: str, work_orders: list[WorkOrder]) -> None:
            self.session_id, self.work_orders = session_id, work_orders
            super().__init__()

    class ConnectionChanged(Message):
        def __init__(self, state: ConnectionState) -> None:
            self.state = state
            super().__init__()

    class TemporalChanged(Message):
        def __init__(self, state: TemporalState) -> None:
            self.state = state
            super().__init__()

    class SendFinished(Message):
        def __init__(self, text: str, error: str | None) -> None:
            self.text, self.error = text, error
            super().__init__()

    class FirstScreenShown(Message):
        """The first screenful is drawn: the session list and, when a session is chosen on start, its
        newest messages. The app starts Temporal after it, so the two do not share the CPU."""

    def __init__(
        self,
        *,
        clock: Clock,
        temporal_note: str = "not configured",
        board_seen_at: int | None = None,
        remember_board_seen: Callable[[int], None] | None = None,
    ) -> None:
        """`board_seen_at`: when the board was last left (remembered between runs by
        `remember_board_seen`); the board's "attention" is what ended after it (without it: after
        this start)."""
        super().__init__(id="main")
        self._clock = clock
        self._temporal_note = temporal_note
        self.session: ChatSession | None = None
        self._message_limit = MESSAGE_PAGE
        self._session_limit = SESSION_PAGE
        self._deleted: list[ChatSession] = []  # undo stack of this run
        self._orders_toggled = False
        self._open_timer: Timer | None = None
        self._chosen_at = float("-inf")  # time.monotonic() of the last selection change
        self._first_page_pending = False  # sessions shown on start; the chosen one's page not yet
        self._board_seen_at = clock() if board_seen_at is None else board_seen_at
        self._remember_board_seen = remember_board_seen
        self._jump_to: tuple[str, str] | None = None  # (session, message) a search hit asked to show

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status-line")
        with Horizontal(id="body"):
            yield SessionSidebar(clock=self._clock, id="sidebar")
            with Vertical(id="chat"):
                yield Static("", id="chat-title", classes="pane-title")
                yield Transcript(clock=self._clock, id="transcript")
                yield Composer(id="composer")
            yield WorkOrderPanel(id="work-orders")
        yield KeyBar()

    async def on_mount(self) -> None:
        status = self.query_one(StatusLine)
        status.backend = self.service.store_description
        status.temporal_note = self._temporal_note
        self._apply_layout(self.app.size.width)
        self.query_one(SessionList).focus()
        first_sessions: asyncio.Future[list[ChatSession] | None] = asyncio.get_running_loop().create_future()
        self._watch_sessions(answered=first_sessions)
        self.watch_stream("connection", self.service.watch_connection, self.ConnectionChanged)
        self.start_temporal_watch()
        self.set_interval(AGE_REFRESH_S, self._refresh_ages)
        # Wait (briefly) for the store's first answer and show it right here, not through the
        # queued message: then the first frame already has the session list, instead of a frame of
        # "Loading…" and a second one (~25 ms later on a 2-core machine).
        with contextlib.suppress(TimeoutError):
            sessions = await within(asyncio.shield(first_sessions), FIRST_SESSIONS_WAIT_S)
            if sessions is not None:
                self._show_sessions(sessions, self._session_limit)

    # -- widgets ------------------------------------------------------------------------------------
    @property
    def sidebar(self) -> SessionSidebar:
        return self.query_one(SessionSidebar)

    @property
    def transcript(self) -> Transcript:
        return self.query_one(Transcript)

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    @property
    def work_order_panel(self) -> WorkOrderPanel:
        return self.query_one(WorkOrderPanel)

    # -- watch workers ------------------------------------------------------------------------------
    def start_temporal_watch(self) -> None:
        """Called on mount and again by the app once its runtime has started Temporal."""
        if self.service.launcher is None:
            return  # not configured, or the runtime has not started it yet

        def open_stream() -> AsyncIterator[TemporalState]:
            stream = self.service.watch_temporal()
            assert stream is not None  # the launcher is never taken away
            return stream

        self.watch_stream("temporal", open_stream, self.TemporalChanged)

    def temporal_unavailable(self, note: str) -> None:
        self.query_one(StatusLine).temporal_note = note

    def _watch_sessions(self, *, answered: asyncio.Future[list[ChatSession] | None] | None = None) -> None:
        limit = self._session_limit
        self.watch_stream(
            "sessions",
            lambda: self.service.watch_sessions(limit),
            lambda sessions: self.SessionsChanged(limit, sessions),
            answered=answered,
        )

    @on(SessionList.MoreRequested)
    def _more_sessions(self, event: SessionList.MoreRequested) -> None:
        if self._session_limit >= SESSION_LIMIT_MAX:
            return
        wanted = SESSION_LIMIT_MAX if event.everything else self._session_limit + SESSION_PAGE
        self._session_limit = min(SESSION_LIMIT_MAX, wanted)
        self._watch_sessions()

    def on_main_screen_sessions_changed(self, message: SessionsChanged) -> None:
        if message.limit != self._session_limit:
            return  # from a watch that was already replaced
        if message.sessions is self.sidebar.session_list.sessions:
            return  # the first snapshot, already shown by on_mount
        self._show_sessions(message.sessions, message.limit)

    def _show_sessions(self, sessions: list[ChatSession], limit: int) -> None:
        first = not self.sidebar.session_list.loaded
        has_more = len(sessions) >= limit and limit < SESSION_LIMIT_MAX
        self.sidebar.set_sessions(sessions, has_more=has_more)
        if first:
            if sessions:
                self._first_page_pending = True  # FirstScreenShown comes with the chosen session's page
            else:
                self.call_after_refresh(self.post_message, self.FirstScreenShown())
            if not sessions:
                # Nothing to pick yet: the empty state says "just type below", and letters typed
                # into the list would run its single-key actions instead.
                self.query_one(ComposerInput).focus()

    def on_main_screen_connection_changed(self, message: ConnectionChanged) -> None:
        status = self.query_one(StatusLine)
        status.connection_detail = self.service.connection_detail()
        status.connection = message.state
        if message.state != ConnectionState.LIVE:
            # Before the first snapshot the panes would say "Loading…" for as long as it lasts.
            self.query_one(SessionSidebar).show_unreachable(status.connection_detail)
            if self.session is None and self.transcript.placeholder == "Loading…":
                why = f": {status.connection_detail}" if status.connection_detail else ""
                self.transcript.clear_messages(f"Cannot reach the data{why}. Retrying…")

    def on_main_screen_temporal_changed(self, message: TemporalChanged) -> None:
        self.query_one(StatusLine).temporal = message.state

    def on_main_screen_messages_changed(self, message: MessagesChanged) -> None:
        if self.session is None or message.session_id != self.session.id or message.limit != self._message_limit:
            return  # from a watch that was already replaced
        has_more = len(message.messages) >= message.limit and message.limit < MESSAGE_LIMIT_MAX
        self.transcript.answering = self.service.answers_chat
        self.transcript.set_messages(message.messages, has_more=has_more)
        self._show_chat_title(message.messages)
        if not message.messages:
            self.transcript.clear_messages(
                f"No messages yet: write below, {key_label(self.app, 'composer', 'send')} sends."
            )
        if self._first_page_pending:
            self._first_page_pending = False
            self.call_after_refresh(self.post_message, self.FirstScreenShown())
        self._jump_to_message()

    def on_main_screen_work_orders_changed(self, message: WorkOrdersChanged) -> None:
        if self.session is not None and message.session_id == self.session.id:
            self.work_order_panel.set_work_orders(message.work_orders)

    def _refresh_ages(self) -> None:
        self.query_one(SessionList).refresh_ages()
        self.transcript.refresh()

    # -- the chosen session -------------------------------------------------------------------------
    @on(SessionList.SessionChosen)
    def _session_chosen(self, event: SessionList.SessionChosen) -> None:
        previous = self.session
        self.session = event.session
        same = previous is not None and event.session is not None and previous.id == event.session.id
        # Another session's tokens come with its messages; until then the title stands alone.
        self._show_chat_title(self.transcript.messages if same else [])
        if same:
            return  # only the title changed
        # Holding ↓ through a long list must not subscribe to every session on the way: within a
        # burst of changes each one waits a moment; a single change opens at once.
        now, previous_at = time.monotonic(), self._chosen_at
        self._chosen_at = now
        if self._open_timer is not None:
            self._open_timer.stop()
            self._open_timer = None
        if now - previous_at < SESSION_BURST_S:
            self._open_timer = self.set_timer(SESSION_OPEN_DELAY_S, self._open_session)
        else:
            self._open_session()

    def _show_chat_title(self, messages: list[ChatMessage]) -> None:
        """The chosen session's title, with its tokens so far from `messages` (its own)."""
        title = self.query_one("#chat-title", Static)
        title.update(chat_title(self.session.title, messages) if self.session is not None else "No session")

    def _open_session(self) -> None:
        self._open_timer = None
        session = self.session
        if session is None:
            if not self.sidebar.session_list.loaded:
                return  # the first snapshot is still on its way: "Loading…" stays
            new = key_label(self.app, "main", "new_session")
            self.transcript.clear_messages(f"No session yet.\nType a message below to start one, or press {new}.")
            self.work_order_panel.show_placeholder("Work orders belong to a session.")
            self.workers.cancel_group(self, "messages")
            self.workers.cancel_group(self, "work-orders")
            return
        self._message_limit = MESSAGE_PAGE
        self.transcript.clear_messages("Loading…")
        self._watch_messages()
        session_id = session.id
        self.watch_stream(
            "work-orders",
            lambda: self.service.watch_work_orders(session_id),
            lambda work_orders: self.WorkOrdersChanged(session_id, work_orders),
        )

    def _watch_messages(self) -> None:
        assert self.session is not None
        session_id, limit = self.session.id, self._message_limit
        self.watch_stream(
            "messages",
            lambda: self.service.watch_messages(session_id, limit),
            lambda messages: self.MessagesChanged(session_id, limit, messages),
        )

    @on(Transcript.OlderRequested)
    def _load_older(self) -> None:
        if self.session is None or self._message_limit >= MESSAGE_LIMIT_MAX:
            return
        self._message_limit = min(MESSAGE_LIMIT_MAX, self._message_limit + MESSAGE_PAGE)
        self._watch_messages()

    # -- sending ------------------------------------------------------------------------------------
    @on(ComposerInput.Submitted)
    def _submitted(self, event: ComposerInput.Submitted) -> None:
        self._send(event.text)

    @work(group="send", exclusive=False)
    async def _send(self, text: str) -> None:
        try:
            session = self.session
            if session is None:
                session = await self.service.new_session(first_line_title(text) or DEFAULT_SESSION_TITLE)
                self.query_one(SessionList).choose(session.id)
            elif session.title == DEFAULT_SESSION_TITLE and not self.transcript.messages:
                # The first message names a session that was started without a title.
                title = first_line_title(text)
                if title:
                    await self.service.rename_session(session.id, title)
            await self.service.send_message(session.id, text)
        except JangarError as error:
            self.post_message(self.SendFinished(text, error.message))
            return
        self.post_message(self.SendFinished(text, None))

    @work(group="interrupt", exclusive=True)
    async def action_interrupt_reply(self) -> None:
        session = self.session
        if session is None or not self.transcript.reply_under_way():
            self.notify("No reply is being written in this session.", markup=False)
            return
        try:
            await self.service.interrupt_reply(session.id)
        except JangarError as error:
            self.notify(error.message, severity="warning", markup=False)

    def on_main_screen_send_finished(self, message: SendFinished) -> None:
        if message.error is not None:
            self.composer.show_error(message.error)  # the text stays in the input
            return
        self.composer.sent(message.text)
        self.transcript.action_select_none()

    # -- layout ---------------------------------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        self._apply_layout(event.size.width)

    def _apply_layout(self, width: int) -> None:
        narrow = width < NARROW_BELOW
        if narrow != self.has_class("-narrow"):
            # Across the threshold each width starts from its own default (wide: all three panes;
            # narrow: folded): a panel opened at 80 columns stays open when the terminal grows.
            self._orders_toggled = False
        visible = narrow == self._orders_toggled  # wide: shown unless toggled; narrow: the reverse
        self.set_class(narrow, "-narrow")
        self.set_class(not visible, "-orders-hidden")
        self.set_class(visible and narrow, "-orders-over-chat")
        self._focus_something_shown()

    def _focus_something_shown(self) -> None:
        """Keys typed into a pane that folded away would go nowhere: the input takes the focus."""
        focused = self.focused
        if focused is not None and not all(node.display for node in focused.ancestors_with_self):
            self.query_one(ComposerInput).focus()

    @property
    def orders_visible(self) -> bool:
        return not self.has_class("-orders-hidden")

    def action_toggle_work_orders(self) -> None:
        self._orders_toggled = not self._orders_toggled
        self._apply_layout(self.app.size.width)
        if self.orders_visible:
            self.query_one(WorkOrderList).focus()
        elif self.focused is None:
            self.query_one(ComposerInput).focus()

    def _show_orders(self) -> None:
        if not self.orders_visible:
            self.action_toggle_work_orders()

    # -- session actions ----------------------------------------------------------------------------
    @work(group="session-action")
    async def action_new_session(self) -> None:
        try:
            session = await self.service.new_session(DEFAULT_SESSION_TITLE)
        except JangarError as error:
            self.report_error(f"No session created: {error.message}")
            return
        self.sidebar.session_list.choose(session.id)
        self.query_one(ComposerInput).focus()

    def action_filter_sessions(self) -> None:
        if self.has_class("-orders-over-chat"):
            self.action_toggle_work_orders()
        self.sidebar.open_filter()

    def _highlighted_session(self) -> ChatSession | None:
        # The list's highlight, not `self.session`: a key right after ↓ (a burst) comes before
        # the list's SessionChosen reaches this screen, and must act on the session highlighted.
        return self.sidebar.session_list.chosen

    # The dialogs open in the key's action, not in the worker that acts on the answer: the keys
    # typed right behind (ctrl+y after del, a new title after f2) then reach them (lifecycle.ask).
    def action_rename_session(self) -> None:
        session = self._highlighted_session()
        if session is None:
            self.report_error("No session to rename.")
            return
        from jangar_tui.ui.screens.rename import RenameScreen

        self._rename_session(session, ask(self.app, RenameScreen(session.title)))

    @work(group="session-action")
    async def _rename_session(self, session: ChatSession, answer: Awaitable[str | None]) -> None:
        title = await answer
        if title is None:
            return
        try:
            await self.service.rename_session(session.id, title)
        except JangarError as error:
            self.report_error(f"Not renamed: {error.message}")

    def action_delete_session(self) -> None:
        session = self._highlighted_session()
        if session is None:
            self.report_error("No session to delete.")
            return
        question = ConfirmScreen(f"Delete “{session.title}”?\n{self._undo_key()} restores it.", yes="Delete", no="Keep")
        self._delete_session(session, ask(self.app, question))

    @work(group="session-action")
    async def _delete_session(self, session: ChatSession, answer: Awaitable[bool | None]) -> None:
        if not await answer:
            return
        try:
            await self.service.delete_session(session.id)
        except JangarError as error:
            self.report_error(f"Not deleted: {error.message}")
            return
        self._deleted.append(session)
        self.report_done(f"Deleted “{session.title}”. Press {self._undo_key()} to undo.")

    def _undo_key(self) -> str:
        return key_label(self.app, "sessions", "screen.undo_delete")

    @work(group="session-action")
    async def action_undo_delete(self) -> None:
        if not self._deleted:
            self.report_error("Nothing to undo.")
            return
        session = self._deleted.pop()
        try:
            restored = await self.service.restore_session(session.id)
        except JangarError as error:
            self._deleted.append(session)
            self.report_error(f"Not restored: {error.message}")
            return
        self.sidebar.session_list.choose(restored.id)
        self.report_done(f"Restored “{restored.title}”.")

    def action_focus_composer(self) -> None:
        if self.has_class("-orders-over-chat"):
            self.action_toggle_work_orders()
        self.query_one(ComposerInput).focus()

    def action_focus_transcript(self) -> None:
        self.transcript.focus()

    def action_copy_message(self) -> None:
        message = self.transcript.selected_message
        if message is None:
            self.report_error(
                f"Select a message first ({key_label(self.app, 'transcript', 'select_previous')} in the transcript)."
            )
            return
        self.app.copy_to_clipboard(message.content)
        self.report_done("Message copied.")

    # -- work-order actions -------------------------------------------------------------------------
    @work(group="work-order-action")
    async def action_new_work_order(self) -> None:
        session = self.session
        if session is None:
            self.report_error(f"Start a session first ({key_label(self.app, 'main', 'new_session')}).")
            return
        from jangar_tui.ui.screens.work_order_form import WorkOrderFormScreen

        message = self.transcript.selected_message
        if message is not None:
            form = WorkOrderFormScreen(
                check_repo=self.service.check_target_repo,
                title=first_line_title(message.content),
                prompt=message.content,
                source="the selected message",
            )
        else:
            try:
                prompt = await self.service.conversation_prompt(session.id)
            except JangarError as error:  # the form still opens: the prompt can be written by hand
                self.report_error(f"The conversation could not be read: {error.message}")
                prompt = ""
            form = WorkOrderFormScreen(
                check_repo=self.service.check_target_repo,
                title=session.title,
                prompt=prompt,
                source="the conversation",
            )
        draft: WorkOrderDraft | None = await self.app.push_screen_wait(form)
        if draft is None:
            return
        try:
            work_order = await self.service.create_work_order(
                session.id,
                title=draft.title,
                prompt=draft.prompt or None,
                target_repo=draft.target_repo,
                target_branch=draft.target_branch,
                github_issue_url=draft.github_issue_url,
            )
        except JangarError as error:
            self.report_error(f"No work order created: {error.message}")
            return
        self._show_orders()
        self.query_one(WorkOrderList).focus()
        self.work_order_panel.work_order_list.choose(work_order.id)
        if draft.launch:
            await self.launch(work_order)
        else:
            self.report_done(f"Draft saved: {self.launch_hint()}.")

    def report_work_order_error(self, text: str) -> None:
        super().report_work_order_error(text)
        self.work_order_panel.show_error(text)

    def report_done(self, text: str) -> None:
        super().report_done(text)
        self.work_order_panel.show_error(None)

    def _chosen_work_order(self) -> WorkOrder | None:
        work_order = self.work_order_panel.work_order_list.chosen
        if work_order is None:
            panel = key_label(self.app, "main", "toggle_work_orders")
            self.report_error(f"Select a work order first ({panel} shows the panel).")
        return work_order

    @work(group="work-order-action")
    async def action_launch_work_order(self) -> None:
        if work_order := self._chosen_work_order():
            await self.launch(work_order)

    def action_cancel_work_order(self) -> None:
        if work_order := self._chosen_work_order():
            self.cancel(work_order)

    @work(group="work-order-action")
    async def action_retry_work_order(self) -> None:
        if work_order := self._chosen_work_order():
            draft = await self.retry(work_order)
            if draft is not None:
                self.show_work_order(draft)

    def action_follow_up_work_order(self) -> None:
        if work_order := self._chosen_work_order():
            self.follow_up(work_order, then=self.show_work_order)

    def show_work_order(self, work_order: WorkOrder) -> None:
        self.work_order_panel.work_order_list.choose(work_order.id)

    def action_open_detail(self) -> None:
        if work_order := self._chosen_work_order():
            from jangar_tui.ui.screens.work_order_detail import WorkOrderDetailScreen

            self.app.push_screen(WorkOrderDetailScreen(work_order))

    def action_board(self) -> None:
        from jangar_tui.ui.screens.board import BoardScreen

        board = BoardScreen(seen_since=self._board_seen_at, open_session=self.open_session, clock=self._clock)
        self.app.push_screen(board, callback=self._board_closed)

    def _board_closed(self, _: object) -> None:
        self._board_seen_at = self._clock()
        if self._remember_board_seen is not None:
            self._remember_board_seen(self._board_seen_at)

    def open_session(self, session_id: str) -> None:
        """Show a session (chosen elsewhere, e.g. on the board) in the list and the transcript."""
        if all(s.id != session_id for s in self.sidebar.session_list.shown):
            self.sidebar.clear_filter()  # the filter may hide it
        self.sidebar.session_list.choose(session_id)
        self.sidebar.session_list.focus()

    def open_message(self, session_id: str, message_id: str) -> None:
        """Show a session with one of its messages selected (a search hit), however old it is."""
        self._jump_to = (session_id, message_id)
        already_open = self.session is not None and self.session.id == session_id
        self.open_session(session_id)
        if already_open:
            self._jump_to_message()

    def _jump_to_message(self) -> None:
        """Select the message a search hit asked for once the transcript holds it; until then load
        older pages, four times as many each time, so even the oldest of 10,000 takes a few steps."""
        if self._jump_to is None or self.session is None or self.session.id != self._jump_to[0]:
            return
        message_id = self._jump_to[1]
        if self.transcript.show_message(message_id):
            self._jump_to = None
            self.transcript.focus()
        elif self.transcript.has_more and self._message_limit < MESSAGE_LIMIT_MAX:
            self._message_limit = min(MESSAGE_LIMIT_MAX, self._message_limit * 4)
            self._watch_messages()
        else:
            self._jump_to = None
            self.report_error("That message is no longer in the session (deleted since the search?).")

    def action_copy_pr_url(self) -> None:
        if work_order := self._chosen_work_order():
            self.copy_pr_url(work_order)

    def action_copy_workflow_id(self) -> None:
        if work_order := self._chosen_work_order():
            self.copy_workflow_id(work_order)
