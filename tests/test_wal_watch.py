"""Commits by another connection reach the embedded store's watchers through inotify, not a poll."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from jangar_tui.store.sqlite import store as store_module
from jangar_tui.store.sqlite.store import LocalStore
from jangar_tui.store.sqlite.wal_watch import WalWatch

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")
# Safety net against a hang, not a speed assertion.
STEP_TIMEOUT_S = 30


@linux_only
def test_only_the_wal_file_counts(tmp_path: Path) -> None:
    db = tmp_path / "jangar.sqlite3"
    watch = WalWatch.open(db)
    assert watch is not None
    try:
        assert watch.drain() is False  # nothing happened yet
        (tmp_path / "temporal.db").write_bytes(b"x")  # another file in the data dir
        (tmp_path / "jangar.sqlite3-walrus").write_bytes(b"x")
        assert watch.drain() is False
        (tmp_path / "jangar.sqlite3-wal").write_bytes(b"x")
        assert watch.drain() is True
        assert watch.drain() is False  # each event is read once
    finally:
        watch.close()


@linux_only
async def test_another_connections_commit_wakes_watchers_without_waiting_for_a_poll(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With every poll an hour away, only the WAL watch can deliver the change in time.
    monkeypatch.setattr(store_module, "FALLBACK_POLL_S", 3600.0)
    monkeypatch.setattr(store_module, "POLL_INTERVAL_S", 3600.0)
    db = tmp_path / "jangar.sqlite3"
    reader, writer = LocalStore(db), LocalStore(db)
    try:
        snapshots = reader.watch_sessions("alice")
        assert await asyncio.wait_for(anext(snapshots), STEP_TIMEOUT_S) == []
        await asyncio.sleep(0.2)  # the reader is waiting on its watch now
        for n in range(3):
            session = await writer.create_session("alice", f"from the worker {n}")
            seen = await asyncio.wait_for(anext(snapshots), STEP_TIMEOUT_S)
            assert session.id in [s.id for s in seen]
        await snapshots.aclose()
    finally:
        await writer.close()
        await reader.close()


class _Pipe:
    """Stands in for the WAL watch: readable when the test says the WAL was written."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)

    def fileno(self) -> int:
        return self._read

    def written(self) -> None:
        os.write(self._write, b"w")

    def drain(self) -> bool:
        try:
            return bool(os.read(self._read, 4096))
        except BlockingIOError:
            return False

    def close(self) -> None:
        os.close(self._read)
        os.close(self._write)


async def test_a_wake_before_the_commit_is_visible_looks_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite writes a commit to the WAL, then publishes it in the -shm index, which inotify does not
    see: the check right after the wake can find nothing new, and no further write of the WAL may
    come. Here the one wake finds the commit not yet visible; it must be seen all the same, long
    before the hourly check."""
    monkeypatch.setattr(store_module, "FALLBACK_POLL_S", 3600.0)
    pipe = _Pipe()
    monkeypatch.setattr(store_module.WalWatch, "open", classmethod(lambda cls, path: pipe))
    db = tmp_path / "jangar.sqlite3"
    reader, writer = LocalStore(db), LocalStore(db)
    real = reader._db.changed_tables
    unpublished = [True]

    def changed_tables() -> set[str]:
        if unpublished[0]:  # the first look after the wake: the commit is not in the index yet
            unpublished[0] = False
            return set()
        return real()

    reader._db.changed_tables = changed_tables  # type: ignore[method-assign]
    try:
        snapshots = reader.watch_sessions("alice")
        assert await asyncio.wait_for(anext(snapshots), STEP_TIMEOUT_S) == []
        session = await writer.create_session("alice", "published late")
        pipe.written()
        seen = await asyncio.wait_for(anext(snapshots), STEP_TIMEOUT_S)
        assert [s.id for s in seen] == [session.id]
        assert not unpublished[0]  # the wake did find it unpublished first
        await snapshots.aclose()  # type: ignore[attr-defined]
    finally:
        await writer.close()
        await reader.close()
