"""Where a screen is in its life, for the handlers that run late.

A key typed right behind the one that opened a screen (a burst over ssh, a busy machine) is read
by the app as soon as the screen is on the stack, and can close it before the screen has handled
its Mount; by then its widgets may be gone, so a Mount (or Resize) handler that looks them up
would end the app. Such handlers return early once the screen has left the stack.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen


def is_closed(screen: Screen[Any]) -> bool:
    """True once `screen` has been closed (dismissed or popped): it is off the app's stack."""
    return screen not in screen.app.screen_stack
