"""The work-order event log on both Python backends: the contract scenarios over the Convex
adapter (bridge to the real functions), sequence numbers under concurrent writers, and watchers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from jangar_tui.config import load_settings
from jangar_tui.models import EventKind, NewEvent, WorkOrderEvent
from jangar_tui.store.base import Store
from jangar_tui.store.convex.store import ConvexStore
from jangar_tui.store.sqlite.store import LocalStore
from tests.contract_runner import load_scenarios, run_scenario
from tests.convex_bridge.client import BridgeTransport, ConvexBridge

T = TypeVar("T")
SCENARIOS = load_scenarios()


def _convex(tmp_path: Path, bridge: ConvexBridge) -> ConvexStore:
    bridge.reset()
    settings = load_settings({"CONVEX_URL": "https://happy-otter-123.convex.cloud", "JANGAR_DATA_DIR": str(tmp_path)})
    return ConvexStore(settings, transport=BridgeTransport(bridge))


@pytest.fixture
async def convex_store(tmp_path: Path, bridge: ConvexBridge) -> AsyncIterator[ConvexStore]:
    store = _convex(tmp_path, bridge)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture(params=["embedded", "convex"])
async def store(request: pytest.FixtureRequest, bridge: ConvexBridge, tmp_path: Path) -> AsyncIterator[Store]:
    store: Store = LocalStore(tmp_path / "jangar.sqlite3") if request.param == "embedded" else _convex(tmp_path, bridge)
    try:
        yield store
    finally:
        await store.close()


async def next_of(iterator: AsyncIterator[T]) -> T:
    # A guard against a hang, not a speed assertion.
    return await asyncio.wait_for(anext(iterator), 10)


async def next_matching(iterator: AsyncIterator[T], check: Callable[[T], bool]) -> T:
    while not check(item := await next_of(iterator)):
        pass
    return item


@pytest.mark.parametrize(
    ("name", "scenario"),
    [(n, s) for n, s in SCENARIOS if n == "work_order_events"],
    ids=["work_order_events"],
)
async def test_the_event_scenario_through_the_convex_adapter(
    convex_store: ConvexStore, name: str, scenario: dict[str, Any]
) -> None:
    await run_scenario(convex_store, scenario)


async def _work_order(store: Store) -> str:
    session = await store.create_session("alice", "events")
    return (await store.create_work_order(session.id, f"jangar-wo-ev-{id(store)}")).id


async def test_models_and_dicts_append_alike_and_read_back_typed(store: Store) -> None:
    work_order = await _work_order(store)
    appended = await store.append_work_order_events(
        work_order,
        [
            NewEvent(kind=EventKind.COMMAND, text="ls", metadata={"exitCode": 0}),
            NewEvent(kind=EventKind.OUTPUT, text="line"),
        ],
    )
    assert (appended.firstSeq, appended.lastSeq) == (1, 2)
    page = await store.list_work_order_events(work_order, 10)
    assert [(e.seq, e.kind, e.text, e.metadata) for e in page.page] == [
        (2, EventKind.OUTPUT, "line", None),
        (1, EventKind.COMMAND, "ls", {"exitCode": 0}),
    ]
    assert all(isinstance(e, WorkOrderEvent) and isinstance(e.createdAt, int) for e in page.page)


async def test_concurrent_appends_get_distinct_consecutive_numbers(store: Store) -> None:
    work_order = await _work_order(store)
    batches = await asyncio.gather(
        *(
            store.append_work_order_events(work_order, [{"kind": "output", "text": f"{w}-{i}"} for i in range(5)])
            for w in range(8)
        )
    )
    numbers = sorted(seq for b in batches for seq in range(b.firstSeq, b.lastSeq + 1))
    assert numbers == list(range(1, 41))
    # Each batch is contiguous: its events keep their order within the log.
    listed: list[WorkOrderEvent] = []
    cursor = None
    while True:
        page = await store.list_work_order_events(work_order, 15, cursor)
        listed.extend(page.page)
        if page.isDone:
            break
        cursor = page.continueCursor
    by_seq = {e.seq: e.text for e in listed}
    for batch in batches:
        texts = [by_seq[s] for s in range(batch.firstSeq, batch.lastSeq + 1)]
        worker = texts[0].split("-")[0]
        assert texts == [f"{worker}-{i}" for i in range(5)]


async def test_watch_follows_appends_oldest_first_and_hides_a_deleted_work_order(store: Store) -> None:
    work_order = await _work_order(store)
    watcher = store.watch_work_order_events(work_order, limit=3)
    try:
        assert await next_of(watcher) == []
        await store.append_work_order_events(work_order, [{"kind": "command", "text": "one"}])
        assert [e.text for e in await next_of(watcher)] == ["one"]
        await store.append_work_order_events(work_order, [{"kind": "output", "text": t} for t in ("two", "three")])
        await store.append_work_order_events(work_order, [{"kind": "agent_message", "text": "four"}])
        snapshot = await next_matching(watcher, lambda events: events[-1].text == "four")
        assert [(e.seq, e.text) for e in snapshot] == [(2, "two"), (3, "three"), (4, "four")]
        await store.remove_work_order(work_order)
        assert await next_matching(watcher, lambda events: not events) == []
    finally:
        await watcher.aclose()  # type: ignore[attr-defined]


async def test_another_process_on_the_same_file_sees_the_log_grow(tmp_path: Path) -> None:
    """The worker writes the log from its own process; the UI's store notices through the file."""
    path = tmp_path / "shared.sqlite3"
    ui, worker = LocalStore(path), LocalStore(path)
    try:
        work_order = await _work_order(ui)
        watcher = ui.watch_work_order_events(work_order, limit=10)
        assert await next_of(watcher) == []
        await worker.append_work_order_events(work_order, [{"kind": "usage", "text": "", "metadata": {"in": 5}}])
        seen = await next_of(watcher)
        assert [(e.kind, e.metadata) for e in seen] == [(EventKind.USAGE, {"in": 5})]
        await watcher.aclose()  # type: ignore[attr-defined]
    finally:
        await worker.close()
        await ui.close()
