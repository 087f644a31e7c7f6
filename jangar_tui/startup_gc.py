"""The garbage collector, paused while `jangar` starts and resumed once the first frame is up.

Starting the UI allocates a few hundred thousand long-lived objects (modules, classes, styles,
the first frame) and hardly any garbage; with the collector running, CPython walks them about
180 times before the session list is on screen, ~50 ms of a 0.5 s budget on a 2-core machine.
`pause()` runs first thing in the `jangar` command (`jangar_tui.__main__`); `resume()` freezes
what start-up built (moved out of every later collection, so those stay short) and turns the
collector back on. Code that never paused it (tests, `jangar worker`) is unaffected.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Idempotent: the first call after `pause()` freezes and re-enables; any other does nothing."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
