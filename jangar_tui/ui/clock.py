"""Time for the UI: an injectable clock and the compact relative times of the sidebar."""

from __future__ import annotations

import time
from collections.abc import Callable

# Epoch milliseconds, like every timestamp of the data model. Tests inject a frozen one.
Clock = Callable[[], int]


def system_clock() -> int:
    return int(time.time() * 1000)


_MINUTE = 60_000
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
_YEAR = 365 * _DAY


def relative_time(timestamp_ms: int, now_ms: int) -> str:
    """How long ago `timestamp_ms` was, in at most four characters: "now", "3m", "2h", "5d", "1y"."""
    age = max(0, now_ms - timestamp_ms)
    if age < _MINUTE:
        return "now"
    if age < _HOUR:
        return f"{age // _MINUTE}m"
    if age < _DAY:
        return f"{age // _HOUR}h"
    if age < _YEAR:
        return f"{age // _DAY}d"
    return f"{age // _YEAR}y"


def clock_time(timestamp_ms: int | None) -> str:
    """A UTC date-time for detail views, or "—" when absent."""
    if timestamp_ms is None:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp_ms / 1000))
