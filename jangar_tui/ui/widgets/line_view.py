"""A scrolling view of many lines of already-safe text, painted a row at a time.

The run log and the diff are lists of (text, style) that can run to tens of thousands of lines:
one widget draws them (`render_line` paints only the rows on screen), never a widget per line.
Painting is the hot path while a log streams (every new batch scrolls every row), so a row's
strip is kept until the lines, the width, the horizontal scroll or the widget's style change, and
the widget's own style (which walks its ancestors) is read once per paint, not once per row.

The text must already have been made visible (`jangar_tui.text_safety`): it is painted as plain
segments, never parsed as markup.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

Line = tuple[str, Style]


class LineView(ScrollView, can_focus=True):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: list[Line] = []
        self._width = 0
        self._base = Style()
        self._strips: dict[int, Strip] = {}
        self._strips_for: tuple[int, int, Style] | None = None

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def set_lines(self, lines: list[Line]) -> None:
        self._lines = lines
        self._width = max((len(text) for text, _ in lines), default=0)
        self._strips.clear()
        self._resize()

    def insert_lines(self, at: int, lines: list[Line]) -> None:
        """Lines at `at` (the end: appended, the rows before keep their strips)."""
        if not lines:
            return
        if at < len(self._lines):
            self._strips.clear()  # the rows after `at` move down
        self._lines[at:at] = lines
        self._width = max(self._width, *(len(text) for text, _ in lines))
        self._resize()

    def _resize(self) -> None:
        self.virtual_size = Size(self._width, len(self._lines))
        self.refresh()

    def render_lines(self, crop: Region) -> list[Strip]:
        base = self.rich_style
        painting = (round(self.scroll_x), self.size.width, base)
        if painting != self._strips_for:
            self._strips.clear()
            self._strips_for = painting
        self._base = base
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        if index >= len(self._lines):
            return Strip.blank(self.size.width, self._base)
        strip = self._strips.get(index)
        if strip is None:
            if len(self._strips) > 4 * max(self.size.height, 1):
                self._strips.clear()  # scrolled far: keep about a few screens' worth
            scroll_x, width = round(self.scroll_x), self.size.width
            text, style = self._lines[index]
            strip = Strip([Segment(text, self._base + style)]).crop_extend(scroll_x, scroll_x + width, self._base)
            self._strips[index] = strip
        return strip
