"""The session sidebar: a title with the count, the `/` filter input and the session list."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static

from jangar_tui.models import ChatSession
from jangar_tui.ui.clock import Clock, system_clock
from jangar_tui.ui.keymap import bindings, key_label
from jangar_tui.ui.widgets.sessions.session_list import SessionList
from jangar_tui.ui.widgets.text import set_text


class FilterInput(Input):
    BINDINGS = bindings("filter")

    def action_clear(self) -> None:
        self.value = ""
        self.display = False
        self.screen.query_one(SessionList).focus()


class SessionSidebar(Vertical):
    def __init__(self, *, clock: Clock = system_clock, id: str | None = None) -> None:
        super().__init__(id=id)
        self._clock = clock
        self._loaded = False

    def compose(self) -> ComposeResult:
        # The filter input is mounted the first time `/` asks for it: one widget less to style and
        # lay out before the first frame.
        yield Static("Sessions", id="sessions-title", classes="pane-title")
        yield Static("Loading…", id="sessions-empty", classes="empty-hint")
        yield SessionList(clock=self._clock, id="session-list")

    @property
    def session_list(self) -> SessionList:
        return self.query_one(SessionList)

    def set_sessions(self, sessions: list[ChatSession], *, has_more: bool = False) -> None:
        self._loaded = True
        self.session_list.set_sessions(sessions, has_more=has_more)
        self._update_title()

    def show_unreachable(self, reason: str | None) -> None:
        """While nothing was ever loaded: why not, instead of "Loading…" (the list comes by itself
        once the backend answers)."""
        if self._loaded:
            return
        why = f": {reason}" if reason else ""
        set_text(self.query_one("#sessions-empty", Static), f"Cannot reach the data{why}.\nRetrying…")

    def open_filter(self, typed: str = "") -> None:
        """Show the filter and focus it; `typed` (letters typed on the list) is added to its end.

        Letters of a fast burst can reach the list before the focus has moved to the filter:
        each lands here in turn, so the filter gets them in the order typed."""
        if fields := self.query(FilterInput):
            field = fields.first()
            field.display = True
            if typed:
                field.value += typed
        else:
            # Not selected on focus: the letter that opened the filter would be replaced by the next.
            field = FilterInput(typed, placeholder="filter titles…", id="session-filter", select_on_focus=False)
            self.mount(field, after="#sessions-title")
        field.cursor_position = len(field.value)
        field.focus()

    def clear_filter(self) -> None:
        """Show every session again (one chosen elsewhere may be hidden by the filter)."""
        for field in self.query(FilterInput):
            field.value = ""
            field.display = False
        self.session_list.set_filter("")
        self._update_title()

    @on(SessionList.FilterTyped)
    def _filter_typed(self, event: SessionList.FilterTyped) -> None:
        event.stop()
        self.open_filter(event.text)

    @on(Input.Changed, "#session-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.session_list.set_filter(event.value)
        self._update_title()

    @on(Input.Submitted, "#session-filter")
    def _filter_submitted(self) -> None:
        self.session_list.focus()

    def _update_title(self) -> None:
        listing = self.session_list
        total, shown = len(listing.sessions), len(listing.shown)
        more = "+" if listing.has_more else ""  # older sessions exist beyond those loaded
        count = f"{shown}/{total}{more}" if shown != total else f"{total}{more}"
        set_text(self.query_one("#sessions-title", Static), f"Sessions ({count})")
        hint = self.query_one("#sessions-empty", Static)
        if total == 0:
            set_text(
                hint, f"No sessions yet.\n{key_label(self.app, 'main', 'new_session')} starts one,\nor just type below."
            )
        elif shown == 0:
            set_text(hint, f"No title matches the filter.\n{key_label(self.app, 'filter', 'clear')} clears it.")
        hint.display = shown == 0
