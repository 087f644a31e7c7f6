"""A commit by another connection re-queries only the watchers that read a table it changed.

Each watcher kind is watched on one store (the UI's) while another store on the same file (the
worker's) commits: first to tables the watcher does not read, each followed until a watcher of that
table on the UI's store has seen it (so the UI's store has heard that commit), then to the table it
reads. The watcher's query runs once at the start and once for its own table's change, never for the
others'. Queries are counted by wrapping the real query method of the watcher under test.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jangar_tui.models import WorkOrderStatus
from jangar_tui.store.sqlite import store as store_module
from jangar_tui.store.sqlite.schema import MIGRATIONS, VERSIONS_SCHEMA_VERSION, migrate
from jangar_tui.store.sqlite.store import LocalStore, Topic

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")
# Safety net against a hang, not a speed assertion.
STEP_TIMEOUT_S = 30
# Time for a wrongly woken watcher to re-query after the watcher of the changed table has: both
# would be woken by the same signal, so this only has to cover the executor's queue.
SETTLE_S = 0.3


@dataclass
class Scene:
    """Alice's session `here` (the watched one, with a draft work order) and `there`, another of hers
    with a running work order that streams events."""

    ui: LocalStore
    worker: LocalStore
    here: str
    there: str
    here_order: str
    there_order: str


async def _scene(path: Path) -> Scene:
    worker = LocalStore(path)
    here = await worker.create_session("alice", "Here")
    there = await worker.create_session("alice", "There")
    here_order = await worker.create_work_order(here.id, "jangar-wo-here", title="here")
    there_order = await worker.create_work_order(there.id, "jangar-wo-there", title="there")
    await worker.append_message(here.id, "user", "hello")
    await worker.append_work_order_events(here_order.id, [{"kind": "output", "text": "here 0"}])
    for status in ("submitted", "accepted", "running"):
        await worker.update_work_order_status(there_order.id, status)
    # The UI's store opens on the finished setup, as the app opens on an existing file.
    return Scene(LocalStore(path), worker, here.id, there.id, here_order.id, there_order.id)


# -- commits by the worker, each with the watch on the UI's store that shows it has been heard --------


@dataclass
class Commit:
    name: str
    do: Callable[[Scene, int], Awaitable[Any]]
    heard: Callable[[Scene], AsyncIterator[list[Any]]]
    seen: Callable[[list[Any], int], bool]


EVENTS_THERE = Commit(
    "events of another work order",
    lambda s, n: s.worker.append_work_order_events(s.there_order, [{"kind": "output", "text": f"there {n}"}]),
    lambda s: s.ui.watch_work_order_events(s.there_order, 5),
    lambda events, n: bool(events) and events[-1].text == f"there {n}",
)
MESSAGE_THERE = Commit(
    "a message in another session",
    lambda s, n: s.worker.append_message(s.there, "user", f"there {n}"),
    lambda s: s.ui.watch_messages(s.there, 5),
    lambda messages, n: bool(messages) and messages[-1].content == f"there {n}",
)
RENAME_HERE = Commit(
    "the watched session renamed",
    lambda s, n: s.worker.rename_session(s.here, f"Here {n}"),
    lambda s: s.ui.watch_sessions("alice"),
    lambda sessions, n: any(x.title == f"Here {n}" for x in sessions),
)
ORDER_THERE = Commit(
    "another session's work order changed",
    lambda s, n: s.worker.update_work_order_result(s.there_order, f"https://github.com/acme/app/pull/{n}"),
    lambda s: s.ui.watch_work_orders(s.there),
    lambda orders, n: bool(orders) and orders[0].prUrl == f"https://github.com/acme/app/pull/{n}",
)


@dataclass
class Kind:
    name: str
    query: str  # the SqliteDb method the watcher re-runs
    watch: Callable[[Scene], AsyncIterator[list[Any]]]
    others: list[Commit]  # commits to tables it does not read
    own: Callable[[Scene], Awaitable[Any]]  # a commit to a table it reads
    shows_own: Callable[[list[Any]], bool]


KINDS = [
    Kind(
        "sessions",
        "recent_sessions",
        lambda s: s.ui.watch_sessions("alice"),
        [EVENTS_THERE, ORDER_THERE],
        lambda s: s.worker.create_session("alice", "New"),
        lambda sessions: any(x.title == "New" for x in sessions),
    ),
    Kind(
        "messages",
        "recent_messages",
        lambda s: s.ui.watch_messages(s.here, 10),
        [EVENTS_THERE, ORDER_THERE, RENAME_HERE],
        lambda s: s.worker.append_message(s.here, "assistant", "answer"),
        lambda messages: messages[-1].content == "answer",
    ),
    Kind(
        "work orders of a session",
        "recent_work_orders",
        lambda s: s.ui.watch_work_orders(s.here),
        [EVENTS_THERE, MESSAGE_THERE, RENAME_HERE],
        lambda s: s.worker.update_work_order_status(s.here_order, "submitted"),
        lambda orders: orders[0].status is WorkOrderStatus.SUBMITTED,
    ),
    Kind(
        "a work order's events",
        "recent_work_order_events",
        lambda s: s.ui.watch_work_order_events(s.here_order, 10),
        [MESSAGE_THERE, RENAME_HERE, ORDER_THERE],
        lambda s: s.worker.append_work_order_events(s.here_order, [{"kind": "output", "text": "here 1"}]),
        lambda events: events[-1].text == "here 1",
    ),
    Kind(
        "work orders by status",
        "recent_work_orders_by_status",
        lambda s: s.ui.watch_work_orders_by_status("running", 10, "alice"),
        [EVENTS_THERE, MESSAGE_THERE, RENAME_HERE],
        lambda s: s.worker.update_work_order_status(s.there_order, "succeeded"),
        lambda orders: orders == [],
    ),
]


def _count_queries(store: LocalStore, name: str) -> list[int]:
    """Count the calls of the store's query `name` by watchers opened until `_uncount`."""
    calls = [0]
    real = getattr(store._db, name)

    def counted(*args: Any) -> Any:
        calls[0] += 1
        return real(*args)

    setattr(store._db, name, counted)
    return calls


def _uncount(store: LocalStore, name: str) -> None:
    delattr(store._db, name)  # the class's method again


class Follower:
    """Consumes a watch as the app does (always waiting for the next snapshot, so a wake re-queries
    at once) and keeps what it yields."""

    def __init__(self, watch: AsyncIterator[list[Any]]) -> None:
        self._snapshots: asyncio.Queue[list[Any]] = asyncio.Queue()
        self._task = asyncio.create_task(self._follow(watch))

    async def _follow(self, watch: AsyncIterator[list[Any]]) -> None:
        try:
            async for snapshot in watch:
                self._snapshots.put_nowait(snapshot)
        finally:
            await watch.aclose()  # type: ignore[attr-defined]

    async def next(self) -> list[Any]:
        return await asyncio.wait_for(self._snapshots.get(), STEP_TIMEOUT_S)

    async def until(self, seen: Callable[[list[Any]], bool]) -> list[Any]:
        while not seen(snapshot := await self.next()):
            pass
        return snapshot

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@linux_only
@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
async def test_a_foreign_commit_requeries_only_the_watchers_of_its_tables(tmp_path: Path, kind: Kind) -> None:
    # The once-a-second check stays: it re-queries nothing when no version moved, and it catches
    # a WAL write woken on before its commit was published (test_wal_watch covers the watch alone).
    scene = await _scene(tmp_path / "jangar.sqlite3")
    calls = _count_queries(scene.ui, kind.query)
    watch = Follower(kind.watch(scene))
    _uncount(scene.ui, kind.query)
    sentinels: list[Follower] = []
    try:
        await watch.next()
        assert calls[0] == 1
        for n, commit in enumerate(kind.others, start=1):
            sentinel = Follower(commit.heard(scene))
            sentinels.append(sentinel)
            await sentinel.next()
            await commit.do(scene, n)
            await sentinel.until(lambda snapshot, n=n, commit=commit: commit.seen(snapshot, n))
            await asyncio.sleep(SETTLE_S)
            assert calls[0] == 1, f"{kind.name} re-queried for {commit.name}"
        await kind.own(scene)
        await watch.until(kind.shows_own)
        assert calls[0] == 2, f"{kind.name}: one query for its own table's change"
    finally:
        for follower in (watch, *sentinels):
            await follower.stop()
        await scene.ui.close()
        await scene.worker.close()


@linux_only
async def test_a_foreign_removal_reaches_the_watches_that_depend_on_it(tmp_path: Path) -> None:
    """A session's messages vanish with it, a work order's events with it: those watches hear the
    removal and the restore."""
    scene = await _scene(tmp_path / "jangar.sqlite3")
    gone = await scene.worker.create_session("alice", "Gone")  # no work orders: it may be removed
    await scene.worker.append_message(gone.id, "user", "soon gone")
    events = Follower(scene.ui.watch_work_order_events(scene.here_order, 10))
    messages = Follower(scene.ui.watch_messages(gone.id, 10))
    try:
        assert [e.text for e in await events.next()] == ["here 0"]
        assert [m.content for m in await messages.next()] == ["soon gone"]
        await scene.worker.remove_work_order(scene.here_order)
        assert await events.next() == []
        await scene.worker.restore_work_order(scene.here_order)
        assert [e.text for e in await events.next()] == ["here 0"]
        await scene.worker.remove_session(gone.id)
        assert await messages.next() == []
        await scene.worker.restore_session(gone.id)
        assert [m.content for m in await messages.next()] == ["soon gone"]
    finally:
        await events.stop()
        await messages.stop()
        await scene.ui.close()
        await scene.worker.close()


async def test_a_write_in_this_process_wakes_its_tables_watchers_at_once_and_no_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No poll and no WAL watch in time: only the write's own signal can deliver.
    monkeypatch.setattr(store_module, "FALLBACK_POLL_S", 3600.0)
    monkeypatch.setattr(store_module.WalWatch, "open", classmethod(lambda cls, path: None))
    monkeypatch.setattr(store_module, "POLL_INTERVAL_S", 3600.0)
    scene = await _scene(tmp_path / "jangar.sqlite3")
    await scene.worker.close()
    ui = scene.ui
    calls = _count_queries(ui, "recent_sessions")
    sessions = Follower(ui.watch_sessions("alice"))
    _uncount(ui, "recent_sessions")
    events = Follower(ui.watch_work_order_events(scene.there_order, 5))
    try:
        await sessions.next()
        await events.next()
        await ui.append_work_order_events(scene.there_order, [{"kind": "output", "text": "mine"}])
        assert [e.text for e in await events.next()] == ["mine"]
        await asyncio.sleep(SETTLE_S)
        assert calls[0] == 1
        await ui.rename_session(scene.here, "Renamed here")
        assert any(s.title == "Renamed here" for s in await sessions.next())
        assert calls[0] == 2
    finally:
        await sessions.stop()
        await events.stop()
        await ui.close()


def test_every_topic_is_a_versioned_table_and_triggers_count_every_change(tmp_path: Path) -> None:
    db = tmp_path / "fresh.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    migrate(conn)
    try:
        rows = dict(conn.execute("SELECT name, version FROM table_versions").fetchall())
        assert rows == {topic.value: 0 for topic in Topic}
        conn.execute(
            "INSERT INTO chat_sessions (_id, userId, title, lastMessageAt, createdAt, updatedAt) "
            "VALUES ('ses_1', 'alice', 't', 1, 1, 1), ('ses_2', 'alice', 'u', 1, 1, 1)"
        )
        conn.execute("UPDATE chat_sessions SET title = 'v' WHERE _id = 'ses_1'")
        conn.execute("UPDATE chat_sessions SET deletedAt = 2 WHERE _id = 'ses_2'")
        conn.execute("UPDATE chat_sessions SET deletedAt = 2 WHERE _id = 'ses_2'")  # already removed
        rows = dict(conn.execute("SELECT name, version FROM table_versions").fetchall())
        assert rows["chat_sessions"] == 5  # two inserts, three updates
        assert rows["chat_sessions.deletedAt"] == 1  # only the removal
        assert rows["chat_messages"] == rows["work_orders"] == rows["work_order_events"] == 0
    finally:
        conn.close()


@linux_only
async def test_a_file_from_before_table_versions_migrates_and_wakes_by_table(tmp_path: Path) -> None:
    db = tmp_path / "v6.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    migrate(conn, MIGRATIONS[: VERSIONS_SCHEMA_VERSION - 1])
    conn.execute(
        "INSERT INTO chat_sessions (_id, userId, title, lastMessageAt, createdAt, updatedAt) VALUES (?,?,?,?,?,?)",
        ("ses_" + "1" * 32, "alice", "From v6", 20, 10, 20),
    )
    conn.close()
    ui, worker = LocalStore(db), LocalStore(db)
    calls = _count_queries(ui, "recent_sessions")
    sessions = Follower(ui.watch_sessions("alice"))
    _uncount(ui, "recent_sessions")
    try:
        assert [s.title for s in await sessions.next()] == ["From v6"]
        order = await worker.create_work_order("ses_" + "1" * 32, "jangar-wo-v6")
        orders = Follower(ui.watch_work_orders_by_status("draft", 5, "alice"))
        try:
            assert [w.id for w in await orders.until(bool)] == [order.id]
        finally:
            await orders.stop()
        await asyncio.sleep(SETTLE_S)
        assert calls[0] == 1
        await worker.rename_session("ses_" + "1" * 32, "Renamed")
        assert [s.title for s in await sessions.next()] == ["Renamed"]
        assert calls[0] == 2
    finally:
        await sessions.stop()
        await ui.close()
        await worker.close()
