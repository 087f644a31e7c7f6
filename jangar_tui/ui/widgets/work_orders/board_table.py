"""The board's table: one line per work order, drawn through the line API.

`render_line` paints only the rows on screen, each from a strip cached per work order and
rebuilt only when something it shows changed (status, title, target, age, session title, PR) or
the column widths did. A snapshot that moves one row costs one strip, not a table rebuild: a
`DataTable` re-measured and re-rendered every cell (a Rich `Padding` each) after every change.
The cursor stays on the same work order across snapshots. A failed work order's title is followed
by its reason, in red, in the same cell.

Every string from data goes through `text_safety.one_line` and is painted as a plain segment,
never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from jangar_tui.models import WorkOrder
from jangar_tui.text_safety import one_line
from jangar_tui.ui.widgets.work_orders.status_style import STATUS_LOOK

CELL_PADDING = 1  # blank cells each side of a column
_DIM = Style(dim=True)
_UNDERLINE = Style(underline=True)
_REASON = Style(color="red")
_STATUS_STYLES = {status: Style.parse(f"bold {colour}") for status, (_, colour) in STATUS_LOOK.items()}

# (column key, its width): the order the cells are drawn in.
Columns = tuple[tuple[str, int], ...]


def cut(text: str, width: int) -> str:
    """`text` in at most `width` cells: cut with an ellipsis when longer."""
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, max(0, width - 1)) + "…" if width else ""


def fit(text: str, width: int) -> str:
    """`text` in exactly `width` cells: padded, or cut with an ellipsis."""
    return set_cell_size(cut(text, width), width)


def pr_label(url: str | None) -> str:
    """`#42` for a pull-request URL (its number), the URL's last part otherwise."""
    if not url:
        return ""
    last = url.rstrip("/").rpartition("/")[2]
    return f"#{last}" if last.isdigit() else last


def row_cells(
    work_order: WorkOrder, session_title: str, age: str, reason: str | None = None
) -> dict[str, tuple[str, Style]]:
    """What each column shows for a work order, made visible, with its style; a failure's reason
    under the key "title+" (drawn after the title, in its cell)."""
    glyph, _ = STATUS_LOOK[work_order.status]
    target = work_order.targetRepo or ""
    if work_order.targetBranch:
        target += f" @ {work_order.targetBranch}"
    cells = {
        "status": (f"{glyph} {work_order.status.value}", _STATUS_STYLES[work_order.status]),
        "title": (one_line(work_order.title or "(untitled)"), Style()),
        "target": (one_line(target), _DIM),
        "age": (age, _DIM),
        "session": (one_line(session_title), Style()),
        "pr": (one_line(pr_label(work_order.prUrl)), _UNDERLINE),
    }
    if reason:
        cells["title+"] = (one_line(f"✗ {reason}"), _REASON)
    return cells


def cell_parts(text: str, note: str | None, width: int) -> tuple[str, str]:
    """A cell's text and the note after it, in `width` cells: the note keeps at least half of a
    cell too narrow for both (a title alone says nothing of why it failed); each cut with '…'."""
    if not note:
        return cut(text, width), ""
    if cell_len(text) + 2 + cell_len(note) > width:
        text = cut(text, max(width // 2, width - 2 - cell_len(note)))
    room = width - cell_len(text) - 2
    return text, ("  " + cut(note, room)) if room > 0 else ""


def row_segments(cells: Mapping[str, tuple[str, Style]], columns: Columns, base: Style) -> list[Segment]:
    segments: list[Segment] = []
    for key, width in columns:
        text, style = cells.get(key, ("", Style()))
        note, note_style = cells.get(f"{key}+", ("", Style()))
        shown, after = cell_parts(text, note, width)
        # The padding unstyled: an underlined PR number is not followed by an underlined blank.
        blank = " " * (CELL_PADDING + width - cell_len(shown) - cell_len(after))
        segments += [Segment(" " * CELL_PADDING, base), Segment(shown, base + style)]
        if after:
            segments.append(Segment(after, base + note_style))
        segments.append(Segment(blank, base))
    return segments


class BoardTable(ScrollView, can_focus=True):
    """Rows of work orders with a cursor; the screen gives the rows, the widths and the context."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"board-table--cursor"}
    # Moving within the table: the widget's own keys, as a DataTable's are (not in the help).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
    ]

    cursor: reactive[int] = reactive(0, always_update=False, init=False)

    class Highlighted(Message):
        """The cursor is on another work order (or on none)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: list[WorkOrder] = []
        self._columns: Columns = ()
        self._session_title: Callable[[str], str] = lambda _: ""
        self._age: Callable[[int], str] = lambda _: ""
        self._reason: Callable[[WorkOrder], str | None] = lambda _: None
        # work order id -> (what its line shows, the line): rebuilt only when what it shows changed
        self._strips: dict[str, tuple[tuple[object, ...], Strip]] = {}
        self._width = 0
        self._base = self._cursor_style = Style()
        self._wanted: str | None = None  # a work order to choose once it is among the rows
        self._note = ""  # shown on the first line while there are no rows (the screen says what)

    @property
    def rows(self) -> list[WorkOrder]:
        return self._rows

    @property
    def chosen(self) -> WorkOrder | None:
        return self._rows[self.cursor] if 0 <= self.cursor < len(self._rows) else None

    def set_columns(self, columns: Columns) -> None:
        if columns != self._columns:
            self._columns = columns
            self._width = sum(width + 2 * CELL_PADDING for _, width in columns)
            self._strips.clear()
            self._resize()
            self.refresh()

    def set_rows(
        self,
        rows: list[WorkOrder],
        *,
        session_title: Callable[[str], str],
        age: Callable[[int], str],
        note: str = "",
        reason: Callable[[WorkOrder], str | None] = lambda _: None,
    ) -> None:
        """Show `rows` (in this order), keeping the cursor on the same work order when it is still
        there; with no rows, `note` (why there are none); `reason` gives a failed one's reason (None
        while unknown)."""
        chosen = self.chosen
        self._note = note
        self._session_title, self._age, self._reason = session_title, age, reason
        self._rows = rows
        live = {w.id for w in rows}
        for gone in self._strips.keys() - live:
            del self._strips[gone]
        self._resize()
        ids = [w.id for w in rows]
        if self._wanted in ids:
            index: int | None = ids.index(self._wanted)
            self._wanted = None
        else:
            index = ids.index(chosen.id) if chosen is not None and chosen.id in ids else None
        moved = index is None or chosen is None or rows[index].id != chosen.id
        self._move_to(self.cursor if index is None else index, announce=moved)
        self.refresh()

    def choose(self, work_order_id: str) -> None:
        """Put the cursor on this work order now, or once a snapshot lists it (one just made)."""
        self._wanted = work_order_id
        self.set_rows(self._rows, session_title=self._session_title, age=self._age, reason=self._reason)

    def _resize(self) -> None:
        self.virtual_size = Size(self._width, len(self._rows))

    # -- painting -------------------------------------------------------------------------------
    def _strip(self, work_order: WorkOrder) -> Strip:
        session = self._session_title(work_order.sessionId)
        age = self._age(work_order.updatedAt)
        reason = self._reason(work_order)
        shown = (
            work_order.status,
            work_order.title,
            work_order.targetRepo,
            work_order.targetBranch,
            work_order.prUrl,
            session,
            age,
            reason,
        )
        cached = self._strips.get(work_order.id)
        if cached is not None and cached[0] == shown:
            return cached[1]
        strip = Strip(row_segments(row_cells(work_order, session, age, reason), self._columns, Style()), self._width)
        self._strips[work_order.id] = (shown, strip)
        return strip

    def render_lines(self, crop: Region) -> list[Strip]:
        # The styles, looked up once per paint rather than once per line.
        self._base = self.rich_style
        self._cursor_style = self.get_component_rich_style("board-table--cursor", partial=True)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        base = self._base
        if index >= len(self._rows):
            if index == 0 and self._note:
                note = Segment(" " * CELL_PADDING + self._note, base + _DIM)
                return Strip([note]).crop_extend(scroll_x, scroll_x + width, base)
            return Strip.blank(width, base)
        strip = self._strip(self._rows[index])
        if index == self.cursor:
            # The cursor's bar spans the whole width, past the last column.
            base = base + self._cursor_style
            strip = strip.apply_style(self._cursor_style)
        return strip.apply_style(base).crop_extend(scroll_x, scroll_x + width, base)

    # -- the cursor -----------------------------------------------------------------------------
    def _move_to(self, index: int, *, announce: bool = True) -> None:
        index = max(0, min(index, len(self._rows) - 1))
        previous = self.cursor
        self.cursor = index
        if index != previous:
            self.refresh(Region(0, previous - int(self.scroll_y), self.size.width, 1))
            self.refresh(Region(0, index - int(self.scroll_y), self.size.width, 1))
        top = int(self.scroll_y)
        if not top <= index < top + self.scrollable_content_region.height:
            self.scroll_to_region(Region(0, index, 1, 1), animate=False, immediate=True)
        if announce or index != previous:
            self.post_message(self.Highlighted())

    def action_cursor(self, step: int) -> None:
        self._move_to(self.cursor + step)

    def action_page(self, step: int) -> None:
        self._move_to(self.cursor + step * max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        self._move_to(0)

    def action_last(self) -> None:
        self._move_to(len(self._rows) - 1)

    def on_click(self, event: events.Click) -> None:
        self._move_to(int(self.scroll_y) + event.y)
