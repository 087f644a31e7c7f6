"""ConvexStore end to end through the official client, against the stand-in sync server.

The client runs in the adapter's worker process and speaks Convex's WebSocket protocol to
`ConvexSyncServer`, which runs the real functions on the convex-test bridge. This is where
subscriptions, the connection state and recovery after an outage are checked for real.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from jangar_tui.config import load_settings
from jangar_tui.models import ConnectionState, ErrorCode, JangarError, Role
from jangar_tui.service import JangarService
from jangar_tui.store.convex.process import WorkerTransport
from jangar_tui.store.convex.store import ConvexStore
from jangar_tui.store.convex.transport import encode_args
from tests.convex_bridge.client import ConvexBridge
from tests.convex_bridge.sync_server import ConvexSyncServer

T = TypeVar("T")
SLOW_START_S = 3.0


@pytest.fixture
async def server(bridge: ConvexBridge) -> AsyncIterator[ConvexSyncServer]:
    bridge.reset()
    server = ConvexSyncServer(bridge)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def transport(server: ConvexSyncServer) -> WorkerTransport:
    return WorkerTransport(server.url, timeout_s=2, probe_interval_s=0.2, retry_interval_s=0.1, offline_after_s=1.0)


@pytest.fixture
async def store(tmp_path: Path, server: ConvexSyncServer, transport: WorkerTransport) -> AsyncIterator[ConvexStore]:
    settings = load_settings({"CONVEX_URL": server.url, "JANGAR_USER": "alice", "JANGAR_DATA_DIR": str(tmp_path)})
    store = ConvexStore(settings, transport=transport)
    try:
        yield store
    finally:
        await store.close()


async def next_of(iterator: AsyncIterator[T]) -> T:
    return await asyncio.wait_for(anext(iterator), 20)  # a guard against a hang


async def next_matching(iterator: AsyncIterator[T], check: Any) -> T:
    while not check(item := await next_of(iterator)):
        pass
    return item


async def test_calls_and_errors_through_the_client(store: ConvexStore) -> None:
    session = await store.create_session("alice", " Real client ")
    assert session.title == "Real client" and type(session.createdAt) is int
    message = await store.append_message(session.id, Role.USER, "hi", metadata={"n": 1})
    assert message.metadata == {"n": 1.0}
    assert [m.id for m in (await store.list_messages(session.id)).page] == [message.id]
    with pytest.raises(JangarError) as convex_error:
        await store.rename_session(session.id, " ")
    assert convex_error.value.code is ErrorCode.INVALID_ARGUMENT and "Request ID" not in convex_error.value.message
    with pytest.raises(JangarError) as validator:
        await store.append_message(session.id, "bot", "x")
    assert validator.value.code is ErrorCode.INVALID_ARGUMENT
    with pytest.raises(JangarError) as not_found:
        await store.restore_work_order("0000000000000099999work_orders")
    assert not_found.value.code is ErrorCode.NOT_FOUND
    with pytest.raises(JangarError) as query_error:  # a ConvexError thrown by a query
        await store.list_sessions("alice", numItems=0)
    assert query_error.value.code is ErrorCode.INVALID_ARGUMENT
    watcher = store.watch_messages("0000000000000099999work_orders")
    with pytest.raises(JangarError) as watch_error:  # ... and by a subscription
        await next_of(watcher)
    assert watch_error.value.code is ErrorCode.INVALID_ARGUMENT


async def test_a_worker_slow_to_start_is_not_a_deployment_that_does_not_answer(
    tmp_path: Path, server: ConvexSyncServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On a busy machine the client's process takes seconds to start: that is not the deployment
    # missing the call's deadline, so the first call waits for the process and then gets its full
    # deadline (it used to count the start, fail, and kill the process that was starting).
    slow_start = tmp_path / "slow_start"
    slow_start.mkdir()
    (slow_start / "sitecustomize.py").write_text(f"import time\ntime.sleep({SLOW_START_S})\n")
    monkeypatch.setenv("PYTHONPATH", str(slow_start))
    transport = WorkerTransport(server.url, timeout_s=SLOW_START_S / 3)
    settings = load_settings({"CONVEX_URL": server.url, "JANGAR_USER": "alice", "JANGAR_DATA_DIR": str(tmp_path)})
    store = ConvexStore(settings, transport=transport)
    try:
        started = time.monotonic()
        session = await store.create_session("alice", "slow start")
        assert time.monotonic() - started >= SLOW_START_S, "the worker started slowly"
        assert [s.id for s in (await store.list_sessions("alice")).page] == [session.id]
    finally:
        await store.close()


async def test_subscriptions_push_fresh_snapshots(store: ConvexStore) -> None:
    session = await store.create_session("alice", "live")
    messages = store.watch_messages(session.id, limit=10)
    sessions = store.watch_sessions("alice")
    try:
        assert await next_of(messages) == []
        assert [s.title for s in await next_of(sessions)] == ["live"]
        await store.append_message(session.id, Role.USER, "first")
        await store.append_message(session.id, Role.ASSISTANT, "second")
        snapshot = await next_matching(messages, lambda items: len(items) == 2)
        assert [m.content for m in snapshot] == ["first", "second"], "oldest first"
        await store.rename_session(session.id, "renamed")
        assert [s.title for s in await next_matching(sessions, lambda items: items[0].title != "live")] == ["renamed"]
    finally:
        await messages.aclose()  # type: ignore[attr-defined]
        await sessions.aclose()  # type: ignore[attr-defined]


async def test_watchers_beyond_one_page_follow_a_chain_of_subscriptions(
    store: ConvexStore, bridge: ConvexBridge
) -> None:
    session = await store.create_session("alice", "long")
    ids = []
    for index in range(450):  # straight to the functions: no subscription is open yet
        args = encode_args({"sessionId": session.id, "role": "user", "content": f"m{index}"})
        ids.append(bridge.request("mutation", "chatMessages:append", args)["value"]["_id"])
    for index in range(249):
        bridge.request("mutation", "chatSessions:create", encode_args({"userId": "alice", "title": f"s{index}"}))
    messages = store.watch_messages(session.id, limit=450)
    sessions = JangarService(store, "alice").watch_sessions()  # the default limit, 500
    try:
        assert [m.content for m in await next_of(messages)] == [f"m{i}" for i in range(450)]
        assert len(await next_of(sessions)) == 250

        await store.append_message(session.id, Role.ASSISTANT, "m450")
        appended = await next_matching(messages, lambda items: items[-1].content == "m450")
        assert [m.content for m in appended] == [f"m{i}" for i in range(1, 451)]

        deep = ids[151]  # the 300th newest of m0..m450: only the second page's result changes
        await store.remove_message(deep)
        removed = await next_of(messages)
        assert [m.content for m in removed] == [f"m{i}" for i in range(451) if i != 151]
    finally:
        await messages.aclose()  # type: ignore[attr-defined]
        await sessions.aclose()  # type: ignore[attr-defined]


async def test_a_subscription_is_sent_again_only_when_its_result_changed(
    store: ConvexStore, transport: WorkerTransport
) -> None:
    # The client yields every subscription again on every transition; the worker passes on changes
    # only, so a watcher of many pages is not sent all of them for a change elsewhere.
    alice = await store.create_session("alice", "alice's")
    bob = await store.create_session("bob", "bob's")
    values = transport.subscribe(
        "chatSessions:list", {"userId": "bob", "paginationOpts": {"numItems": 5, "cursor": None}}
    )
    try:
        assert [s["title"] for s in (await next_of(values))["page"]] == ["bob's"]
        await store.rename_session(alice.id, "alice's, renamed")  # another query's result changes
        await store.rename_session(bob.id, "bob's, renamed")
        assert [s["title"] for s in (await next_of(values))["page"]] == ["bob's, renamed"]
    finally:
        await values.aclose()  # type: ignore[attr-defined]


@pytest.mark.parametrize("call_during_outage", [False, True], ids=["client-reconnects", "worker-replaced"])
async def test_watchers_resume_by_themselves_after_an_outage(
    store: ConvexStore,
    transport: WorkerTransport,
    server: ConvexSyncServer,
    bridge: ConvexBridge,
    call_during_outage: bool,
) -> None:
    # Without a call, the client's own reconnection brings the subscriptions back; a call that
    # times out during the outage has its worker replaced, and the new worker subscribes again.
    session = await store.create_session("alice", "survivor")
    states: list[ConnectionState] = []
    connection = store.watch_connection()
    sessions = store.watch_sessions("alice")

    async def follow() -> None:
        async for state in connection:
            states.append(state)

    follower = asyncio.create_task(follow())
    try:
        assert [s.title for s in await next_of(sessions)] == ["survivor"]
        await wait_for_state(states, ConnectionState.LIVE)
        worker_before = transport.worker_pid

        await server.stop()
        await wait_for_state(states, ConnectionState.RECONNECTING)
        await wait_for_state(states, ConnectionState.OFFLINE)
        if call_during_outage:
            with pytest.raises(JangarError) as down:
                await store.get_session(session.id)
            assert down.value.code is ErrorCode.UNAVAILABLE

        # Another client changes the data while this one is cut off.
        bridge.request("mutation", "chatSessions:rename", encode_args({"sessionId": session.id, "title": "while away"}))
        connections_before = server.connections
        await server.start()  # same port: the deployment is back
        await wait_for_state(states, ConnectionState.LIVE, after=ConnectionState.OFFLINE)
        resumed = await next_matching(sessions, lambda items: items and items[0].title == "while away")
        assert [s.id for s in resumed] == [session.id]
        assert server.connections > connections_before, "the client reconnected"
        if call_during_outage:
            assert transport.worker_pid != worker_before, "the stuck worker was replaced"
        else:
            assert transport.worker_pid == worker_before, "the client reconnected on its own"
        assert (await store.get_session(session.id)) is not None
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
        await sessions.aclose()  # type: ignore[attr-defined]


async def wait_for_state(
    states: list[ConnectionState], wanted: ConnectionState, after: ConnectionState | None = None
) -> None:
    deadline = time.monotonic() + 30  # a guard against a hang, not a speed assertion
    while True:
        seen = states if after is None or after not in states else states[states.index(after) :]
        if wanted in seen:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"never saw {wanted.value} (states: {[s.value for s in states]})")
        await asyncio.sleep(0.02)
