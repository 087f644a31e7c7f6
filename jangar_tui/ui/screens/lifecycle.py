"""Where a screen is in its life: opened at once for the keys typed behind, and closed early.

A key typed right behind the one that opens a screen (a burst over ssh, a busy machine) is read by
the app as soon as the screen is on the stack: `ask` puts it there in the handler of the key that
asks, so that key reaches it. The same key can close the screen before the screen has handled its
Mount; by then its widgets may be gone, so a Mount (or Resize) handler that looks them up would end
the app. Such handlers return early once the screen has left the stack (`is_closed`).
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

from textual.app import App
from textual.screen import Screen

T = TypeVar("T")


def is_closed(screen: Screen[Any]) -> bool:
    """True once `screen` has been closed (dismissed or popped): it is off the app's stack."""
    return screen not in screen.app.screen_stack


def ask(app: App[Any], screen: Screen[T]) -> asyncio.Future[T | None]:
    """Open `screen` now and give its answer (what it is dismissed with) to await later.

    Call it in the action of the key that asks, never from a worker: a worker starts a moment
    later, and a key typed in between (ctrl+y right behind del) went to the screen below, where it
    did nothing, and was lost. `push_screen_wait` can only be called from a worker."""
    answer: asyncio.Future[T | None] = asyncio.get_running_loop().create_future()

    def answered(result: T | None) -> None:
        if not answer.done():
            answer.set_result(result)

    app.push_screen(screen, callback=answered)
    return answer
