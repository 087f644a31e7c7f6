"""The message input: Enter sends, ctrl+j (or shift+enter where the terminal reports it) breaks the
line. The text leaves the input only once the message is stored; a failed send keeps it there and
shows the reason underneath.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static, TextArea

from jangar_tui.ui.keymap import active_keys, bindings, display_keys, keys_of
from jangar_tui.ui.safe_text import content


class ComposerInput(TextArea):
    BINDINGS = bindings("composer")

    class Submitted(Message):
        def __init__(self, text: str) -> None:
            self.text = text
            super().__init__()

    async def _on_key(self, event: events.Key) -> None:
        # Enter and the newline keys are handled here, in the widget's own queue of keys, not by
        # their bindings: a binding runs only after the key has bubbled up to the app, by which
        # time the letters typed after it (a burst from tmux or ssh) are already in the text.
        # (TextArea inserts a newline on Enter itself; Enter sends here, so it is caught first.)
        table = active_keys(self.app)
        send_keys, newline_keys = keys_of("composer", "send", table), keys_of("composer", "newline", table)
        if event.key in send_keys or event.key in newline_keys:
            event.stop()
            event.prevent_default()
            if event.key in send_keys:
                self.action_send()
            else:
                self.action_newline()
            return
        await super()._on_key(event)

    def action_send(self) -> None:
        if self.text.strip():
            self.post_message(self.Submitted(self.text))

    def action_newline(self) -> None:
        self.insert("\n")


class Composer(Vertical):
    def compose(self) -> ComposeResult:
        yield Static("", id="send-error", classes="error-line")
        yield ComposerInput(id="composer-input", soft_wrap=True, show_line_numbers=False, compact=True)
        table = active_keys(self.app)
        send, newline = (display_keys(keys_of("composer", action, table)[0]) for action in ("send", "newline"))
        yield Static(f"{send} send · {newline} new line", id="composer-hint", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#send-error").display = False

    @property
    def input(self) -> ComposerInput:
        return self.query_one(ComposerInput)

    def show_error(self, message: str) -> None:
        error = self.query_one("#send-error", Static)
        error.update(content(f"✗ Not sent: {message}"))
        error.display = True

    def sent(self, text: str) -> None:
        """The message was stored: clear the input unless the user already changed it."""
        self.query_one("#send-error").display = False
        if self.input.text == text:
            self.input.clear()
