"""`watch_work_orders_by_status` (the board's feed) on both stores: the same snapshots, live."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from jangar_tui.config import load_settings
from jangar_tui.models import ErrorCode, JangarError, WorkOrder, WorkOrderStatus, new_workflow_id
from jangar_tui.store.base import Store
from jangar_tui.store.convex.store import ConvexStore
from jangar_tui.store.sqlite.store import LocalStore
from tests.convex_bridge.client import BridgeTransport, ConvexBridge

S = WorkOrderStatus
WAIT_S = 30.0


@pytest.fixture(params=["local", "convex"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    settings = load_settings({"JANGAR_USER": "board", "JANGAR_DATA_DIR": str(tmp_path)})
    if request.param == "local":
        store: Store = LocalStore(settings.db_path)
    else:
        bridge: ConvexBridge = request.getfixturevalue("bridge")
        bridge.reset()
        store = ConvexStore(
            settings.model_copy(update={"backend": "convex", "convex_url": "http://127.0.0.1:3210"}),
            transport=BridgeTransport(bridge),
        )
    try:
        yield store
    finally:
        await store.close()


async def _next(snapshots: AsyncIterator[list[WorkOrder]], until: Any) -> list[str]:
    """Ids of the first snapshot for which `until(ids)` holds (earlier ones are skipped)."""

    async def wait() -> list[str]:
        async for orders in snapshots:
            ids = [o.id for o in orders]
            if until(ids):
                return ids
        raise AssertionError("the watch ended")

    return await asyncio.wait_for(wait(), WAIT_S)


async def test_a_status_is_watched_across_sessions_newest_update_first(store: Store) -> None:
    first = await store.create_session("board", "First")
    second = await store.create_session("board", "Second")
    a = await store.create_work_order(first.id, new_workflow_id(), title="a")
    b = await store.create_work_order(second.id, new_workflow_id(), title="b")
    drafts = store.watch_work_orders_by_status(S.DRAFT)
    submitted = store.watch_work_orders_by_status("submitted", limit=10)
    try:
        assert await _next(drafts, lambda ids: True) == [b.id, a.id]
        assert await _next(submitted, lambda ids: True) == []

        await store.update_work_order_status(a.id, S.SUBMITTED)
        assert await _next(drafts, lambda ids: a.id not in ids) == [b.id]
        assert await _next(submitted, lambda ids: ids) == [a.id]

        await store.update_work_order_status(a.id, S.CANCELED)
        await store.update_work_order_status(b.id, S.SUBMITTED)  # updated last: first
        assert await _next(submitted, lambda ids: a.id not in ids) == [b.id]
        await store.update_work_order_status(b.id, S.CANCELED)
        canceled = store.watch_work_orders_by_status(S.CANCELED)
        try:
            assert await _next(canceled, lambda ids: True) == [b.id, a.id]
            await store.remove_work_order(a.id)
            assert await _next(canceled, lambda ids: a.id not in ids) == [b.id]
        finally:
            await canceled.aclose()  # type: ignore[attr-defined]
    finally:
        await drafts.aclose()  # type: ignore[attr-defined]
        await submitted.aclose()  # type: ignore[attr-defined]


async def test_a_limit_keeps_the_newest(store: Store) -> None:
    session = await store.create_session("board", "Many")
    made = [await store.create_work_order(session.id, new_workflow_id(), title=str(n)) for n in range(5)]
    watch = store.watch_work_orders_by_status(S.DRAFT, limit=3)
    try:
        assert await _next(watch, lambda ids: True) == [w.id for w in reversed(made)][:3]
    finally:
        await watch.aclose()  # type: ignore[attr-defined]


@pytest.mark.parametrize(("status", "limit"), [("sleeping", 10), ("draft", 0), ("draft", 10_001)])
async def test_bad_arguments_are_refused_at_the_call(store: Store, status: str, limit: int) -> None:
    with pytest.raises(JangarError) as refused:
        store.watch_work_orders_by_status(status, limit)
    assert refused.value.code == ErrorCode.INVALID_ARGUMENT


async def test_the_board_watch_of_one_user_is_an_index_range_of_their_own(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "owners.sqlite3")
    try:
        mine = await store.create_session("alice", "Mine")
        theirs = await store.create_session("bob", "Theirs")
        own = await store.create_work_order(mine.id, "jangar-wo-own")
        for n in range(3):
            await store.create_work_order(theirs.id, f"jangar-wo-theirs-{n}")
        watch = store.watch_work_orders_by_status(WorkOrderStatus.DRAFT, 2, "alice")
        assert [w.id for w in await anext(watch)] == [own.id]
        later = await store.create_work_order(mine.id, "jangar-wo-own-2")
        await store.create_work_order(theirs.id, "jangar-wo-theirs-3")
        assert [w.id for w in await anext(watch)] == [later.id, own.id]
        await watch.aclose()  # type: ignore[attr-defined]
    finally:
        await store.close()
    conn = sqlite3.connect(tmp_path / "owners.sqlite3")
    try:
        plan = " ".join(
            str(row)
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT * FROM work_orders WHERE ownerId = ? AND status = ? AND deletedAt IS NULL "
                "ORDER BY updatedAt DESC, _seq DESC LIMIT 2",
                ("alice", "draft"),
            ).fetchall()
        )
        assert "work_orders_by_owner_status" in plan and "TEMP B-TREE" not in plan
    finally:
        conn.close()
