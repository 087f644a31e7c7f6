"""The session sidebar's list: an OptionList (virtualized), newest activity first, filterable.

One option per session: the title cut to the width and the relative time of its last message,
right-aligned. Snapshots from the store replace the options only when something shown changed.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.css.styles import RulesMap
from textual.message import Message
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.visual import RenderOptions, Visual
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from jangar_tui.models import ChatSession
from jangar_tui.ui.clock import Clock, relative_time, system_clock
from jangar_tui.ui.keymap import bindings
from jangar_tui.ui.safe_text import one_line

_UNSET = object()
_DIM = Style(dim=True)
MORE_WITHIN_ROWS = 20  # this close to the end of the loaded sessions, ask for the next page


class SessionRow(Visual):
    """One line: the title (cut with an ellipsis) and the age, right-aligned.

    Drawn straight into a Strip: going through Rich's console (a renderable per row) made the
    session list the costliest widget of the first frame.
    """

    def __init__(self, title: str, age: str) -> None:
        self.title, self.age = title, age

    def render_strips(self, width: int, height: int | None, style: VisualStyle, options: RenderOptions) -> list[Strip]:
        base = style.rich_style
        age = f" {self.age}"
        room = max(1, width - cell_len(age))
        title = self.title if cell_len(self.title) <= room else set_cell_size(self.title, room - 1) + "…"
        segments = [Segment(set_cell_size(title, room), base), Segment(age, base + _DIM)]
        return [Strip(segments, room + cell_len(age))]

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return cell_len(self.title) + 1 + cell_len(self.age)

    def get_height(self, rules: RulesMap, width: int) -> int:
        return 1


class SessionList(OptionList):
    BINDINGS = bindings("sessions")

    class MoreRequested(Message):
        """Older sessions exist beyond those loaded: the highlight neared the end (the next page is
        wanted) or a filter is typed (`everything`: a filter must search them all)."""

        def __init__(self, *, everything: bool) -> None:
            self.everything = everything
            super().__init__()

    class FilterTyped(Message):
        """A character was typed on the list: it goes to the filter."""

        def __init__(self, text: str) -> None:
            self.text = text
            super().__init__()

    class SessionChosen(Message):
        """The highlighted session changed (None: the list is empty)."""

        def __init__(self, session: ChatSession | None) -> None:
            self.session = session
            super().__init__()

    def __init__(self, *, clock: Clock = system_clock, id: str | None = None) -> None:
        super().__init__(id=id)
        self._clock = clock
        self._sessions: list[ChatSession] = []
        self._shown: list[ChatSession] = []
        self._shown_key: tuple[tuple[str, str, str], ...] = ()
        self._filter = ""
        self._typing_filter = False  # letters typed here went to the filter since the list got the focus
        self._want_id: str | None = None  # the session to keep highlighted across snapshots
        self._announced: object = _UNSET  # (id, title) last told to the screen
        self._more_requested = False  # asked for more; cleared when the larger snapshot arrives
        self._rebuilding = False  # set_options() passes through "nothing highlighted": not news
        self.has_more = False
        self.loaded = False

    @property
    def sessions(self) -> list[ChatSession]:
        return self._sessions

    @property
    def shown(self) -> list[ChatSession]:
        return self._shown

    @property
    def chosen(self) -> ChatSession | None:
        index = self.highlighted
        if index is None or index >= len(self._shown):
            return None
        return self._shown[index]

    def on_key(self, event: events.Key) -> None:
        # Type-to-filter: a printable character typed here starts (or continues) the filter, so
        # a word typed into the list by mistake runs no action. `/` and `?` keep their own keys,
        # and a space does not start a filter; once one is being typed they are part of it (a
        # burst reaches the list before the focus moves to the filter).
        character = event.character
        if event.is_printable and character and (self._typing_filter or character not in "/? "):
            event.stop()
            event.prevent_default()
            self._typing_filter = True
            self.post_message(self.FilterTyped(character))

    def on_focus(self) -> None:
        self._typing_filter = False  # back from the filter: keys typed here are the list's again

    def set_sessions(self, sessions: list[ChatSession], *, has_more: bool = False) -> None:
        if not self.loaded:
            self.loaded = True
            self._announced = _UNSET  # the first snapshot is news even when it is empty
        if len(sessions) != len(self._sessions):
            self._more_requested = False
        self._sessions = sessions
        self.has_more = has_more
        self._refresh_options()
        self._announce()
        if self._filter:
            self._ask_for_more(everything=True)

    def set_filter(self, text: str) -> None:
        self._filter = text.strip().casefold()
        self._refresh_options()
        if self._filter:
            self._ask_for_more(everything=True)

    def _ask_for_more(self, *, everything: bool) -> None:
        if self.has_more and not self._more_requested:
            self._more_requested = True
            # Made on this widget's own turn: a message created while the sidebar handles the filter
            # input would count as the sidebar's, and Textual stops those at the sidebar.
            self.call_later(self._post_more, everything)

    def _post_more(self, everything: bool) -> None:
        self.post_message(self.MoreRequested(everything=everything))

    def refresh_ages(self) -> None:
        """Called on a timer: relative times move on even when no data changes."""
        self._refresh_options()

    def choose(self, session_id: str) -> None:
        """Highlight a session by id (e.g. one just created), once it is in the list."""
        self._want_id = session_id
        for index, session in enumerate(self._shown):
            if session.id == session_id:
                self.highlighted = index
                return

    def _refresh_options(self) -> None:
        needle = self._filter
        shown = [s for s in self._sessions if needle in s.title.casefold()] if needle else list(self._sessions)
        now = self._clock()
        key = tuple((s.id, s.title, relative_time(s.lastMessageAt, now)) for s in shown)
        if key == self._shown_key:
            self._shown = shown
            return
        previous_id = self._want_id
        previous_index = self.highlighted
        self._shown, self._shown_key = shown, key
        self._rebuilding = True
        try:
            self.set_options(Option(SessionRow(one_line(title), age), id=sid) for sid, title, age in key)
            # Keep the same session highlighted; when it went away, stay at the same place.
            index = next((i for i, s in enumerate(shown) if s.id == previous_id), None)
            if index is None and shown:
                index = min(previous_index or 0, len(shown) - 1)
            self.highlighted = index
        finally:
            self._rebuilding = False
        self._announce()

    def watch_highlighted(self, highlighted: int | None) -> None:
        super().watch_highlighted(highlighted)
        if not self._rebuilding:
            self._announce()
        if highlighted is not None and highlighted >= len(self._shown) - MORE_WITHIN_ROWS:
            self._ask_for_more(everything=False)

    def _announce(self) -> None:
        if not self.loaded:
            return  # nothing to say before the first snapshot (the highlight's initial watch)
        session = self.chosen
        if session is not None:
            self._want_id = session.id
        key = (session.id, session.title) if session else None
        if key != self._announced:
            self._announced = key
            self.post_message(self.SessionChosen(session))
