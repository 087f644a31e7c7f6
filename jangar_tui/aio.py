"""Waiting with a bound, and stopping a task, without losing a cancellation meant for the caller.

On Python 3.11, `asyncio.wait_for` returns the result when the awaited thing completes in the same
loop iteration as the caller is cancelled: the cancellation is swallowed and the caller runs on.
A loop that is stopped by cancelling it (the runtime's pollers on quit) then never ends, and quitting
waited for its bound (it took over 20 s, once in ~20 quits under load). `asyncio.timeout` keeps the
cancellation, so every bounded wait here goes through it; ruff bans `asyncio.wait_for` in the app
(pyproject.toml, banned-api).

For the same reason a task is stopped with `cancel_and_wait`, not with
`task.cancel(); with suppress(CancelledError): await task`, which also takes the caller's own
cancellation if it arrives meanwhile.

A file lock is waited for with `lock_exclusive`, not `asyncio.to_thread(fcntl.flock, ...)`: a thread
cannot be cancelled. It kept waiting after its caller had given up, held up the exit (asyncio.run
waits for the default executor's threads), and could take the lock on a descriptor the caller had
closed meanwhile, or on whatever file the next open() got that number.
"""

from __future__ import annotations

import asyncio
import fcntl
from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")

# A lock held by another process is tried again after 5 ms, then up to every 100 ms.
_LOCK_FIRST_RETRY_S = 0.005
_LOCK_MAX_RETRY_S = 0.1


async def within(awaitable: Awaitable[T], seconds: float | None) -> T:
    """`await awaitable`, raising `TimeoutError` (and cancelling it) after `seconds` (None: no bound),
    like `asyncio.wait_for` but keeping the caller's cancellation."""
    async with asyncio.timeout(seconds):
        return await awaitable


async def cancel_and_wait(task: asyncio.Future[Any]) -> None:
    """Cancel `task` and wait until it has ended. A failure of its own (not the cancel) is raised, as
    `await task` would; the caller's own cancellation raises too, instead of being taken for the task's."""
    task.cancel()
    await asyncio.wait({task})
    if not task.cancelled() and (error := task.exception()) is not None:
        raise error


async def lock_exclusive(fd: int) -> None:
    """Take an exclusive `flock` on `fd`, waiting (cancellably, without a thread) while another holds it."""
    delay = _LOCK_FIRST_RETRY_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            await asyncio.sleep(delay)
            delay = min(delay * 2, _LOCK_MAX_RETRY_S)
