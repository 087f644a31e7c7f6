"""Text updates that cost nothing when nothing changed."""

from __future__ import annotations

from textual.widgets import Static


def set_text(widget: Static, text: str) -> None:
    """`widget.update(text)`, only when the text differs: each update re-lays out the widget's pane,
    and most live snapshots (and form checks) leave the text as it was."""
    if str(widget.content) != text:
        widget.update(text)
