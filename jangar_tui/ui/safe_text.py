"""Data to screen text: the UI's side of `jangar_tui.text_safety`.

Every string that comes from the store, an agent or Temporal reaches a widget through one of
these: made visible (`visible`/`one_line`) and wrapped as plain text (`rich.text.Text` or Textual
`Content`), never parsed as markup, so `[/]` cannot raise, `[@click=app.quit]` cannot become an
action, `[link=…]` cannot become a link and `list[int]` stays `list[int]`.
"""

from __future__ import annotations

from rich.console import OverflowMethod
from rich.style import Style
from rich.text import Text
from textual.content import Content

from jangar_tui.text_safety import one_line, visible

__all__ = ["content", "data_text", "line_text", "one_line", "visible"]


def data_text(text: str, style: str | Style = "", *, overflow: OverflowMethod | None = None) -> Text:
    """A Rich `Text` of untrusted text (lines kept)."""
    return Text(visible(text), style=style, overflow=overflow)


def line_text(text: str, style: str | Style = "", *, overflow: OverflowMethod = "ellipsis") -> Text:
    """A Rich `Text` of untrusted text where one line is shown (newlines as ⏎), cut to the width."""
    return Text(one_line(text), style=style, no_wrap=True, overflow=overflow)


def content(text: str) -> Content:
    """A Textual `Content` of untrusted text, for `Static.update` and the like."""
    return Content(visible(text))
