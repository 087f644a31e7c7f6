"""A yes/no question in a modal that defaults to No.

Only a deliberate key says yes: ctrl+y, or enter on the yes button after moving to it (tab, ←/→).
No letter does: the question often follows a letter typed into a list (the `d` of "today"), and
the rest of the word must not answer it. n, escape and enter (the No button has the focus) decline.
A ctrl+y typed right behind the key that asks (del, c, x in one burst) answers the question, as if
typed once it showed: deliberately, since no word or stray letter holds ctrl+y, and dropping it
left a question the operator believed answered (a deleted session also comes back with ctrl+u).
The question quotes data (a session's or work order's title), so it is shown as plain text.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from jangar_tui.ui.keymap import bindings, key_label
from jangar_tui.ui.safe_text import content
from jangar_tui.ui.screens.lifecycle import is_closed
from jangar_tui.ui.widgets.key_bar import KeyBar


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = bindings("confirm")

    def __init__(self, question: str, *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__(classes="modal")
        self._question, self._yes, self._no = question, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(content(self._question), classes="question")
            with Horizontal(classes="buttons"):
                no, yes = (key_label(self.app, "confirm", f"answer({answer})") for answer in (False, True))
                yield Button(f"{self._no} ({no})", id="no", compact=True)
                yield Button(f"{self._yes} ({yes})", variant="error", id="yes", compact=True)
        yield KeyBar()  # this dialog's keys, not the main screen's

    def on_mount(self) -> None:
        if is_closed(self):
            return
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
