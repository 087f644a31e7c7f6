"""The work-order form: prefilled from a message (prompt = the message, title = its first line) or
from the conversation (prompt = its messages, title = the session's), each field checked as you
type, saved as a draft or saved and launched at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Static, TextArea

from jangar_tui.text_safety import visible
from jangar_tui.ui.keymap import bindings, key_label
from jangar_tui.ui.screens.discard import close_or_ask
from jangar_tui.ui.screens.lifecycle import is_closed
from jangar_tui.ui.validation import (
    branch_error,
    issue_url_error,
    prompt_error,
    repo_error,
    work_order_title_error,
)
from jangar_tui.ui.widgets.key_bar import KeyBar
from jangar_tui.ui.widgets.text import set_text


@dataclass(frozen=True)
class WorkOrderDraft:
    title: str
    prompt: str
    target_repo: str
    target_branch: str
    github_issue_url: str
    launch: bool


# field id -> label
_FIELDS: dict[str, str] = {
    "title": "Title",
    "prompt": "Prompt",
    "repo": "Repository (owner/repo, optional)",
    "branch": "Branch (optional)",
    "issue": "GitHub issue URL (optional)",
}


class WorkOrderFormScreen(ModalScreen[WorkOrderDraft | None]):
    BINDINGS = bindings("form")

    def __init__(
        self,
        *,
        check_repo: Callable[[str, str], object],
        title: str = "",
        prompt: str = "",
        source: str = "the conversation",
    ) -> None:
        """`check_repo` is the service's `check_target_repo`, so the form takes exactly the
        repositories the service will."""
        super().__init__(classes="modal")
        self._validators: dict[str, Callable[[str], str | None]] = {
            "title": work_order_title_error,
            "prompt": prompt_error,
            "repo": lambda repo: repo_error(repo, check_repo),
            "branch": branch_error,
            "issue": issue_url_error,
        }
        # Prefilled from data: the fields would draw control characters raw, so they start with
        # the visible forms (␛…), and that is what a saved work order holds unless edited.
        self._initial = {"title": visible(title), "prompt": visible(prompt, keep_tabs=True)}
        self._source = source

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form"):
            yield Static(f"New work order from {self._source}", classes="dialog-title")
            with VerticalScroll(id="form-fields"):
                for field_id, label in _FIELDS.items():
                    yield Static(label, classes="field-label")
                    if field_id == "prompt":
                        yield TextArea(self._initial["prompt"], id="prompt", soft_wrap=True, compact=True)
                    else:
                        yield Input(self._initial.get(field_id, ""), id=field_id, compact=True)
                    yield Static("", id=f"{field_id}-error", classes="field-error")
            with Horizontal(classes="buttons"):
                save, launch, cancel = (
                    key_label(self.app, "form", action, caret=True) for action in ("save", "save_and_launch", "cancel")
                )
                yield Button(f"Save draft {save}", id="save", compact=True)
                yield Button(f"Save and launch {launch}", variant="primary", id="save-launch", compact=True)
                yield Button(f"Cancel {cancel}", id="cancel", compact=True)
        # Over the main screen's key bar: the keys shown are the ones this form answers.
        yield KeyBar()

    def on_mount(self) -> None:
        if is_closed(self):
            return
        self.query_one("#title", Input).focus()
        for field_id in _FIELDS:
            self._check(field_id)

    def _text(self, field_id: str) -> str:
        widget: Widget = self.query_one(f"#{field_id}")
        if isinstance(widget, TextArea):
            return widget.text
        assert isinstance(widget, Input)
        return widget.value

    def _value(self, field_id: str) -> str:
        text = self._text(field_id)
        return text.strip() if field_id not in ("title", "prompt") else text

    def _check(self, field_id: str) -> str | None:
        error = self._validators[field_id](self._value(field_id))
        set_text(self.query_one(f"#{field_id}-error", Static), f"✗ {error}" if error else "")
        return error

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        if event.input.id in _FIELDS:
            self._check(event.input.id)

    @on(TextArea.Changed, "#prompt")
    def _prompt_changed(self) -> None:
        self._check("prompt")

    @on(Input.Submitted)
    def _input_submitted(self) -> None:
        self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.action_cancel()
        else:
            self._submit(launch=event.button.id == "save-launch")

    def action_save(self) -> None:
        self._submit(launch=False)

    def action_save_and_launch(self) -> None:
        self._submit(launch=True)

    def action_cancel(self) -> None:
        written = any(self._text(field_id) != self._initial.get(field_id, "") for field_id in _FIELDS)
        close_or_ask(self, written=written, what="this work order")

    def _submit(self, *, launch: bool) -> None:
        invalid = [field_id for field_id in _FIELDS if self._check(field_id)]
        if invalid:
            self.query_one(f"#{invalid[0]}").focus()
            return
        self.dismiss(
            WorkOrderDraft(
                title=self._value("title").strip(),
                prompt=self._value("prompt"),
                target_repo=self._value("repo"),
                target_branch=self._value("branch"),
                github_issue_url=self._value("issue"),
                launch=launch,
            )
        )
