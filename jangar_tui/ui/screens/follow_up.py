"""The follow-up note: what the agent is asked next about an ended work order.

One text field; ctrl+l sends it (a new work order continuing the first is made and launched),
esc leaves without sending (asking first when a note is written). The note is the operator's
own text, checked like a prompt.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from jangar_tui.text_safety import one_line
from jangar_tui.ui.keymap import bindings, key_label
from jangar_tui.ui.screens.discard import close_or_ask
from jangar_tui.ui.screens.lifecycle import is_closed
from jangar_tui.ui.validation import prompt_error
from jangar_tui.ui.widgets.key_bar import KeyBar
from jangar_tui.ui.widgets.text import set_text


class FollowUpScreen(ModalScreen[str | None]):
    BINDINGS = bindings("follow_up")

    def __init__(self, title: str) -> None:
        super().__init__(classes="modal")
        self._title = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog follow-up"):
            yield Static(f"Follow up “{one_line(self._title)}”", classes="dialog-title", markup=False)
            yield Static(
                "Same branch, worktree, Codex thread and pull request; the note is what the agent is asked next.",
                classes="hint",
            )
            yield TextArea(id="note", soft_wrap=True, compact=True)
            yield Static("", id="note-error", classes="field-error")
            send, cancel = (key_label(self.app, "follow_up", action) for action in ("send", "cancel"))
            yield Static(f"{send} send · {cancel} cancel", classes="hint")
        yield KeyBar()

    def on_mount(self) -> None:
        if is_closed(self):
            return
        self.query_one("#note", TextArea).focus()

    @on(TextArea.Changed, "#note")
    def _changed(self) -> None:
        set_text(self.query_one("#note-error", Static), "")

    def action_send(self) -> None:
        note = self.query_one("#note", TextArea).text
        error = "Write what the agent should do next." if not note.strip() else prompt_error(note, "note")
        if error:
            set_text(self.query_one("#note-error", Static), f"✗ {error}")
            return
        self.dismiss(note)

    def action_cancel(self) -> None:
        close_or_ask(self, written=bool(self.query_one("#note", TextArea).text), what="this note")
