"""Heartbeats of a running activity: what carries a cancel to it, and tells Temporal it lives.

The worker sends at most one heartbeat a second (`worker.HEARTBEAT_THROTTLE`), and a cancel the
workflow asked for reaches the activity with the answer to one, so an activity that heartbeats
every second hears a cancel within about a second. Its heartbeat timeout (set where the workflow
schedules it) is how long Temporal waits before it gives the activity up for dead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from temporalio import activity

from jangar_tui.aio import cancel_and_wait

HEARTBEAT_EVERY_S = 1.0


@contextlib.asynccontextmanager
async def heartbeating() -> AsyncIterator[None]:
    """Heartbeat every `HEARTBEAT_EVERY_S` while the block runs (inside an activity)."""
    beats = asyncio.create_task(_beat_forever())
    try:
        yield
    finally:
        await cancel_and_wait(beats)


async def _beat_forever() -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(HEARTBEAT_EVERY_S)
