"""The embedded store beyond the contract scenarios: bad input, files, schema, watchers."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from jangar_tui.config import load_settings
from jangar_tui.models import (
    CONTENT_MAX_BYTES,
    METADATA_MAX_BYTES,
    PAGE_SIZE_MAX,
    PROMPT_MAX_BYTES,
    ChatSession,
    ConnectionState,
    ErrorCode,
    JangarError,
    Role,
    WorkOrderStatus,
)
from jangar_tui.store.base import Store
from jangar_tui.store.sqlite.schema import MIGRATIONS, SCHEMA_VERSION, migrate
from jangar_tui.store.sqlite.store import LocalStore

TABLES = ("chat_sessions", "chat_messages", "work_orders", "work_order_events")


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, read by a separate connection: the ground truth of 'nothing written'."""
    conn = sqlite3.connect(path)
    try:
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY _seq").fetchall() for table in TABLES}
    finally:
        conn.close()


async def seeded(store: LocalStore) -> dict[str, Any]:
    session = await store.create_session("alice", "Seed")
    message = await store.append_message(session.id, Role.USER, "hello")
    order = await store.create_work_order(session.id, "jangar-wo-seed", title="Seed order")
    return {"session": session, "message": message, "order": order}


def test_local_store_satisfies_the_protocol(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "db.sqlite3")
    assert isinstance(store, Store)
    assert store.description == f"embedded ({tmp_path / 'db.sqlite3'})"
    asyncio.run(store.close())


async def test_opens_from_settings(tmp_path: Path) -> None:
    settings = load_settings({"JANGAR_DATA_DIR": str(tmp_path / "data")})
    store = LocalStore(settings)
    try:
        assert store.path == settings.db_path
        await store.create_session("u", "t")
        assert settings.db_path.exists()
    finally:
        await store.close()


# --- bad input at every public method ----------------------------------------------------------

SES = "ses_" + "0" * 32
MSG = "msg_" + "0" * 32
WO = "wo_" + "0" * 32

# (method, arguments) with one bad argument each; "$s", "$m", "$w" become the seeded ids.
BAD_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("create_session", {"userId": "", "title": "t"}),
    ("create_session", {"userId": 5, "title": "t"}),
    ("create_session", {"userId": "u", "title": "   "}),
    ("create_session", {"userId": "u", "title": "x" * 201}),
    ("create_session", {"userId": "u", "title": None}),
    ("list_sessions", {"userId": None}),
    ("list_sessions", {"userId": "u", "numItems": 0}),
    ("list_sessions", {"userId": "u", "numItems": PAGE_SIZE_MAX + 1}),
    ("list_sessions", {"userId": "u", "numItems": True}),
    ("list_sessions", {"userId": "u", "cursor": "not-a-cursor"}),
    ("list_sessions", {"userId": "u", "cursor": 3}),
    ("get_session", {"sessionId": "$m"}),
    ("get_session", {"sessionId": "ses_xyz"}),
    ("update_last_message", {"sessionId": "$w"}),
    ("rename_session", {"sessionId": "$s", "title": ""}),
    ("rename_session", {"sessionId": "$m", "title": "ok"}),
    ("remove_session", {"sessionId": 1}),
    ("restore_session", {"sessionId": "$w"}),
    ("append_message", {"sessionId": "$s", "role": "bot", "content": "x"}),
    ("append_message", {"sessionId": "$s", "role": "user", "content": ""}),
    ("append_message", {"sessionId": "$s", "role": "user", "content": "€" * (CONTENT_MAX_BYTES // 3 + 1)}),
    ("append_message", {"sessionId": "$s", "role": "user", "content": "\ud800 lone surrogate"}),
    ("append_message", {"sessionId": "$s", "role": "user", "content": "x", "metadata": {"n": float("nan")}}),
    ("append_message", {"sessionId": "$s", "role": "user", "content": "x", "metadata": {"s": {1, 2}}}),
    ("append_message", {"sessionId": "$s", "role": "user", "content": "x", "metadata": "m" * (METADATA_MAX_BYTES + 1)}),
    ("append_message", {"sessionId": "$m", "role": "user", "content": "x"}),
    ("update_message", {"messageId": "$m", "content": ""}),
    ("update_message", {"messageId": "$m", "content": "€" * (CONTENT_MAX_BYTES // 3 + 1)}),
    ("update_message", {"messageId": "$m", "metadata": "m" * (METADATA_MAX_BYTES + 1)}),
    ("update_message", {"messageId": "$m", "metadata": {"n": float("inf")}}),
    ("update_message", {"messageId": "$s", "content": "x"}),
    ("list_messages", {"sessionId": "$w"}),
    ("list_messages", {"sessionId": "$s", "numItems": -1}),
    ("list_messages", {"sessionId": "$s", "cursor": "Y2hhdF9zZXNzaW9uczoxOjE"}),  # a sessions cursor
    ("remove_message", {"messageId": "$s"}),
    ("restore_message", {"messageId": "msg_0"}),
    ("create_work_order", {"sessionId": "$s", "workflowId": ""}),
    ("create_work_order", {"sessionId": "$s", "workflowId": "has space"}),
    ("create_work_order", {"sessionId": "$s", "workflowId": "w" * 201}),
    ("create_work_order", {"sessionId": "$s", "workflowId": "ok-1", "githubIssueUrl": "javascript:alert(1)"}),
    ("create_work_order", {"sessionId": "$s", "workflowId": "ok-1", "githubIssueUrl": "https://"}),
    ("create_work_order", {"sessionId": "$s", "workflowId": "ok-1", "prompt": "€" * (PROMPT_MAX_BYTES // 3 + 1)}),
    ("create_work_order", {"sessionId": "$s", "workflowId": "ok-1", "title": " "}),
    ("create_work_order", {"sessionId": "$s", "workflowId": "ok-1", "requestedBy": ""}),
    ("create_work_order", {"sessionId": "$s", "workflowId": "ok-1", "targetRepo": "acme/ app"}),
    ("create_work_order", {"sessionId": "$s", "workflowId": "ok-1", "targetRepo": "r" * 501}),
    ("create_work_order", {"sessionId": "$s", "workflowId": "ok-1", "targetBranch": "-rf"}),
    ("create_work_order", {"sessionId": "$s", "workflowId": "ok-1", "targetBranch": "a\tb"}),
    ("create_work_order", {"sessionId": "$s", "workflowId": "ok-1", "status": "running"}),
    ("create_work_order", {"sessionId": "$s", "workflowId": "ok-1", "status": "nope"}),
    ("create_work_order", {"sessionId": "$w", "workflowId": "ok-1"}),
    ("update_work_order_status", {"workOrderId": "$w", "status": "paused"}),
    ("update_work_order_status", {"workOrderId": "$w", "status": "submitted", "expectedStatus": "later"}),
    ("update_work_order_status", {"workOrderId": "$s", "status": "submitted"}),
    ("update_work_order_result", {"workOrderId": "$w", "prUrl": "github.com/acme/app/pull/1"}),
    ("update_work_order_result", {"workOrderId": "$w", "prUrl": 12}),
    ("list_work_orders_by_session", {"sessionId": "$m"}),
    ("list_work_orders_by_status", {"status": "done"}),
    ("list_work_orders_by_status", {"status": "draft", "numItems": 2.5}),
    ("get_work_order", {"workOrderId": "$m"}),
    ("remove_work_order", {"workOrderId": None}),
    ("restore_work_order", {"workOrderId": "$s"}),
    ("append_work_order_events", {"workOrderId": "$w", "events": []}),
    ("append_work_order_events", {"workOrderId": "$w", "events": "not a list"}),
    ("append_work_order_events", {"workOrderId": "$w", "events": [{"kind": "output"}]}),
    ("append_work_order_events", {"workOrderId": "$w", "events": [{"kind": "output", "text": "x", "extra": 1}]}),
    ("append_work_order_events", {"workOrderId": "$w", "events": [{"kind": "output", "text": "\ud800"}]}),
    (
        "append_work_order_events",
        {"workOrderId": "$w", "events": [{"kind": "output", "text": "x", "metadata": {1, 2}}]},
    ),
    ("append_work_order_events", {"workOrderId": "$s", "events": [{"kind": "output", "text": "x"}]}),
    ("list_work_order_events", {"workOrderId": "$w", "afterSeq": True}),
    ("list_work_order_events", {"workOrderId": "$w", "cursor": "Y2hhdF9zZXNzaW9uczoxOjE"}),
    ("list_work_order_events", {"workOrderId": "$m"}),
    ("search", {"userId": "alice", "text": "x", "limit": 0}),
    ("search", {"userId": "alice", "text": "x" * 201}),
    ("search", {"userId": "alice", "text": " ".join("w" * 17)}),
    ("search", {"userId": "alice", "text": 7}),
    ("search", {"userId": 7, "text": "x"}),
]


def _fill(args: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    return {key: ids.get(value, value) if isinstance(value, str) else value for key, value in args.items()}


@pytest.mark.parametrize(("method", "args"), BAD_CALLS, ids=[f"{m}-{i}" for i, (m, _) in enumerate(BAD_CALLS)])
async def test_bad_input_is_invalid_argument_and_writes_nothing(
    local_store: LocalStore, method: str, args: dict[str, Any]
) -> None:
    seed = await seeded(local_store)
    ids = {"$s": seed["session"].id, "$m": seed["message"].id, "$w": seed["order"].id}
    before = dump(local_store.path)
    with pytest.raises(JangarError) as info:
        await getattr(local_store, method)(**_fill(args, ids))
    assert info.value.code is ErrorCode.INVALID_ARGUMENT, info.value
    assert info.value.message.endswith((".", "-")), "a sentence a person can act on"
    assert dump(local_store.path) == before


def test_every_public_method_has_a_bad_input_case() -> None:
    covered = {method for method, _ in BAD_CALLS}
    public = {name for name in dir(Store) if not name.startswith("_") and not name.startswith("watch")}
    assert public - covered == {"close", "description", "connection_detail", "allows_local_repos"}  # no input


# (method, arguments) refused with another code; nothing written either.
REFUSED: list[tuple[str, dict[str, Any], ErrorCode]] = [
    ("update_last_message", {"sessionId": SES}, ErrorCode.NOT_FOUND),
    ("rename_session", {"sessionId": SES, "title": "x"}, ErrorCode.NOT_FOUND),
    ("remove_session", {"sessionId": SES}, ErrorCode.NOT_FOUND),
    ("restore_session", {"sessionId": SES}, ErrorCode.NOT_FOUND),
    ("append_message", {"sessionId": SES, "role": "user", "content": "x"}, ErrorCode.NOT_FOUND),
    ("remove_message", {"messageId": MSG}, ErrorCode.NOT_FOUND),
    ("update_message", {"messageId": MSG, "content": "x"}, ErrorCode.NOT_FOUND),
    ("restore_message", {"messageId": MSG}, ErrorCode.NOT_FOUND),
    ("create_work_order", {"sessionId": SES, "workflowId": "x"}, ErrorCode.NOT_FOUND),
    ("create_work_order", {"sessionId": "$s", "workflowId": "jangar-wo-seed"}, ErrorCode.CONFLICT),
    ("update_work_order_status", {"workOrderId": WO, "status": "submitted"}, ErrorCode.NOT_FOUND),
    ("update_work_order_status", {"workOrderId": "$w", "status": "running"}, ErrorCode.INVALID_TRANSITION),
    (
        "update_work_order_status",
        {"workOrderId": "$w", "status": "submitted", "expectedStatus": "accepted"},
        ErrorCode.CONFLICT,
    ),
    ("update_work_order_result", {"workOrderId": WO, "prUrl": None}, ErrorCode.NOT_FOUND),
    ("remove_work_order", {"workOrderId": WO}, ErrorCode.NOT_FOUND),
    ("restore_work_order", {"workOrderId": WO}, ErrorCode.NOT_FOUND),
    ("remove_session", {"sessionId": "$s"}, ErrorCode.CONFLICT),  # the draft work order is not finished
    ("append_work_order_events", {"workOrderId": WO, "events": [{"kind": "output", "text": "x"}]}, ErrorCode.NOT_FOUND),
]


@pytest.mark.parametrize(("method", "args", "code"), REFUSED, ids=[f"{m}-{c.value}" for m, _, c in REFUSED])
async def test_refused_calls_change_nothing(
    local_store: LocalStore, method: str, args: dict[str, Any], code: ErrorCode
) -> None:
    seed = await seeded(local_store)
    ids = {"$s": seed["session"].id, "$m": seed["message"].id, "$w": seed["order"].id}
    before = dump(local_store.path)
    with pytest.raises(JangarError) as info:
        await getattr(local_store, method)(**_fill(args, ids))
    assert info.value.code is code
    assert dump(local_store.path) == before


# --- rules the scenarios cannot pin down (time, order, concurrency within one process) ----------


async def test_last_message_at_never_moves_backwards_even_if_the_clock_does(
    local_store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jangar_tui.store.sqlite import db as _sqlite_db

    session = await local_store.create_session("alice", "Clock")
    first = await local_store.append_message(session.id, "user", "one")
    monkeypatch.setattr(_sqlite_db, "now_ms", lambda: first.createdAt - 60_000)  # the clock jumps back a minute
    second = await local_store.append_message(session.id, "user", "two")
    bumped = await local_store.update_last_message(session.id)
    assert second.createdAt >= first.createdAt
    assert bumped.lastMessageAt >= second.createdAt
    page = await local_store.list_messages(session.id)
    assert [m.content for m in page.page] == ["two", "one"]


async def test_messages_with_equal_timestamps_keep_insertion_order(
    local_store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jangar_tui.store.sqlite import db as _sqlite_db

    monkeypatch.setattr(_sqlite_db, "now_ms", lambda: 1_000)
    session = await local_store.create_session("alice", "Same ms")
    for n in range(7):
        await local_store.append_message(session.id, "user", f"m{n}")
    seen: list[str] = []
    cursor = None
    while True:
        page = await local_store.list_messages(session.id, 3, cursor)
        seen += [m.content for m in page.page]
        cursor = page.continueCursor
        if page.isDone:
            break
    assert seen == [f"m{n}" for n in reversed(range(7))]


async def test_concurrent_appends_in_one_process_lose_nothing(local_store: LocalStore) -> None:
    session = await local_store.create_session("alice", "Burst")
    await asyncio.gather(*(local_store.append_message(session.id, "user", f"m{n}") for n in range(100)))
    [messages] = [m async for m in _first(local_store.watch_messages(session.id, 500))]
    assert len(messages) == 100
    stored = await local_store.get_session(session.id)
    assert stored is not None and stored.lastMessageAt == messages[-1].createdAt


def _ticking_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """One millisecond per call, so order does not hinge on two calls landing in the same ms."""
    from jangar_tui.store.sqlite import db as _sqlite_db

    ticks = iter(range(1_000_000, 2_000_000))
    monkeypatch.setattr(_sqlite_db, "now_ms", lambda: next(ticks))


async def test_sessions_list_newest_activity_first(local_store: LocalStore, monkeypatch: pytest.MonkeyPatch) -> None:
    _ticking_clock(monkeypatch)
    old = await local_store.create_session("alice", "Old")
    new = await local_store.create_session("alice", "New")
    await local_store.create_session("bob", "Not alice's")
    await local_store.append_message(old.id, "user", "bump")
    page = await local_store.list_sessions("alice")
    assert [s.id for s in page.page] == [old.id, new.id]
    assert page.isDone


async def test_status_list_orders_by_update_time(local_store: LocalStore, monkeypatch: pytest.MonkeyPatch) -> None:
    _ticking_clock(monkeypatch)
    session = await local_store.create_session("alice", "Orders")
    first = await local_store.create_work_order(session.id, "wf-1")
    second = await local_store.create_work_order(session.id, "wf-2")
    await local_store.update_work_order_result(first.id, "https://github.com/acme/app/pull/9")
    page = await local_store.list_work_orders_by_status("draft")
    assert [w.id for w in page.page] == [first.id, second.id]
    assert page.page[0].prUrl == "https://github.com/acme/app/pull/9"


async def test_metadata_round_trips_as_json(local_store: LocalStore) -> None:
    session = await local_store.create_session("alice", "Meta")
    metadata = {"model": "codex", "tokens": 12, "ratio": 0.5, "tags": ["a"], "nested": {"none": None, "ok": True}}
    message = await local_store.append_message(session.id, "assistant", "x", metadata)
    assert message.metadata == metadata
    [stored] = (await local_store.list_messages(session.id)).page
    assert stored.metadata == metadata


# --- files, permissions and schema ---------------------------------------------------------


async def test_new_data_dir_and_files_are_private(tmp_path: Path) -> None:
    db = tmp_path / "fresh" / "nested" / "jangar.sqlite3"
    store = LocalStore(db)
    try:
        await store.create_session("alice", "Private")
        assert stat.S_IMODE(os.stat(db.parent).st_mode) == 0o700
        for name in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            assert name.exists(), name
            assert stat.S_IMODE(os.stat(name).st_mode) == 0o600, name
    finally:
        await store.close()


async def test_existing_dir_is_left_alone_and_file_is_tightened(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    db = shared / "jangar.sqlite3"
    db.touch()
    os.chmod(db, 0o644)
    store = LocalStore(db)
    await store.close()
    assert stat.S_IMODE(os.stat(shared).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600


async def test_wal_mode_indexes_and_schema_version(local_store: LocalStore) -> None:
    conn = sqlite3.connect(local_store.path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        indexes = {
            row[0]: row[1] for row in conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type='index'")
        }
        for name in (
            "chat_sessions_by_user",
            "chat_messages_by_session",
            "work_orders_by_session",
            "work_orders_by_status",
            "work_orders_by_workflow_id",
        ):
            assert name in indexes
        plan = " ".join(
            str(row)
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT * FROM chat_messages WHERE sessionId = ? AND deletedAt IS NULL "
                "AND (createdAt, _seq) < (?, ?) ORDER BY createdAt DESC, _seq DESC LIMIT 51",
                ("s", 1, 1),
            )
        )
        assert "USING INDEX chat_messages_by_session" in plan and "TEMP B-TREE" not in plan
    finally:
        conn.close()


async def test_a_v1_file_is_migrated_without_losing_data(tmp_path: Path) -> None:
    db = tmp_path / "v1.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    migrate(conn, MIGRATIONS[:1])
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    session_id, message_id, order_id = "ses_" + "1" * 32, "msg_" + "2" * 32, "wo_" + "3" * 32
    conn.execute(
        "INSERT INTO chat_sessions (_id, userId, title, lastMessageAt, createdAt, updatedAt) VALUES (?,?,?,?,?,?)",
        (session_id, "alice", "From v1", 20, 10, 20),
    )
    conn.execute(
        "INSERT INTO chat_messages (_id, sessionId, role, content, metadata, createdAt, updatedAt) "
        "VALUES (?,?,?,?,?,?,?)",
        (message_id, session_id, "user", "kept", '{"k": 1}', 20, 20),
    )
    conn.execute(
        "INSERT INTO work_orders (_id, sessionId, workflowId, status, createdAt, updatedAt) VALUES (?,?,?,?,?,?)",
        (order_id, session_id, "jangar-wo-v1", "succeeded", 30, 30),
    )
    conn.close()

    store = LocalStore(db)
    try:
        session = await store.get_session(session_id)
        assert session == ChatSession(
            id=session_id, userId="alice", title="From v1", lastMessageAt=20, createdAt=10, updatedAt=20
        )
        [message] = (await store.list_messages(session_id)).page
        assert (message.id, message.content, message.metadata) == (message_id, "kept", {"k": 1})
        order = await store.get_work_order(order_id)
        assert order is not None and order.status is WorkOrderStatus.SUCCEEDED
        # v2's unique index now backs the CONFLICT check.
        with pytest.raises(JangarError) as info:
            await store.create_work_order(session_id, "jangar-wo-v1")
        assert info.value.code is ErrorCode.CONFLICT
        # v4 gave the work order its session's owner: it lists among alice's, not bob's.
        mine = await store.list_work_orders_by_status(WorkOrderStatus.SUCCEEDED, userId="alice")
        assert [w.id for w in mine.page] == [order_id]
        assert (await store.list_work_orders_by_status(WorkOrderStatus.SUCCEEDED, userId="bob")).page == []
    finally:
        await store.close()
    check = sqlite3.connect(db)
    assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    check.close()


def test_a_file_from_a_newer_release_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "future.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = db.read_bytes()
    with pytest.raises(JangarError) as info:
        LocalStore(db)
    assert info.value.code is ErrorCode.UNAVAILABLE
    assert "newer Jangar" in info.value.message
    assert db.read_bytes() == before


# --- watchers ------------------------------------------------------------------------------------


async def _first(iterator: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """The first item of a watcher, then close it."""
    try:
        yield await anext(iterator)
    finally:
        await iterator.aclose()  # type: ignore[attr-defined]


def _poll_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "jangar-sqlite-poll" and not t.done()]


async def test_watch_messages_gives_the_newest_limit_oldest_first_and_follows_changes(local_store: LocalStore) -> None:
    session = await local_store.create_session("alice", "Watch")
    other = await local_store.create_session("alice", "Other")
    for n in range(5):
        await local_store.append_message(session.id, "user", f"m{n}")
    watcher = local_store.watch_messages(session.id, 3)
    try:
        assert [m.content for m in await anext(watcher)] == ["m2", "m3", "m4"]
        await local_store.append_message(other.id, "user", "elsewhere")  # does not change this snapshot...
        removed = await local_store.append_message(session.id, "user", "m5")
        assert [m.content for m in await anext(watcher)] == ["m3", "m4", "m5"]  # ...so the next one is this
        await local_store.remove_message(removed.id)
        assert [m.content for m in await anext(watcher)] == ["m2", "m3", "m4"]
    finally:
        await watcher.aclose()  # type: ignore[attr-defined]


async def test_watch_sessions_and_work_orders(local_store: LocalStore) -> None:
    sessions = local_store.watch_sessions("alice")
    try:
        assert await anext(sessions) == []
        first = await local_store.create_session("alice", "First")
        assert [s.title for s in await anext(sessions)] == ["First"]
        await local_store.rename_session(first.id, "Renamed")
        assert [s.title for s in await anext(sessions)] == ["Renamed"]
        orders = local_store.watch_work_orders(first.id)
        try:
            assert await anext(orders) == []
            order = await local_store.create_work_order(first.id, "wf-watch")
            assert [w.status for w in await anext(orders)] == [WorkOrderStatus.DRAFT]
            await local_store.update_work_order_status(order.id, "submitted")
            assert [w.status for w in await anext(orders)] == [WorkOrderStatus.SUBMITTED]
        finally:
            await orders.aclose()  # type: ignore[attr-defined]
    finally:
        await sessions.aclose()  # type: ignore[attr-defined]


async def test_watchers_stop_polling_when_closed(local_store: LocalStore) -> None:
    session = await local_store.create_session("alice", "Cleanup")
    a = local_store.watch_messages(session.id)
    b = local_store.watch_sessions("alice")
    await anext(a)
    await anext(b)
    assert len(_poll_tasks()) == 1, "one poller per store, shared by its watchers"
    await a.aclose()  # type: ignore[attr-defined]
    assert len(_poll_tasks()) == 1
    await b.aclose()  # type: ignore[attr-defined]
    await asyncio.sleep(0)  # let the cancellation land
    assert _poll_tasks() == []


async def test_closing_the_store_ends_watchers(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "db.sqlite3")
    messages_seen: list[int] = []
    states: list[ConnectionState] = []

    async def consume_sessions() -> None:
        async for snapshot in store.watch_sessions("alice"):
            messages_seen.append(len(snapshot))

    async def consume_connection() -> None:
        async for state in store.watch_connection():
            states.append(state)

    tasks = [asyncio.create_task(consume_sessions()), asyncio.create_task(consume_connection())]
    while not (messages_seen and states):
        await asyncio.sleep(0.01)
    await store.close()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
    assert messages_seen == [0]
    assert states == [ConnectionState.LIVE]
    assert _poll_tasks() == []
    with pytest.raises(JangarError) as info:
        await store.create_session("alice", "after close")
    assert info.value.code is ErrorCode.UNAVAILABLE


async def test_watch_of_a_bad_id_raises_a_clear_error(local_store: LocalStore) -> None:
    watcher = local_store.watch_messages("msg_nope")
    with pytest.raises(JangarError) as info:
        await anext(watcher)
    assert info.value.code is ErrorCode.INVALID_ARGUMENT
    with pytest.raises(JangarError):
        local_store.watch_sessions("alice", limit=0)


async def test_checks_run_in_convexs_order(local_store: LocalStore) -> None:
    """Types first, then NOT_FOUND, then values: a call with two faults gets Convex's code."""
    seed = await seeded(local_store)
    gone = await local_store.create_session("alice", "Gone")
    await local_store.remove_session(gone.id)
    cases: list[tuple[str, dict[str, Any], ErrorCode]] = [
        ("append_message", {"sessionId": gone.id, "role": "user", "content": ""}, ErrorCode.NOT_FOUND),
        ("append_message", {"sessionId": gone.id, "role": "user", "content": 7}, ErrorCode.INVALID_ARGUMENT),
        ("append_message", {"sessionId": gone.id, "role": "robot", "content": "x"}, ErrorCode.INVALID_ARGUMENT),
        ("rename_session", {"sessionId": gone.id, "title": " "}, ErrorCode.NOT_FOUND),
        ("rename_session", {"sessionId": gone.id, "title": None}, ErrorCode.INVALID_ARGUMENT),
        ("create_work_order", {"sessionId": gone.id, "workflowId": "bad id"}, ErrorCode.NOT_FOUND),
        (
            "create_work_order",
            {"sessionId": gone.id, "workflowId": "ok", "status": "running"},
            ErrorCode.INVALID_ARGUMENT,
        ),
        (
            "create_work_order",
            {"sessionId": seed["session"].id, "workflowId": "jangar-wo-seed", "title": ""},
            ErrorCode.INVALID_ARGUMENT,
        ),  # values before CONFLICT
    ]
    for method, args, code in cases:
        with pytest.raises(JangarError) as info:
            await getattr(local_store, method)(**args)
        assert info.value.code is code, (method, args, info.value)


async def test_lists_of_a_deleted_session_are_empty(local_store: LocalStore) -> None:
    session = await local_store.create_session("alice", "Soon gone")
    await local_store.append_message(session.id, "user", "x")
    order = await local_store.create_work_order(session.id, "wf-gone")
    await local_store.update_work_order_status(order.id, "canceled")
    await local_store.remove_session(session.id)
    for page in (
        await local_store.list_messages(session.id),
        await local_store.list_work_orders_by_session(session.id),
    ):
        assert page.page == [] and page.isDone
    assert [m async for m in _first(local_store.watch_work_orders(session.id))] == [[]]
    # The work order itself is not deleted: it still shows by status.
    assert [w.id for w in (await local_store.list_work_orders_by_status("canceled")).page] == [order.id]


def test_an_unusable_file_is_a_clear_unavailable_error(tmp_path: Path) -> None:
    not_a_db = tmp_path / "notes.sqlite3"
    not_a_db.write_text("these are not the pages you are looking for " * 100)
    with pytest.raises(JangarError) as info:
        LocalStore(not_a_db)
    assert info.value.code is ErrorCode.UNAVAILABLE
    assert str(not_a_db) in info.value.message
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(JangarError) as info:
        LocalStore(blocker / "jangar.sqlite3")  # its "directory" is a file
    assert info.value.code is ErrorCode.UNAVAILABLE


def _same_as_validated(record: BaseModel, row: dict[str, object]) -> None:
    """`record` (constructed from `row`) is what validating the row gives, down to each field's type."""
    validated = type(record).model_validate(row)
    assert record == validated
    assert {k: type(v) for k, v in record.__dict__.items()} == {k: type(v) for k, v in validated.__dict__.items()}


async def test_records_read_back_equal_validated_models(tmp_path: Path) -> None:
    """Sessions, messages and work orders are constructed from the store's own rows, not validated
    (start-up time): each must be exactly what validating its row gives, deleted and restored ones,
    metadata and every status included."""
    store = LocalStore(tmp_path / "db.sqlite3")
    try:
        kept = await store.create_session("alice", "Kept")
        gone = await store.create_session("alice", "Gone, then back")
        await store.append_message(kept.id, Role.USER, "hello")
        await store.append_message(kept.id, Role.ASSISTANT, "**hi**", {"model": "x", "tokens": [1, 2]})
        await store.append_message(kept.id, Role.SYSTEM, "noted")
        await store.remove_session(gone.id)
        await store.restore_session(gone.id)
        draft = await store.create_work_order(kept.id, "jangar-wo-1", title="Draft", prompt="p")
        done = await store.create_work_order(
            kept.id, "jangar-wo-2", title="Done", prompt="p", targetRepo="acme/web", targetBranch="main"
        )
        for status in (WorkOrderStatus.SUBMITTED, WorkOrderStatus.ACCEPTED, WorkOrderStatus.RUNNING):
            await store.update_work_order_status(done.id, status)
        await store.update_work_order_result(done.id, "https://github.com/acme/web/pull/1")
        await store.update_work_order_status(done.id, WorkOrderStatus.SUCCEEDED)

        sessions = (await store.list_sessions("alice", 10)).page
        messages = (await store.list_messages(kept.id, 10)).page
        orders = (await store.list_work_orders_by_session(kept.id)).page
        conn = sqlite3.connect(tmp_path / "db.sqlite3")
        conn.row_factory = sqlite3.Row
        try:
            rows = {
                row["_id"]: dict(row)
                for table in ("chat_sessions", "chat_messages", "work_orders")
                for row in conn.execute(f"SELECT * FROM {table}")
            }
        finally:
            conn.close()
        for row in rows.values():
            if isinstance(row.get("metadata"), str):
                row["metadata"] = json.loads(row["metadata"])
        assert {s.id for s in sessions} == {kept.id, gone.id}
        assert [m.role for m in messages] == [Role.SYSTEM, Role.ASSISTANT, Role.USER]
        assert {o.id: o.status for o in orders} == {draft.id: WorkOrderStatus.DRAFT, done.id: WorkOrderStatus.SUCCEEDED}
        for record in [*sessions, *messages, *orders]:
            _same_as_validated(record, rows[record.id])
        assert messages[1].metadata == {"model": "x", "tokens": [1, 2]}
    finally:
        await store.close()
