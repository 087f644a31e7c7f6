"""A work order's run log as lines: virtualized, following, loading older pages on demand.

One widget draws the whole log (`LineView`: only the rows on screen are painted), never a widget
per event, so 10,000 events cost a list of tuples. Each event becomes one or more lines (a command:
its command line, then its output indented), and a line wider than the log is folded onto the
rows below it (an error is read whole, not by scrolling sideways). Follow mode keeps the newest line in view as events
arrive; scrolling up stops following, `end` (or `f`) starts again. Reaching the top asks the
screen for the page before (`OlderWanted`).

All agent text is shown as text: made visible by the one sanitizer (`jangar_tui.text_safety`), and
painted as plain segments, never parsed as markup.
"""

from __future__ import annotations

from rich.style import Style
from textual import events
from textual.message import Message
from textual.reactive import reactive

from jangar_tui.models import EventKind, WorkOrderEvent
from jangar_tui.orchestration.diff_review import DIFF_METADATA_KEY
from jangar_tui.text_safety import visible
from jangar_tui.ui.keymap import bindings, key_label
from jangar_tui.ui.widgets.line_view import Line, LineView

# A line is cut here (an agent's minified output can be one line of 16 KiB); an error's lines
# are shown whole, however long (their event's text is bounded by the store).
MAX_LINE_CHARS = 400

_PREFIX: dict[EventKind, tuple[str, Style]] = {
    EventKind.COMMAND: ("$ ", Style(bold=True)),
    EventKind.FILE_CHANGE: ("✎ ", Style(color="cyan")),
    EventKind.AGENT_MESSAGE: ("» ", Style()),
    EventKind.REASONING: ("· ", Style(dim=True, italic=True)),
    EventKind.ERROR: ("✗ ", Style(color="red")),
    EventKind.USAGE: ("Σ ", Style(dim=True)),
    EventKind.OUTPUT: ("  ", Style()),
    EventKind.SETUP: ("⚙ ", Style(dim=True)),
    EventKind.GIT: ("⎇ ", Style(color="green")),
    EventKind.PR: ("⇪ ", Style(color="green", bold=True)),
}
_BODY = Style(dim=True)


def event_lines(event: WorkOrderEvent, diff_key: str) -> list[tuple[str, Style]]:
    """The lines an event takes in the log: its first line with the kind's mark, the rest below.
    `diff_key` is the key that shows the diff, named on the line of the recorded change."""
    prefix, style = _PREFIX.get(event.kind, ("  ", Style()))
    # Output nearly always ends with a newline: no blank row for it (the log has few at 80x24).
    text = event.text.rstrip("\n")
    lines = text.split("\n") if text else [""]
    if isinstance(event.metadata, dict) and DIFF_METADATA_KEY in event.metadata:
        lines = [f"{lines[0]}  ({diff_key} shows the diff)"]  # the recorded change: the diff view draws it
    if event.kind == EventKind.COMMAND and isinstance(event.metadata, dict):
        code = event.metadata.get("exitCode")
        if isinstance(code, int):
            lines[0] += f"  (exit {code})"
        elif event.metadata.get("status") == "inProgress":
            lines[0] += "  (started)"  # its end is a later event, with the exit code and output
    cut = None if event.kind == EventKind.ERROR else MAX_LINE_CHARS
    shown = [(prefix + visible(lines[0])[:cut], style)]
    body = _BODY if event.kind in (EventKind.COMMAND, EventKind.FILE_CHANGE) else style
    shown.extend(("  " + visible(line)[:cut], body) for line in lines[1:])
    return shown


class EventLogView(LineView):
    BINDINGS = bindings("run_log")
    WRAP = True

    following: reactive[bool] = reactive(True)

    class OlderWanted(Message):
        """Scrolled to the top with older events not loaded: the screen fetches the page before."""

    class FollowChanged(Message):
        def __init__(self, following: bool) -> None:
            self.following = following
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._first_seq: int | None = None
        self._last_seq = 0
        self.has_older = False
        self.loading_older = False
        self._to_oldest = False  # `home` was pressed: keep loading pages until the first event

    @property
    def first_seq(self) -> int | None:
        return self._first_seq

    @property
    def last_seq(self) -> int:
        return self._last_seq

    # -- content ------------------------------------------------------------------------------
    def append(self, events: list[WorkOrderEvent]) -> int:
        """Add the events newer than the last one shown (oldest first); returns how many."""
        added = 0
        lines: list[Line] = []
        diff_key = self._diff_key()
        for event in events:
            if event.seq <= self._last_seq:
                continue
            lines.extend(event_lines(event, diff_key))
            self._last_seq = event.seq
            if self._first_seq is None:
                self._first_seq = event.seq
            added += 1
        if added:
            self.insert_lines(self.line_count, lines)
            if self.following:
                # At once (one paint, already at the end), and again after the refresh, when a
                # first layout may have changed the height (then a no-op).
                self._to_end()
                self.call_after_refresh(self._to_end)
        return added

    def prepend(self, events: list[WorkOrderEvent], *, more: bool) -> None:
        """Add older events (oldest first) above what is shown, keeping the view where it was."""
        self.loading_older = False
        self.has_older = more
        older = [e for e in events if self._first_seq is None or e.seq < self._first_seq]
        lines: list[Line] = []
        diff_key = self._diff_key()
        for event in older:
            lines.extend(event_lines(event, diff_key))
        if not older:
            return
        rows = self.insert_lines(0, lines)
        self._first_seq = older[0].seq
        self._last_seq = max(self._last_seq, older[-1].seq)
        if self._to_oldest:
            self._want_older()
        else:
            # The lines on screen stay on screen: the new ones are above them.
            self.call_after_refresh(self.scroll_to, y=self.scroll_y + rows, animate=False, immediate=True)

    def _diff_key(self) -> str:
        return key_label(self.app, "detail", "toggle_diff")

    # -- following and paging -----------------------------------------------------------------------
    def _to_end(self) -> None:
        if self.following:
            self.scroll_end(animate=False, immediate=True)

    def watch_following(self, following: bool) -> None:
        # Anchored, Textual's layout itself puts the end in view: the first frame of a log shows
        # its newest lines, not its first ones and then the newest a frame later.
        self.anchor(following)
        if following:
            self._to_end()
        self.post_message(self.FollowChanged(following))

    def action_follow(self) -> None:
        self._to_oldest = False
        self.following = True
        self._to_end()

    def action_toggle_follow(self) -> None:
        self._to_oldest = False
        self.following = not self.following

    def action_oldest(self) -> None:
        self.following = False
        self._to_oldest = True
        self.scroll_home(animate=False, immediate=True)
        self._want_older()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new < old and new < self.max_scroll_y:
            self.following = False
        if new > old:
            self._to_oldest = False
        if new <= 0:
            self._want_older()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self.following = False

    def _want_older(self) -> None:
        if self.has_older and not self.loading_older:
            self.loading_older = True
            self.post_message(self.OlderWanted())
