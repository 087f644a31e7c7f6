"""Helpers for the UI tests: a controllable clock and bounded waits for live updates."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot

# 2026-01-01 00:00:00 UTC: every timestamp in the frozen tests starts here.
BASE_MS = 1_767_225_600_000
MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
MAX_POLLS = 500  # × 10 ms of idle time: reaching it means the UI never got there


class FakeTime:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def set(self, now: int) -> None:
        self.now = now


async def until(
    pilot: Pilot[object], predicate: Callable[[], object], what: str, *, polls: int = MAX_POLLS, every_s: float = 0.01
) -> None:
    """Let the app run until `predicate()` holds (live updates arrive from the store's thread)."""
    for _ in range(polls):
        if predicate():
            return
        await pilot.pause(every_s)
    pytest.fail(f"the UI never got there: {what}")


def screen_text(pilot: Pilot[object]) -> str:
    """Everything on screen as plain text (what a person would read)."""
    strips = pilot.app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


# Scrollbar thumbs and tracks: drawn beside text, never part of it.
_SCROLLBAR = str.maketrans(dict.fromkeys("▁▂▃▄▅▆▇█▔▕▏▎▍▌▋▊▉", " "))


def words(text: str) -> str:
    """`text`'s words in order, one space apart: a sentence folded over rows reads as one line."""
    return " ".join(text.translate(_SCROLLBAR).split())


def notified(pilot: Pilot[object]) -> str:
    """The text of every notification raised so far (toasts are drawn on a layer of their own)."""
    return "\n".join(n.message for n in pilot.app._notifications)
