"""The chat transcript: a Line API widget that renders only the lines on screen.

No widget per message: each message is rendered once per width into strips (assistant content as
Markdown, the rest as plain text) and cached by (id, updatedAt, width) across snapshots and
session switches; `render_line` picks the strips for the visible rows. At the bottom, a snapshot
renders only the newest messages that fill the view (older ones get an estimated height) and the
rest a few at a time afterwards, so opening a session shows its newest message in the first
frame. Reaching the top asks for older history (the screen re-watches with a larger limit),
keeping the view anchored on the message that was at the top.

Roles differ by a label and glyph, not by colour alone: "▌you", "◆ assistant", "! system". A
selected message (for copying or turning into a work order) carries a "┃" bar down its left edge.

While an agent answers the chat (`answering`), the messages waiting for their reply show it
(`jangar_tui.chat.pending`): below the last message a pending assistant line says the reply is
being thought about, with the time since the message was sent, until the reply's first words
arrive; a message sent while another is answered says "queued" in its header until its turn.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections import OrderedDict
from typing import ClassVar

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from jangar_tui.chat.pending import Waiting, waiting
from jangar_tui.models import ChatMessage, Role
from jangar_tui.text_safety import visible
from jangar_tui.ui.clock import Clock, relative_time, system_clock
from jangar_tui.ui.keymap import bindings
from jangar_tui.ui.widgets.chat.reply_view import activity, has_activity, header_notes, is_streaming

GUTTER = 2
ROLE_LABELS: dict[Role, tuple[str, str]] = {
    Role.USER: ("▌you", "bold cyan"),
    Role.ASSISTANT: ("◆ assistant", "bold magenta"),
    Role.SYSTEM: ("! system", "bold yellow"),
}
CACHE_SIZE = 1_000  # rendered message bodies kept beyond the ones loaded (reopening is instant)
UNREADABLE = "⚠ This message could not be drawn."
RENDER_SLICE_S = 0.015  # rendering older messages after the view is filled: this long per step
THINKING_TICK_S = 1.0  # the pending line's elapsed time, redrawn this often


class Transcript(ScrollView, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        *bindings("transcript"),
        Binding("pageup", "page_up", show=False),
        Binding("pagedown", "page_down", show=False),
        Binding("home", "select_first", show=False),
        Binding("end", "select_none", show=False),
    ]

    selected: reactive[int | None] = reactive(None, always_update=True)

    class OlderRequested(Message):
        """The reader reached the top of what is loaded and more history exists."""

    def __init__(self, *, clock: Clock = system_clock, id: str | None = None) -> None:
        super().__init__(id=id)
        self._clock = clock
        self._messages: list[ChatMessage] = []
        # (id, updatedAt, width, expanded): a streaming reply changes updatedAt on each batched
        # write, so only that message is rendered again.
        self._cache: OrderedDict[tuple[str, int, int, bool], list[Strip]] = OrderedDict()
        self._expanded_id: str | None = None  # the selected reply, whose activity shows in full
        self._live: list[list[Strip] | None] = []  # the loaded messages' bodies (None: not rendered yet)
        self._body_width = 0
        self._render_pending = False
        self._starts: list[int] = []  # first line of each message
        self._pending_line: int | None = None  # the line of "thinking…", below the last message
        self._placeholder_lines: list[Strip] = []
        self.placeholder = "Loading…"
        self.has_more = False  # older messages exist beyond the loaded ones
        self.loading_older = False
        self._follow = True  # at the bottom: stay there as messages arrive and the size changes
        self.answering = False  # an agent answers user messages: show which wait for their reply
        self._waiting = Waiting()
        self._thinking_timer: Timer | None = None

    # -- data ---------------------------------------------------------------------------------
    @property
    def messages(self) -> list[ChatMessage]:
        return self._messages

    @property
    def selected_message(self) -> ChatMessage | None:
        if self.selected is None or self.selected >= len(self._messages):
            return None
        return self._messages[self.selected]

    @property
    def waiting(self) -> Waiting:
        return self._waiting

    def reply_under_way(self) -> bool:
        """A reply is being written, or awaited (a message waits for its turn), in this session."""
        waiting = self._waiting
        return waiting.thinking is not None or bool(waiting.queued) or any(map(is_streaming, self._messages))

    def on_mount(self) -> None:
        self._thinking_timer = self.set_interval(THINKING_TICK_S, self._tick, pause=True)

    def _update_waiting(self) -> None:
        self._waiting = waiting(self._messages, self._clock()) if self.answering else Waiting()
        if self._thinking_timer is None:
            return  # not mounted yet
        if self._waiting.thinking is not None:
            self._thinking_timer.resume()
        else:
            self._thinking_timer.pause()

    def _tick(self) -> None:
        thinking = self._waiting.thinking
        self._update_waiting()
        if thinking is not None and self._waiting.thinking is None:
            self._apply_heights()  # it aged out: the pending line goes
        self.refresh()

    def clear_messages(self, placeholder: str) -> None:
        self._messages = []
        self._update_waiting()
        self.placeholder = placeholder
        self.selected = None
        self.has_more = False
        self._follow = True
        self._relayout()
        self.refresh()

    def set_messages(self, messages: list[ChatMessage], *, has_more: bool) -> None:
        """Show a new snapshot (oldest first), keeping the reader's place."""
        selected_id = self.selected_message.id if self.selected_message else None
        anchor = self._anchor()
        self._messages = messages
        self.has_more = has_more
        self.loading_older = False
        self._update_waiting()
        self._relayout()
        index_of = {m.id: i for i, m in enumerate(messages)}
        self.selected = index_of.get(selected_id) if selected_id else None
        if not self._follow and anchor is not None:
            self._scroll_to_anchor(anchor)
        self.refresh()

    def _scroll_to_anchor(self, anchor: tuple[str, int]) -> None:
        message_id, delta = anchor
        for index, message in enumerate(self._messages):
            if message.id == message_id:
                self.scroll_to(y=self._starts[index] + delta, animate=False, immediate=True)
                return

    def _anchor(self) -> tuple[str, int] | None:
        """The message at the top of the view and how far into it the view starts."""
        if not self._messages or not self._starts:
            return None
        top = round(self.scroll_y)
        index = max(0, bisect_right(self._starts, top) - 1)
        return self._messages[index].id, top - self._starts[index]

    # -- layout and rendering -------------------------------------------------------------------
    def on_resize(self) -> None:
        self._relayout()

    def watch_show_vertical_scrollbar(self) -> None:
        # The scrollbar takes a column without a resize: text wrapped for the width before would
        # lose its last column under it (or, once it goes, leave one unused).
        if self._body_width and self._body_width != max(10, self.scrollable_content_region.width - GUTTER):
            self._relayout()

    def _relayout(self) -> None:
        width = self.scrollable_content_region.width
        if width <= 0:
            self._live = [None] * len(self._messages)  # drawn blank until the first resize lays them out
            return
        self._body_width = max(10, width - GUTTER)
        # At the bottom only what fills the view (twice over) is rendered now; elsewhere the
        # reader's anchor needs every height exact.
        budget = 2 * self.scrollable_content_region.height if self._follow else None
        live: list[list[Strip] | None] = [None] * len(self._messages)
        for index in range(len(self._messages) - 1, -1, -1):
            message = self._messages[index]
            body = self._cached(message) if budget is not None and budget <= 0 else self._body(message)
            live[index] = body
            if budget is not None:
                budget -= 2 + (len(body) if body is not None else self._estimate(message))
        self._live = live
        if not self._messages:
            self._placeholder_lines = self._render_lines(Text(self.placeholder, style="dim"))
        self._apply_heights()

    def _apply_heights(self) -> None:
        """Line starts and the virtual size from the bodies (estimates for those not rendered)."""
        starts, line = [], 0
        for message, body in zip(self._messages, self._live, strict=True):
            starts.append(line)
            line += 1 + (len(body) if body is not None else self._estimate(message)) + 1  # header, body, blank
        self._starts = starts
        self._pending_line = line if self._waiting.thinking is not None else None
        lines = line + (1 if self._pending_line is not None else 0) if self._messages else len(self._placeholder_lines)
        self.virtual_size = Size(self.scrollable_content_region.width, lines)
        if self._follow:
            # Now, not after the next refresh: the first frame of a snapshot is its bottom. (Forced:
            # the scrollbar that allows scrolling only appears with that refresh.)
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
        if None in self._live and not self._render_pending:
            self._render_pending = True
            # After the next frame: the page just laid out reaches the screen before older
            # messages are rendered, so opening a long session is not delayed by its history.
            self.call_after_refresh(self._render_older)

    def _render_older(self) -> None:
        """Render some of the messages still missing, newest first, then come back for more
        after the next frame (queued keys and snapshots go first)."""
        self._render_pending = False
        if self._messages and len(self._live) == len(self._messages) and self._body_width:
            anchor = None if self._follow else self._anchor()
            deadline = time.monotonic() + RENDER_SLICE_S
            for index in range(len(self._live) - 1, -1, -1):
                if self._live[index] is None:
                    self._live[index] = self._body(self._messages[index])
                    if time.monotonic() > deadline:
                        break
            self._apply_heights()
            if anchor is not None:
                self._scroll_to_anchor(anchor)
            self.refresh()

    def _estimate(self, message: ChatMessage) -> int:
        """Lines a message will take, until it is rendered."""
        return sum(1 + len(part) // self._body_width for part in message.content.split("\n"))

    def _key(self, message: ChatMessage) -> tuple[str, int, int, bool]:
        return (message.id, message.updatedAt, self._body_width, message.id == self._expanded_id)

    def _cached(self, message: ChatMessage) -> list[Strip] | None:
        key = self._key(message)
        strips = self._cache.get(key)
        if strips is not None:
            self._cache.move_to_end(key)
        return strips

    def _body(self, message: ChatMessage) -> list[Strip]:
        strips = self._cached(message)
        if strips is None:
            try:
                renderable = self._renderable(message)
                done = activity(message, expanded=message.id == self._expanded_id)
                strips = self._render_lines(renderable if done is None else Group(renderable, done))
            except Exception:  # noqa: BLE001 - one message that cannot be drawn must not take the transcript down
                strips = self._render_lines(Text(UNREADABLE, style="italic red"))
            self._cache[self._key(message)] = strips
            # Never evicts a loaded message: a layout touches them all, so they are the newest.
            while len(self._cache) > CACHE_SIZE + len(self._messages):
                self._cache.popitem(last=False)
        return strips

    @staticmethod
    def _renderable(message: ChatMessage) -> RenderableType:
        # The content is made visible before Markdown sees it: no control character reaches the
        # terminal, and links are shown as text with their target (hyperlinks=False: no OSC 8).
        content = visible(message.content)
        if message.role == Role.ASSISTANT and not is_streaming(message):
            from rich.markdown import Markdown  # markdown-it and pygments: not before the first frame

            return Markdown(content, code_theme="ansi_dark", hyperlinks=False)
        # A reply still streaming is plain text: Markdown of the whole text on every batched write
        # would cost more with each one; it becomes Markdown once it settles.
        return Text(content)

    # Not `_render`: that is Textual's own Widget._render (text selection calls it).
    def _render_lines(self, renderable: RenderableType) -> list[Strip]:
        console = self.app.console
        options = console.options.update_width(self._body_width)
        lines = console.render_lines(renderable, options, pad=True)
        return [Strip(line, self._body_width) for line in lines] or [Strip.blank(self._body_width)]

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        style = self.rich_style
        line = round(self.scroll_y) + y
        if not self._messages:
            if not 0 <= line < len(self._placeholder_lines):
                return Strip.blank(width, style)
            placeholder = Strip.join([Strip.blank(GUTTER), self._placeholder_lines[line]])
            return placeholder.crop_extend(0, width, style).apply_style(style)
        if line == self._pending_line:
            return (
                Strip.join([Strip.blank(GUTTER), self._thinking_line()]).crop_extend(0, width, style).apply_style(style)
            )
        index = bisect_right(self._starts, line) - 1
        if index < 0:
            return Strip.blank(width, style)
        message = self._messages[index]
        offset = line - self._starts[index]
        selected = index == self.selected
        gutter = Strip([Segment("┃ " if selected else "  ", Style(color="bright_blue", bold=True))], GUTTER)
        body = self._live[index] if index < len(self._live) else None
        if body is None:  # not rendered yet (it is on its way)
            return Strip.blank(width, style)
        if offset == 0:
            content = self._header(message, selected)
        elif offset <= len(body):
            content = body[offset - 1]
        else:
            return Strip.blank(width, style)
        return Strip.join([gutter, content]).crop_extend(0, width, style).apply_style(style)

    def _thinking_line(self) -> Strip:
        """The pending assistant line: a reply is coming, and how long the message has waited."""
        thinking = self._waiting.thinking
        waited = elapsed(self._clock() - thinking.createdAt) if thinking is not None else ""
        label, label_style = ROLE_LABELS[Role.ASSISTANT]
        return Strip(
            [
                Segment(label, Style.parse(label_style)),
                Segment(f"  thinking… {waited}", Style(dim=True, italic=True)),
            ]
        )

    def _header(self, message: ChatMessage, selected: bool) -> Strip:
        label, label_style = ROLE_LABELS[message.role]
        segments = [
            Segment(label, Style.parse(label_style) + Style(reverse=selected)),
            Segment(f"  {relative_time(message.createdAt, self._clock())}", Style(dim=True)),
        ]
        used = sum(segment.cell_length for segment in segments)
        note = ""
        notes = ["queued"] if message.id in self._waiting.queued else header_notes(message)
        for part in notes:
            candidate = f"{note} · {part}" if note else f"  {part}"
            if used + cell_len(candidate) > self._body_width:
                break  # a token count cut at the border would read as another number
            note = candidate
        if note:
            segments.append(Segment(note, Style(dim=True, italic=True)))
        return Strip(segments)

    # -- selection and scrolling ----------------------------------------------------------------
    def watch_selected(self, selected: int | None) -> None:
        chosen = self.selected_message
        expanded_id = chosen.id if chosen is not None and has_activity(chosen) else None
        if expanded_id != self._expanded_id:
            # The selected reply shows what its agent did in full; the one before folds back.
            self._expanded_id = expanded_id
            self._relayout()
        if selected is not None and selected < len(self._starts):
            self._scroll_to_selected()
            if selected == 0:
                self._maybe_request_older()
        self.refresh()

    def _scroll_to_selected(self) -> None:
        selected = self.selected
        if selected is None or selected >= len(self._starts):
            return
        start = self._starts[selected]
        end = self._starts[selected + 1] if selected + 1 < len(self._starts) else self.virtual_size.height
        self.scroll_to_region(Region(0, start, 1, max(1, end - start)), animate=False, immediate=True)

    def show_message(self, message_id: str) -> bool:
        """Select a loaded message by id and keep it in view (a search hit): no longer following
        the newest, and scrolled to again once the new layout is on screen. False when not loaded."""
        index = next((i for i, m in enumerate(self._messages) if m.id == message_id), None)
        if index is None:
            return False
        self._follow = False
        self.selected = index
        self.call_after_refresh(self._scroll_to_selected)
        return True

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._follow = round(new_value) >= self.max_scroll_y
        if round(new_value) == 0 and self._messages and not self._follow:
            self._maybe_request_older()

    def _maybe_request_older(self) -> None:
        if self.has_more and not self.loading_older:
            self.loading_older = True
            self.post_message(self.OlderRequested())

    def action_select_previous(self) -> None:
        if not self._messages:
            return
        if self.selected is None:
            self.selected = len(self._messages) - 1
        elif self.selected > 0:
            self.selected -= 1
        else:
            self.scroll_to(y=0, animate=False)
            self._maybe_request_older()

    def action_select_next(self) -> None:
        if self.selected is None:
            self.action_select_none()
        elif self.selected < len(self._messages) - 1:
            self.selected += 1
        else:
            self.action_select_none()

    def action_select_first(self) -> None:
        if self._messages:
            self.selected = 0

    def action_select_none(self) -> None:
        self.selected = None
        self._follow = True
        self.scroll_end(animate=False, x_axis=False)

    def action_page_up(self) -> None:
        self.scroll_page_up(animate=False)

    def action_page_down(self) -> None:
        self.scroll_page_down(animate=False)


def elapsed(ms: int) -> str:
    """A short wait: "0s", "42s", "3m 05s"."""
    seconds = max(0, ms) // 1000
    return f"{seconds}s" if seconds < 60 else f"{seconds // 60}m {seconds % 60:02d}s"
