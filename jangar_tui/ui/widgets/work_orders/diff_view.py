"""A work order's change as lines: the files (status, +/−), then the unified diff, coloured.

One widget draws it all (`render_line` paints only the rows on screen), never a widget per line,
so a 20,000-line diff costs a list of tuples. `n`/`]` and `p`/`[` jump from file to file. A diff
cut at its bound ends with a line that says so; a binary file is named by git, never dumped.

Every path and patch line is data: made visible by the one sanitizer (`jangar_tui.text_safety`)
before it is coloured by its first character, and painted as plain segments, never markup.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import events

from jangar_tui.orchestration.diff_review import MAX_PATCH_BYTES, MAX_PATCH_LINES, ChangedFile, Diff, DiffSource
from jangar_tui.text_safety import one_line, visible
from jangar_tui.ui.keymap import bindings
from jangar_tui.ui.widgets.line_view import Line, LineView, wrap_line

MAX_LINE_CHARS = 1000  # wider lines (minified files) are cut; the rest of the line is not drawn

_FILE = Style(bold=True, color="bright_white", bgcolor="grey23")
_META = Style(dim=True)
_HUNK = Style(color="cyan")
_ADDED = Style(color="green")
_REMOVED = Style(color="red")
_NOTE = Style(color="yellow")
_STATUS = {"A": Style(color="green"), "D": Style(color="red"), "R": Style(color="cyan"), "C": Style(color="cyan")}
_META_PREFIXES = (
    "index ",
    "--- ",
    "+++ ",
    "new file mode",
    "deleted file mode",
    "old mode",
    "new mode",
    "similarity index",
    "dissimilarity index",
    "rename from",
    "rename to",
    "copy from",
    "copy to",
)


def patch_line_style(line: str) -> Style:
    """A unified diff line's colour, from how git starts it."""
    if line.startswith("diff --git "):
        return _FILE
    if line.startswith(_META_PREFIXES):
        return _META
    if line.startswith("@@"):
        return _HUNK
    if line.startswith("+"):
        return _ADDED
    if line.startswith("-"):
        return _REMOVED
    if line.startswith(("Binary files ", "\\")):
        return _NOTE
    return Style()


def file_row(file: ChangedFile) -> str:
    path = one_line(file.path)
    if file.old_path is not None:
        path += f" ← {one_line(file.old_path)}"
    counts = "binary" if file.binary else f"+{file.added:,} −{file.removed:,}"
    return f" {file.status}  {counts:>14}  {path}"


def truncation_note(source: DiffSource) -> str:
    if source == DiffSource.RECORDED:
        return "… diff truncated: the copy kept in the run log is bounded (16 KiB); the branch has it all"
    return (
        f"… diff truncated at {MAX_PATCH_LINES:,} lines / {MAX_PATCH_BYTES // 1024:,} KiB:"
        " the rest is not shown (git diff in the worktree shows it all)"
    )


def diff_lines(diff: Diff, width: int = 0) -> tuple[list[Line], list[int]]:
    """The lines to draw and where each file's diff starts (line indexes); what the diff covers,
    when it says, folded to `width` under the summary (a sentence is read whole)."""
    lines: list[Line] = [(visible(diff.summary()), Style(bold=True))]
    if diff.scope:
        lines.extend(wrap_line((visible(diff.scope), _NOTE), width))
    lines.extend((file_row(f), _STATUS.get(f.status, Style())) for f in diff.files)
    lines.append(("", Style()))
    starts: list[int] = []
    for line in diff.patch.splitlines():
        style = patch_line_style(line)
        if style is _FILE:
            starts.append(len(lines))
        lines.append((visible(line)[:MAX_LINE_CHARS], style))
    if diff.truncated:
        lines.append((truncation_note(diff.source), _NOTE))
    return lines, starts


class DiffView(LineView):
    BINDINGS = bindings("diff")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._file_starts: list[int] = []
        self.diff: Diff | None = None
        self._note: Line | None = None  # the message shown instead of a diff, wrapped to the width

    def show_diff(self, diff: Diff) -> None:
        """Draw `diff`, keeping the scroll position when it is the same work order's newer state."""
        self.diff = diff
        self._note = None
        lines, self._file_starts = diff_lines(diff, self.scrollable_content_region.width)
        self.set_lines(lines)

    def show_note(self, note: str, style: Style | None = None) -> None:
        """A message instead of a diff (loading, nothing to show, an error): data made visible,
        wrapped to the view's width (a diff's lines scroll sideways; a sentence is read whole)."""
        self.diff = None
        self._file_starts = []
        self._note = (visible(note), style or Style(dim=True))
        self._wrap_note()

    def on_resize(self, event: events.Resize) -> None:
        self._wrap_note()
        if self.diff is not None and self.diff.scope:
            lines, self._file_starts = diff_lines(self.diff, self.scrollable_content_region.width)
            self.set_lines(lines)  # its scope folded again

    def _wrap_note(self) -> None:
        if self._note is None:
            return
        text, style = self._note
        width = self.scrollable_content_region.width
        if width <= 0:  # not laid out yet: the first resize wraps it
            self.set_lines([(text, style)])
            return
        console = self.app.console
        rows = [line.plain.rstrip() for part in text.split("\n") for line in Text(part).wrap(console, width)]
        self.set_lines([(row, style) for row in rows or [""]])

    # -- files ----------------------------------------------------------------------------------
    def action_next_file(self) -> None:
        top = round(self.scroll_y)
        following = [start for start in self._file_starts if start > top]
        if following:
            self.scroll_to(y=following[0], animate=False, immediate=True)

    def action_previous_file(self) -> None:
        top = round(self.scroll_y)
        before = [start for start in self._file_starts if start < top]
        self.scroll_to(y=before[-1] if before else 0, animate=False, immediate=True)
