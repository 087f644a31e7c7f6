"""When CPython's cyclic garbage collector may run in `jangar`, so that it never stalls the UI.

Why (traced with bench/bench_ui.py on 1,000 sessions; the figures are in bench/README.md):
- Start-up builds ~130,000 long-lived objects the collector tracks (modules, classes, styles,
  the first frame) and hardly any garbage, yet the collector ran ~180 times, ~50 ms in all,
  before the session list was on screen. So `pause_for_startup()` runs first thing in the `jangar`
  command (`jangar_tui.__main__`) and `startup_done()` turns the collector back on once the first
  screenful (session list, newest messages) is shown, after `gc.freeze()` has moved what start-up built out of all later
  collections.
- Textual churns through objects while it draws (strips, segments, style caches): full
  collections came every ~1.6 s while typing and took 30–120 ms each, landing inside key presses
  (the tail of ctrl+l -> `submitted`). `startup_done()` therefore leaves young collections
  automatic but stops automatic full ones; the app asks `FullCollections.run_if_due()` on a timer
  and a full collection runs once input has been quiet for a moment, or after
  `FULL_COLLECTION_AT_LEAST_EVERY_S` regardless, so cyclic garbage stays bounded.

A process that never paused (tests, `jangar worker`, `jangar deploy`) keeps CPython's defaults.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

QUIET_BEFORE_FULL_COLLECTION_S = 2.0
FULL_COLLECTION_AT_LEAST_EVERY_S = 60.0
# gc.set_threshold's third value counts young collections between full ones; this many is never.
_NO_AUTOMATIC_FULL_COLLECTIONS = 2**30

_paused = False
_managed = False  # full collections are ours to schedule


def pause_for_startup() -> None:
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def startup_done() -> None:
    """Idempotent: the first call after `pause_for_startup()` freezes, retunes and re-enables."""
    global _paused, _managed
    if not _paused:
        return
    _paused = False
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, _NO_AUTOMATIC_FULL_COLLECTIONS)
    _managed = True
    gc.enable()


def release() -> None:
    """CPython's own collector behaviour again (for `jangar worker` and `jangar deploy`)."""
    global _paused
    if _paused:
        _paused = False
        gc.enable()


def freeze_long_lived() -> None:
    """After a large import past start-up (temporalio): its modules live as long as the process."""
    if _managed:
        gc.freeze()


def managed() -> bool:
    return _managed


class FullCollections:
    """Runs the full collections that `startup_done()` took away from the interpreter."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._now = clock
        self._last_input = self._now()
        self._last_full = self._now()
        self.count = 0

    def input_seen(self) -> None:
        self._last_input = self._now()

    def run_if_due(self) -> bool:
        """Collect when input has been quiet long enough, or when the last full collection is old."""
        if not _managed:
            return False
        now = self._now()
        quiet = now - self._last_input >= QUIET_BEFORE_FULL_COLLECTION_S
        overdue = now - self._last_full >= FULL_COLLECTION_AT_LEAST_EVERY_S
        if not overdue and not (quiet and gc.get_count()[2] > 0):
            return False
        gc.collect()
        self._last_full = self._now()
        self.count += 1
        return True
