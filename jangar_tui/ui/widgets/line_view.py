"""A scrolling view of many lines of already-safe text, painted a row at a time.

The run log and the diff are lists of (text, style) that can run to tens of thousands of lines:
one widget draws them (`render_line` paints only the rows on screen), never a widget per line.
Painting is the hot path while a log streams (every new batch scrolls every row), so a row's
strip is kept until the lines, the width, the horizontal scroll or the widget's style change, and
the widget's own style (which walks its ancestors) is read once per paint, not once per row.

A view with `WRAP` set folds a line wider than itself onto the rows below it (the run log: an
error is read whole, not by scrolling sideways); the others scroll sideways (the diff: a patch's
columns stay aligned). Continuation rows are indented two cells past the line's own indent.

The text must already have been made visible (`jangar_tui.text_safety`): it is painted as plain
segments, never parsed as markup.
"""

from __future__ import annotations

from rich.cells import cell_len, get_character_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

Line = tuple[str, Style]
# Below this many cells for a continuation, it starts at the left edge instead of indented.
MIN_CONTINUATION_CELLS = 12


def cells_of(text: str) -> int:
    """`text`'s width in cells; its length when it is ASCII (nearly every line: rich's cell_len
    costs several times more, and a resize measures every loaded line again)."""
    return len(text) if text.isascii() else cell_len(text)


def _fitting(text: str, cells: int) -> int:
    """How many characters of `text` fit in `cells` (at least one: every row moves on)."""
    if text.isascii():
        return max(1, min(len(text), cells))
    used = 0
    for index, char in enumerate(text):
        used += get_character_cell_size(char)
        if used > cells:
            return max(1, index)
    return len(text)


def wrap_line(line: Line, width: int) -> list[Line]:
    """`line` as rows of at most `width` cells, broken at a space where one is in the row's second
    half, else mid-word; the rows after the first indented two cells past the line's own indent."""
    text, style = line
    if width <= 0 or cells_of(text) <= width:
        return [line]
    indent = len(text) - len(text.lstrip(" ")) + 2
    if width - indent < MIN_CONTINUATION_CELLS:
        indent = 0
    rows: list[Line] = []
    rest, room = text, width
    while True:
        if cells_of(rest) <= room:
            rows.append(((" " * indent if rows else "") + rest, style))
            return rows
        end = _fitting(rest, room)
        space = rest.rfind(" ", 0, end + 1)
        if space > room // 2:
            end = space + 1
        rows.append(((" " * indent if rows else "") + rest[:end].rstrip(" "), style))
        rest, room = rest[end:].lstrip(" "), width - indent
        if not rest:
            return rows


class LineView(ScrollView, can_focus=True):
    WRAP = False  # fold lines wider than the view onto the rows below (see the module's docstring)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: list[Line] = []
        # What is painted, one entry a row: the lines themselves, or (WRAP) the lines folded to
        # `_wrapped_for` cells.
        self._rows: list[Line] = self._lines
        self._wrapped_for = 0
        self._width = 0
        self._base = Style()
        self._strips: dict[int, Strip] = {}
        self._strips_for: tuple[int, int, Style] | None = None

    @property
    def line_count(self) -> int:
        return len(self._lines)

    @property
    def row_count(self) -> int:
        """The rows the lines take (more than the lines where WRAP folds some)."""
        return len(self._rows)

    def set_lines(self, lines: list[Line]) -> None:
        self._lines = lines
        self._rows = self._fold(lines)
        self._width = max((cells_of(text) for text, _ in self._rows), default=0)
        self._strips.clear()
        self._resize()

    def insert_lines(self, at: int, lines: list[Line]) -> int:
        """Lines at `at` (the end: appended, the rows before keep their strips); returns the
        number of rows they take. `at` is 0 or the end when WRAP is set."""
        if not lines:
            return 0
        rows = self._fold(lines)
        if at < len(self._lines):
            self._strips.clear()  # the rows after `at` move down
        if self._rows is not self._lines:  # folded: `at` is the first line or past the last
            row_at = 0 if at == 0 else len(self._rows)
            self._rows[row_at:row_at] = rows
        self._lines[at:at] = lines
        self._width = max(self._width, *(cells_of(text) for text, _ in rows))
        self._resize()
        return len(rows)

    def _fold(self, lines: list[Line]) -> list[Line]:
        if not self.WRAP:
            return lines
        width = self._wrapped_for
        if width <= 0:
            return list(lines)
        return [row for line in lines for row in wrap_line(line, width)]

    def on_resize(self, event: events.Resize) -> None:
        if not self.WRAP:
            return
        width = self.scrollable_content_region.width
        if width != self._wrapped_for:
            self._wrapped_for = width
            self._rows = self._fold(self._lines)
            self._width = max((cells_of(text) for text, _ in self._rows), default=0)
            self._strips.clear()
            self._resize()

    def _resize(self) -> None:
        self.virtual_size = Size(self._width, len(self._rows))
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
        if index >= len(self._rows):
            return Strip.blank(self.size.width, self._base)
        strip = self._strips.get(index)
        if strip is None:
            if len(self._strips) > 4 * max(self.size.height, 1):
                self._strips.clear()  # scrolled far: keep about a few screens' worth
            scroll_x, width = round(self.scroll_x), self.size.width
            text, style = self._rows[index]
            strip = Strip([Segment(text, self._base + style)]).crop_extend(scroll_x, scroll_x + width, self._base)
            self._strips[index] = strip
        return strip
