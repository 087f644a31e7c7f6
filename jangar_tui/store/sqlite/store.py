"""LocalStore: the embedded backend (SQLite in WAL mode in the user data dir).

The rules live in `db.SqliteDb`; this module makes it async and live:

- All SQLite work runs on one dedicated thread (sqlite3 releases the GIL while it works), so the
  event loop never blocks and the connections never change threads.
- Watchers yield a full snapshot at once and again whenever it changes. Each declares the
  `Topic`s it reads: rows of the file's `table_versions`, which triggers bump in every writing
  transaction, whichever process writes. Which rows moved is read after each write through this
  store (its watchers wake at once) and, while anyone watches, whenever another process may have
  committed: as soon as the file's WAL is written (inotify, `wal_watch`), and at least every
  `FALLBACK_POLL_S`; without inotify every `POLL_INTERVAL_S`. One six-row read either way, and
  only the watchers of a table that changed re-query: a worker streaming a run log wakes the run
  log, not the sessions list or the transcript. Watchers yield only when their snapshot differs
  from the last one they yielded.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from jangar_tui.aio import cancel_and_wait
from jangar_tui.config import Settings
from jangar_tui.models import (
    SEARCH_LIMIT_DEFAULT,
    ChatMessage,
    ChatSession,
    ConnectionState,
    ErrorCode,
    EventsAppended,
    JangarError,
    NewEvent,
    Page,
    Role,
    SearchResults,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderStatus,
)
from jangar_tui.store import validation as v
from jangar_tui.store.base import DEFAULT_PAGE_SIZE
from jangar_tui.store.sqlite.checkpoint import BackgroundCheckpointer
from jangar_tui.store.sqlite.db import SqliteDb, unavailable
from jangar_tui.store.sqlite.wal_watch import WalWatch

POLL_INTERVAL_S = 0.05
FALLBACK_POLL_S = 1.0  # with inotify: a check now and then all the same, should an event be lost
# SQLite publishes a commit in the WAL index (the -shm file, whose writes inotify does not see)
# just after its last write to the WAL, so a wake can come before the commit is visible: a wake
# that finds nothing new looks again after each of these delays (seconds), then waits as before.
RECHECKS_S = (0.01, 0.05, 0.25)
# Messages indexed per transaction while a file from before search is indexed: ~40 ms of the
# store's thread each, so the app's own calls wait at most that long behind one.
INDEX_BATCH = 2000

R = TypeVar("R")
Snapshot = TypeVar("Snapshot")


class Topic(enum.Enum):
    """What a watcher reads: the names of `table_versions` rows (schema v7), whose triggers say
    when a write touched it."""

    SESSIONS = "chat_sessions"  # any session row (titles, lastMessageAt, deletion)
    SESSION_GONE = "chat_sessions.deletedAt"  # a session removed or restored: its messages and work orders too
    MESSAGES = "chat_messages"
    WORK_ORDERS = "work_orders"
    WORK_ORDER_GONE = "work_orders.deletedAt"  # a work order removed or restored: its events too
    EVENTS = "work_order_events"


_TOPICS = {topic.value: topic for topic in Topic}


class LocalStore:
    """The `Store` protocol on an SQLite file. Open with a path or the app's `Settings`.

    Use one instance from one event loop (its watchers wake on asyncio events); other processes
    open their own instance on the same file.
    """

    def __init__(self, target: Settings | Path | str, *, allow_local_repos: bool | None = None) -> None:
        """`allow_local_repos` (default: the settings', else False): see `Settings.allow_local_repos`."""
        self._path = Path(target.db_path if isinstance(target, Settings) else target)
        if allow_local_repos is None:
            allow_local_repos = target.allow_local_repos if isinstance(target, Settings) else False
        self._allow_local_repos = allow_local_repos
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jangar-sqlite")
        try:
            self._db = self._executor.submit(SqliteDb.open, self._path, allow_local_repos).result()
        except BaseException:
            self._executor.shutdown(wait=False)
            raise
        self._checkpointer = BackgroundCheckpointer(self._path)
        # A file from before search: its messages are indexed in the background from the first call.
        self._index_pending = self._executor.submit(self._db.search_indexing).result() is not None
        self._indexer: asyncio.Task[None] | None = None
        self._closed = False
        # One event per topic, replaced on every change to it; watchers hold the old one.
        self._changed = {topic: asyncio.Event() for topic in Topic}
        self._watchers = 0
        self._poller: asyncio.Task[None] | None = None
        self._closed_event = asyncio.Event()

    @property
    def path(self) -> Path:
        return self._path

    @property
    def description(self) -> str:
        return f"embedded ({self._path})"

    @property
    def allows_local_repos(self) -> bool:
        return self._allow_local_repos

    @property
    def connection_detail(self) -> str | None:
        return None  # a local file: nothing to be unreachable

    # -- plumbing ---------------------------------------------------------------------------------

    async def _run(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        if self._closed:
            raise JangarError(ErrorCode.UNAVAILABLE, "The local store is closed.")
        loop = asyncio.get_running_loop()
        if self._index_pending and self._indexer is None:
            self._indexer = loop.create_task(self._index_messages(), name="jangar-sqlite-index")
        try:
            return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))
        except sqlite3.OperationalError as exc:  # a read that stayed busy, an I/O error
            raise unavailable(self._path, exc) from exc

    async def _write(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Run a change, then wake at once the watchers of the tables it changed (none when it was
        refused: a refused call changes nothing). Changes by others read meanwhile wake theirs."""

        def change() -> tuple[R, set[str]]:
            result = fn(*args, **kwargs)
            return result, self._db.changed_tables()

        result, changed = await self._run(change)
        self._checkpointer.committed()
        self._signal_tables(changed)
        return result

    async def _index_messages(self) -> None:
        """Index the messages of a file from before search, a batch at a time, newest first, so the
        app starts at once; search says how far it is meanwhile. Each batch commits: a kill loses
        at most one, and the next open goes on from there (another process may share the work)."""
        try:
            while await self._run(self._db.index_pending, INDEX_BATCH) is not None:
                self._checkpointer.committed()  # the WAL would otherwise hold the whole index
                await asyncio.sleep(0)  # calls queued meanwhile run before the next batch
        except (JangarError, sqlite3.Error):
            return  # closed, or the file is away: the next open goes on
        finally:
            self._index_pending = False

    def _signal_tables(self, changed: set[str]) -> None:
        """Wake the watchers of the `table_versions` rows that moved (a row a newer release added,
        which no watcher here reads, wakes nobody)."""
        self._signal(_TOPICS[name] for name in changed if name in _TOPICS)

    def _signal(self, topics: Iterable[Topic] = Topic) -> None:
        for topic in topics:
            event, self._changed[topic] = self._changed[topic], asyncio.Event()
            event.set()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._indexer is not None:
            await cancel_and_wait(self._indexer)
        if self._poller is not None:
            await cancel_and_wait(self._poller)
            self._poller = None
        self._closed_event.set()
        self._signal()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._db.close)
        self._executor.shutdown(wait=True)
        await loop.run_in_executor(None, self._checkpointer.close)

    # -- chatSessions -----------------------------------------------------------------------------

    async def create_session(self, userId: str, title: str) -> ChatSession:
        return await self._write(self._db.create_session, userId, title)

    async def list_sessions(
        self, userId: str, numItems: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[ChatSession]:
        return await self._run(self._db.list_sessions, userId, numItems, cursor)

    async def get_session(self, sessionId: str) -> ChatSession | None:
        return await self._run(self._db.get_session, sessionId)

    async def update_last_message(self, sessionId: str) -> ChatSession:
        return await self._write(self._db.update_last_message, sessionId)

    async def rename_session(self, sessionId: str, title: str) -> ChatSession:
        return await self._write(self._db.rename_session, sessionId, title)

    async def remove_session(self, sessionId: str) -> None:
        await self._write(self._db.remove_session, sessionId)

    async def restore_session(self, sessionId: str) -> ChatSession:
        return await self._write(self._db.restore_session, sessionId)

    # -- chatMessages -----------------------------------------------------------------------------

    async def append_message(self, sessionId: str, role: Role | str, content: str, metadata: Any = None) -> ChatMessage:
        return await self._write(self._db.append_message, sessionId, role, content, metadata)

    async def update_message(self, messageId: str, content: str | None = None, metadata: Any = None) -> ChatMessage:
        return await self._write(self._db.update_message, messageId, content, metadata)

    async def list_messages(
        self, sessionId: str, numItems: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[ChatMessage]:
        return await self._run(self._db.list_messages, sessionId, numItems, cursor)

    async def remove_message(self, messageId: str) -> None:
        await self._write(self._db.remove_message, messageId)

    async def restore_message(self, messageId: str) -> ChatMessage:
        return await self._write(self._db.restore_message, messageId)

    # -- workOrders -------------------------------------------------------------------------------

    async def create_work_order(
        self,
        sessionId: str,
        workflowId: str,
        *,
        title: str | None = None,
        prompt: str | None = None,
        githubIssueUrl: str | None = None,
        requestedBy: str | None = None,
        targetRepo: str | None = None,
        targetBranch: str | None = None,
        followUpOf: str | None = None,
        status: WorkOrderStatus | str = WorkOrderStatus.DRAFT,
    ) -> WorkOrder:
        return await self._write(
            self._db.create_work_order,
            sessionId,
            workflowId,
            title=title,
            prompt=prompt,
            githubIssueUrl=githubIssueUrl,
            requestedBy=requestedBy,
            targetRepo=targetRepo,
            targetBranch=targetBranch,
            followUpOf=followUpOf,
            status=status,
        )

    async def update_work_order_status(
        self,
        workOrderId: str,
        status: WorkOrderStatus | str,
        expectedStatus: WorkOrderStatus | str | None = None,
    ) -> WorkOrder:
        return await self._write(self._db.update_work_order_status, workOrderId, status, expectedStatus)

    async def update_work_order_result(self, workOrderId: str, prUrl: str | None) -> WorkOrder:
        return await self._write(self._db.update_work_order_result, workOrderId, prUrl)

    async def list_work_orders_by_session(
        self, sessionId: str, numItems: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[WorkOrder]:
        return await self._run(self._db.list_work_orders_by_session, sessionId, numItems, cursor)

    async def list_work_orders_by_status(
        self,
        status: WorkOrderStatus | str,
        numItems: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        userId: str | None = None,
    ) -> Page[WorkOrder]:
        return await self._run(self._db.list_work_orders_by_status, status, numItems, cursor, userId)

    async def get_work_order(self, workOrderId: str) -> WorkOrder | None:
        return await self._run(self._db.get_work_order, workOrderId)

    async def remove_work_order(self, workOrderId: str) -> None:
        await self._write(self._db.remove_work_order, workOrderId)

    async def restore_work_order(self, workOrderId: str) -> WorkOrder:
        return await self._write(self._db.restore_work_order, workOrderId)

    # -- workOrderEvents -------------------------------------------------------------------------

    async def append_work_order_events(
        self, workOrderId: str, events: list[NewEvent] | list[dict[str, Any]]
    ) -> EventsAppended:
        return await self._write(self._db.append_work_order_events, workOrderId, events)

    async def list_work_order_events(
        self,
        workOrderId: str,
        numItems: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        afterSeq: int | None = None,
    ) -> Page[WorkOrderEvent]:
        return await self._run(self._db.list_work_order_events, workOrderId, numItems, cursor, afterSeq)

    # -- search -----------------------------------------------------------------------------------

    async def search(self, userId: str, text: str, limit: int = SEARCH_LIMIT_DEFAULT) -> SearchResults:
        return await self._run(self._db.search, userId, text, limit)

    # -- live -------------------------------------------------------------------------------------

    def watch_sessions(self, userId: str, limit: int = 200) -> AsyncIterator[list[ChatSession]]:
        return self._watch(Topic.SESSIONS, self._db.recent_sessions, userId, v.watch_limit(limit))

    def watch_messages(self, sessionId: str, limit: int = DEFAULT_PAGE_SIZE) -> AsyncIterator[list[ChatMessage]]:
        return self._watch(
            (Topic.MESSAGES, Topic.SESSION_GONE), self._db.recent_messages, sessionId, v.watch_limit(limit)
        )

    def watch_work_orders(self, sessionId: str, limit: int = 100) -> AsyncIterator[list[WorkOrder]]:
        return self._watch(
            (Topic.WORK_ORDERS, Topic.SESSION_GONE), self._db.recent_work_orders, sessionId, v.watch_limit(limit)
        )

    def watch_work_order_events(self, workOrderId: str, limit: int = 200) -> AsyncIterator[list[WorkOrderEvent]]:
        return self._watch(
            (Topic.EVENTS, Topic.WORK_ORDER_GONE), self._db.recent_work_order_events, workOrderId, v.watch_limit(limit)
        )

    def watch_work_orders_by_status(
        self, status: WorkOrderStatus | str, limit: int = 100, userId: str | None = None
    ) -> AsyncIterator[list[WorkOrder]]:
        return self._watch(
            Topic.WORK_ORDERS,
            self._db.recent_work_orders_by_status,
            v.status(status),
            v.watch_limit(limit),
            None if userId is None else v.user_id(userId),
        )

    async def watch_connection(self) -> AsyncIterator[ConnectionState]:
        # The file is always there: live until the store closes.
        yield ConnectionState.LIVE
        await self._closed_event.wait()

    async def _watch(
        self, topics: Topic | tuple[Topic, ...], query: Callable[..., list[Snapshot]], *args: Any
    ) -> AsyncIterator[list[Snapshot]]:
        watched = (topics,) if isinstance(topics, Topic) else topics
        self._watchers += 1
        self._ensure_poller()
        try:
            previous: list[Snapshot] | None = None
            while not self._closed:
                # Taken before the query, so no change can slip between.
                changed = [self._changed[topic] for topic in watched]
                snapshot = await self._run(query, *args)
                if snapshot != previous:
                    previous = snapshot
                    yield snapshot
                await _first_set(changed)
        finally:
            self._watchers -= 1
            if self._watchers == 0 and self._poller is not None:
                self._poller.cancel()
                self._poller = None

    def _ensure_poller(self) -> None:
        if self._poller is None or self._poller.done():
            self._poller = asyncio.get_running_loop().create_task(self._poll(), name="jangar-sqlite-poll")

    async def _poll(self) -> None:
        """Notice commits by other processes (a Temporal worker writing the same file)."""
        wal = WalWatch.open(self._path)
        written = asyncio.Event()
        loop = asyncio.get_running_loop()
        if wal is not None:

            def readable() -> None:
                if wal.drain():
                    written.set()

            loop.add_reader(wal.fileno(), readable)
        rechecks: list[float] = []  # left after a wake that found nothing new
        try:
            while not self._closed:
                woke = False
                if wal is None:
                    await asyncio.sleep(POLL_INTERVAL_S)
                else:
                    # asyncio.timeout, not wait_for: no inner task, so a cancel lands at once.
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(rechecks.pop(0) if rechecks else FALLBACK_POLL_S):
                            await written.wait()
                    woke = written.is_set()
                    written.clear()
                try:
                    changed = await self._run(self._db.changed_tables)
                except JangarError:  # closed meanwhile
                    return
                self._signal_tables(changed)
                if changed:
                    rechecks = []
                elif woke:
                    rechecks = list(RECHECKS_S)
        finally:
            if wal is not None:
                loop.remove_reader(wal.fileno())
                wal.close()


async def _first_set(events: list[asyncio.Event]) -> None:
    """Wait until any of `events` is set."""
    if len(events) == 1:
        await events[0].wait()
        return
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
