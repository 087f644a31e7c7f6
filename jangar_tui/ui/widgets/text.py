"""Text updates that cost nothing when nothing changed."""

from __future__ import annotations

from textual.widgets import Static

from jangar_tui.ui.safe_text import content


def set_text(widget: Static, text: str, *, layout: bool = True) -> None:
    """`widget.update(text)` as plain text (never markup: it often carries data), only when the
    text differs: each update re-lays out the widget's pane, and most live snapshots (and form
    checks) leave the text as it was. `layout=False` for a widget whose size the text cannot
    change (a one-line title of fixed height and width): no layout of the screen at all."""
    shown = content(text)
    if str(widget.content) != shown.plain:
        widget.update(shown, layout=layout)
