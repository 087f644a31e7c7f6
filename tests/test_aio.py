"""Bounded waits and task stops that keep a cancellation meant for the caller (jangar_tui/aio.py).

The case that matters: the caller is cancelled in the same loop iteration as what it awaits
completes. `asyncio.wait_for` (Python 3.11) then returns the result and the caller runs on; the
runtime's Temporal-state loop did exactly that on quit, and ctrl+q took 26 s instead of ~1 s.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from jangar_tui.aio import cancel_and_wait, lock_exclusive, within


async def _cancelled_as_result_arrives(wait: Callable[[asyncio.Future[int]], Awaitable[Any]]) -> str:
    """Cancel a task at the very moment the future it waits on gets its result; say how it ended."""
    loop = asyncio.get_running_loop()
    result: asyncio.Future[int] = loop.create_future()

    async def caller() -> str:
        await wait(result)
        await asyncio.sleep(0.05)  # a loop would go round again here
        return "ran on"

    task = asyncio.create_task(caller())
    await asyncio.sleep(0)  # the caller is now waiting
    result.set_result(1)
    task.cancel()
    try:
        return await task
    except asyncio.CancelledError:
        return "cancelled"


async def test_within_keeps_a_cancel_that_arrives_with_the_result() -> None:
    assert await _cancelled_as_result_arrives(lambda fut: within(fut, 10)) == "cancelled"


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="asyncio.wait_for keeps the cancel from Python 3.12 on")
async def test_asyncio_wait_for_loses_that_cancel_on_this_python() -> None:
    """Why `within` exists (and ruff bans asyncio.wait_for in the app): the same case, lost."""
    assert await _cancelled_as_result_arrives(lambda fut: asyncio.wait_for(fut, 10)) == "ran on"


async def test_within_bounds_the_wait_and_cancels_what_it_waited_on() -> None:
    slow = asyncio.create_task(asyncio.sleep(30))
    with pytest.raises(TimeoutError):
        await within(slow, 0.05)
    assert slow.cancelled()
    assert await within(asyncio.sleep(0, "done"), None) == "done"


async def test_cancel_and_wait_ends_the_task_and_raises_its_own_failure() -> None:
    ended: list[str] = []

    async def loop_forever() -> None:
        try:
            await asyncio.sleep(30)
        finally:
            ended.append("loop")

    task = asyncio.create_task(loop_forever())
    await asyncio.sleep(0)
    await cancel_and_wait(task)
    assert task.cancelled() and ended == ["loop"]

    async def fail_on_cancel() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            raise RuntimeError("cleanup failed") from None

    failing = asyncio.create_task(fail_on_cancel())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="cleanup failed"):
        await cancel_and_wait(failing)


async def test_cancel_and_wait_does_not_take_the_callers_own_cancel() -> None:
    """A task that takes a while to stop; the caller is cancelled meanwhile and must end cancelled
    (`task.cancel(); with suppress(CancelledError): await task` ran on instead)."""
    release = asyncio.Event()

    async def slow_to_stop() -> None:
        try:
            await asyncio.sleep(30)
        finally:
            await asyncio.shield(release.wait())

    child = asyncio.create_task(slow_to_stop())
    after_stop: list[str] = []

    async def caller() -> None:
        await cancel_and_wait(child)
        after_stop.append("ran on")

    outer = asyncio.create_task(caller())
    await asyncio.sleep(0.01)  # the child is cancelled and waits for `release`
    outer.cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await outer
    assert after_stop == []
    await asyncio.wait({child})


def _open(path: Path) -> int:
    return os.open(path, os.O_CREAT | os.O_RDWR, 0o600)  # its own open file description: its own flock


async def test_lock_exclusive_waits_for_the_holder(tmp_path: Path) -> None:
    holder, waiter = _open(tmp_path / "lock"), _open(tmp_path / "lock")
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        waiting = asyncio.create_task(lock_exclusive(waiter))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        fcntl.flock(holder, fcntl.LOCK_UN)
        await within(waiting, 10)
        with pytest.raises(BlockingIOError):
            fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(holder)
        os.close(waiter)


async def test_a_cancelled_lock_wait_leaves_nothing_waiting_on_the_lock(tmp_path: Path) -> None:
    """Given up, the wait is over: once the holder lets go the lock is free, not taken by a thread
    still blocked in flock for the caller that left (as with asyncio.to_thread(fcntl.flock, ...))."""
    holder, gave_up, probe = (_open(tmp_path / "lock") for _ in range(3))
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        waiting = asyncio.create_task(lock_exclusive(gave_up))
        await asyncio.sleep(0.05)
        await cancel_and_wait(waiting)
        fcntl.flock(holder, fcntl.LOCK_UN)
        await asyncio.sleep(0.5)  # a thread left blocked in flock takes the lock at once
        fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError if anything took it
    finally:
        for fd in (holder, gave_up, probe):
            os.close(fd)
