"""Leaving a dialog the operator wrote in: esc asks first, since what was written is kept nowhere else.

esc is the key that leaves almost everything, and it is often pressed twice or typed ahead; a work
order's form or a follow-up note can hold minutes of writing. Left unchanged, the dialog closes at
once; changed, a question (No by default, as every question) asks before the text is dropped.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen

from jangar_tui.ui.screens.confirm import ConfirmScreen
from jangar_tui.ui.screens.lifecycle import is_closed


def close_or_ask(screen: Screen[Any], *, written: bool, what: str) -> None:
    """Dismiss `screen` with None, first asking when `written` (the operator changed its text).

    Called in the action of the key that leaves, so a key typed right behind it answers the question."""
    if not written:
        screen.dismiss(None)
        return

    def answered(discard: bool | None) -> None:
        if discard and not is_closed(screen):
            screen.dismiss(None)

    screen.app.push_screen(
        ConfirmScreen(f"Discard {what}? What you wrote is lost.", yes="Discard", no="Keep writing"), callback=answered
    )
