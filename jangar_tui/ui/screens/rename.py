"""Rename a session: one field, validated as you type, saved with enter.

The field starts with the title as shown (control characters made visible); saving it unchanged
renames nothing, so the stored bytes stay as they were unless the operator edits them."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from jangar_tui.text_safety import visible
from jangar_tui.ui.keymap import bindings, key_label
from jangar_tui.ui.validation import title_error
from jangar_tui.ui.widgets.key_bar import KeyBar


class RenameScreen(ModalScreen[str | None]):
    BINDINGS = bindings("rename")

    def __init__(self, title: str) -> None:
        super().__init__(classes="modal")
        self._title = visible(title)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Rename session", classes="dialog-title")
            yield Input(self._title, id="title", select_on_focus=True)
            yield Static("", id="title-error", classes="field-error")
            save, cancel = (key_label(self.app, "rename", action) for action in ("save", "cancel"))
            yield Static(f"{save} save · {cancel} cancel", classes="hint")
        yield KeyBar()  # this dialog's keys, not the main screen's

    @on(Input.Changed, "#title")
    def _validate(self, event: Input.Changed) -> None:
        self.query_one("#title-error", Static).update(title_error(event.value) or "")

    def action_save(self) -> None:
        value = self.query_one("#title", Input).value
        error = title_error(value)
        if error:
            self.query_one("#title-error", Static).update(error)
            return
        title = value.strip()
        self.dismiss(None if title == self._title.strip() else title)

    def action_cancel(self) -> None:
        self.dismiss(None)
