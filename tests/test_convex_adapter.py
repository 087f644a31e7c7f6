"""ConvexStore over the real Convex functions (convex-test bridge): shapes, decoding, errors, watchers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TypeVar

import pytest
from pydantic import SecretStr

from jangar_tui.config import load_settings
from jangar_tui.models import PAGE_SIZE_MAX, ErrorCode, JangarError, Role, WorkOrderStatus
from jangar_tui.service import JangarService
from jangar_tui.store.base import Store
from jangar_tui.store.convex.probe import url_host
from jangar_tui.store.convex.process import WorkerTransport
from jangar_tui.store.convex.store import ConvexStore, map_error
from jangar_tui.store.convex.transport import ConvexFunctionError
from jangar_tui.store.sqlite.store import LocalStore
from tests.convex_bridge.client import BridgeTransport, ConvexBridge

T = TypeVar("T")
SECRET = "prod:adapter-test|0123456789abcdef-not-a-real-key"


@pytest.fixture
def transport(bridge: ConvexBridge, request: pytest.FixtureRequest) -> BridgeTransport:
    bridge.reset()
    # Parametrized `journals=True`: page ends stay pinned, as a deployment's query journal keeps them.
    return BridgeTransport(bridge, journals=getattr(request, "param", False))


@pytest.fixture
async def store(tmp_path: Path, transport: BridgeTransport) -> AsyncIterator[ConvexStore]:
    settings = load_settings(
        {"CONVEX_URL": "https://happy-otter-123.convex.cloud", "JANGAR_USER": "alice", "JANGAR_DATA_DIR": str(tmp_path)}
    )
    store = ConvexStore(settings, transport=transport)
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


def test_is_a_store(store: ConvexStore) -> None:
    assert isinstance(store, Store)


# -- decoding -----------------------------------------------------------------------------------


async def test_timestamps_arrive_as_floats_and_decode_to_int_ms(store: ConvexStore, transport: BridgeTransport) -> None:
    raw = await transport.mutation("chatSessions:create", {"userId": "alice", "title": "raw"})
    assert isinstance(raw["createdAt"], float), "the bridge must return numbers as the real client does"
    session = await store.create_session("alice", "  Decoded  ")
    assert session.title == "Decoded"
    for value in (session.createdAt, session.updatedAt, session.lastMessageAt):
        assert type(value) is int and value > 1_600_000_000_000
    assert session.deletedAt is None
    fetched = await store.get_session(session.id)
    assert fetched == session


async def test_null_results_decode_to_none(store: ConvexStore) -> None:
    session = await store.create_session("alice", "gone soon")
    order = await store.create_work_order(session.id, "jangar-wo-null-1")
    await store.remove_work_order(order.id)
    assert await store.get_work_order(order.id) is None
    await store.remove_session(session.id)
    assert await store.get_session(session.id) is None


async def test_pages_decode_with_cursor_and_continue(store: ConvexStore) -> None:
    for index in range(3):
        await store.create_session("alice", f"s{index}")
    first = await store.list_sessions("alice", numItems=2)
    assert [s.title for s in first.page] == ["s2", "s1"]
    assert first.isDone is False and isinstance(first.continueCursor, str)
    second = await store.list_sessions("alice", numItems=2, cursor=first.continueCursor)
    assert [s.title for s in second.page] == ["s0"]


async def test_message_and_work_order_fields(store: ConvexStore) -> None:
    session = await store.create_session("alice", "fields")
    message = await store.append_message(session.id, Role.ASSISTANT, "hello", metadata={"tokens": 3, "tags": ["a"]})
    assert message.role is Role.ASSISTANT and message.sessionId == session.id
    assert message.metadata == {"tokens": 3.0, "tags": ["a"]}
    order = await store.create_work_order(
        session.id,
        "jangar-wo-fields-1",
        title="Fix it",
        prompt="do it",
        githubIssueUrl="https://example.com/o/r/issues/1",
        requestedBy="alice",
        targetRepo="o/r",
        targetBranch="main",
    )
    assert order.status is WorkOrderStatus.DRAFT and order.targetBranch == "main" and order.prUrl is None
    moved = await store.update_work_order_status(
        order.id, WorkOrderStatus.SUBMITTED, expectedStatus=WorkOrderStatus.DRAFT
    )
    assert moved.status is WorkOrderStatus.SUBMITTED
    listed = await store.list_work_orders_by_status(WorkOrderStatus.SUBMITTED)
    assert [o.id for o in listed.page] == [order.id]


# -- argument shapes ----------------------------------------------------------------------------


async def test_unset_optionals_are_left_out_and_enums_sent_as_strings(
    store: ConvexStore, transport: BridgeTransport
) -> None:
    session = await store.create_session("alice", "shapes")
    transport.calls.clear()
    await store.append_message(session.id, Role.USER, "no metadata")
    order = await store.create_work_order(session.id, "jangar-wo-shape-1", title="t")
    await store.update_work_order_status(order.id, WorkOrderStatus.CANCELED)
    await store.update_work_order_result(order.id, None)
    await store.list_messages(session.id, numItems=5)
    assert transport.calls == [
        ("mutation", "chatMessages:append", {"sessionId": session.id, "role": "user", "content": "no metadata"}),
        (
            "mutation",
            "workOrders:create",
            {"sessionId": session.id, "workflowId": "jangar-wo-shape-1", "title": "t", "status": "draft"},
        ),
        ("mutation", "workOrders:updateStatus", {"workOrderId": order.id, "status": "canceled"}),
        ("mutation", "workOrders:updateResult", {"workOrderId": order.id}),
        (
            "query",
            "chatMessages:listBySession",
            {"sessionId": session.id, "paginationOpts": {"numItems": 5, "cursor": None}},
        ),
    ]


# -- errors -------------------------------------------------------------------------------------


async def test_convex_error_data_becomes_jangar_error(store: ConvexStore) -> None:
    session = await store.create_session("alice", "errors")
    with pytest.raises(JangarError) as refused:
        await store.rename_session(session.id, "   ")
    assert refused.value.code is ErrorCode.INVALID_ARGUMENT
    assert "title" in refused.value.message.lower() and "{" not in refused.value.message
    order = await store.create_work_order(session.id, "jangar-wo-err-1")
    with pytest.raises(JangarError) as transition:
        await store.update_work_order_status(order.id, WorkOrderStatus.SUCCEEDED)
    assert transition.value.code is ErrorCode.INVALID_TRANSITION
    with pytest.raises(JangarError) as conflict:
        await store.create_work_order(session.id, "jangar-wo-err-1")
    assert conflict.value.code is ErrorCode.CONFLICT


async def test_validator_failures_become_invalid_argument(store: ConvexStore) -> None:
    session = await store.create_session("alice", "validators")
    with pytest.raises(JangarError) as role:
        await store.append_message(session.id, "bot", "x")
    assert role.value.code is ErrorCode.INVALID_ARGUMENT
    assert "chatMessages:append" in role.value.message
    order = await store.create_work_order(session.id, "jangar-wo-val-1")
    with pytest.raises(JangarError) as wrong_table:
        await store.get_session(order.id)  # an id of another table
    assert wrong_table.value.code is ErrorCode.INVALID_ARGUMENT
    with pytest.raises(JangarError) as not_an_id:
        await store.restore_message("not-an-id")
    assert not_an_id.value.code is ErrorCode.INVALID_ARGUMENT


async def test_a_missing_function_is_unavailable_not_bad_input(transport: BridgeTransport) -> None:
    with pytest.raises(ConvexFunctionError) as raised:
        await transport.query("chatSessions:nope", {})
    mapped = map_error("chatSessions:nope", raised.value)
    assert mapped.code is ErrorCode.UNAVAILABLE and "chatSessions:nope" in mapped.message


def test_server_error_text_of_a_real_deployment_is_mapped_and_trimmed() -> None:
    # The shape the official client raises for a validator failure on a deployment.
    message = (
        "[Request ID: 4a1f0c2b9e] Server Error\n"
        "ArgumentValidationError: Value does not match validator.\n"
        'Path: .role\nValue: "bot"\nValidator: v.union(v.literal("user"), ...)\n\n'
        "  Called by client"
    )
    mapped = map_error("chatMessages:append", ConvexFunctionError(message))
    assert mapped.code is ErrorCode.INVALID_ARGUMENT
    assert "Request ID" not in mapped.message and "Called by client" not in mapped.message
    assert "Path: .role" in mapped.message
    data = {"code": "NOT_FOUND", "message": "That chat session no longer exists."}
    mapped = map_error("chatSessions:rename", ConvexFunctionError("ignored", data, is_convex_error=True))
    assert (mapped.code, mapped.message) == (ErrorCode.NOT_FOUND, "That chat session no longer exists.")
    odd = map_error("x:y", ConvexFunctionError("Uncaught Error: boom", "not a dict", is_convex_error=True))
    assert odd.code is ErrorCode.UNAVAILABLE and "boom" in odd.message


# -- watchers -----------------------------------------------------------------------------------


async def test_watch_messages_yields_oldest_first_after_each_append(store: ConvexStore) -> None:
    session = await store.create_session("alice", "watch")
    watcher = store.watch_messages(session.id, limit=2)
    try:
        assert await next_of(watcher) == []
        await store.append_message(session.id, Role.USER, "one")
        assert [m.content for m in await next_of(watcher)] == ["one"]
        await store.append_message(session.id, Role.ASSISTANT, "two")
        await store.append_message(session.id, Role.USER, "three")
        snapshot = await next_of(watcher)
        while [m.content for m in snapshot] == ["one", "two"]:  # an intermediate snapshot is fine
            snapshot = await next_of(watcher)
        assert [m.content for m in snapshot] == ["two", "three"]
    finally:
        await watcher.aclose()  # type: ignore[attr-defined]


async def test_watchers_skip_unchanged_snapshots(store: ConvexStore) -> None:
    session = await store.create_session("alice", "dedupe")
    sessions = store.watch_sessions("alice")
    orders = store.watch_work_orders(session.id)
    try:
        assert [s.title for s in await next_of(sessions)] == ["dedupe"]
        assert await next_of(orders) == []
        with pytest.raises(JangarError):
            await store.rename_session(session.id, "")  # refused: nothing changes, nothing is yielded
        order = await store.create_work_order(session.id, "jangar-wo-watch-1")
        assert [o.id for o in await next_of(orders)] == [order.id]
        await store.rename_session(session.id, "renamed")
        assert [s.title for s in await next_of(sessions)] == ["renamed"]
    finally:
        await sessions.aclose()  # type: ignore[attr-defined]
        await orders.aclose()  # type: ignore[attr-defined]


async def test_a_watch_whose_query_fails_raises_the_mapped_error(store: ConvexStore) -> None:
    session = await store.create_session("alice", "ids")
    order = await store.create_work_order(session.id, "jangar-wo-watch-err-1")
    watcher = store.watch_messages(order.id)  # an id of another table: the validator refuses it
    with pytest.raises(JangarError) as refused:
        await next_of(watcher)
    assert refused.value.code is ErrorCode.INVALID_ARGUMENT and "chatMessages:listBySession" in refused.value.message


@pytest.mark.parametrize("limit", [0, -1, 10_001, True, 2.0, "5"])
async def test_watch_limits_are_refused_at_the_call_like_the_embedded_store(
    store: ConvexStore, local_store: LocalStore, limit: object
) -> None:
    session = await store.create_session("alice", "limits")
    for watch in (
        lambda s: s.watch_sessions("alice", limit),
        lambda s: s.watch_messages(session.id, limit),
        lambda s: s.watch_work_orders(session.id, limit),
    ):
        with pytest.raises(JangarError) as convex:
            watch(store)
        with pytest.raises(JangarError) as local:
            watch(local_store)
        assert (convex.value.code, convex.value.message) == (local.value.code, local.value.message)
        assert convex.value.code is ErrorCode.INVALID_ARGUMENT


async def test_the_largest_watch_limit_is_served_in_pages_convex_accepts(
    store: ConvexStore, transport: BridgeTransport
) -> None:
    session = await store.create_session("alice", "largest")
    transport.calls.clear()
    watcher = store.watch_messages(session.id, limit=10_000)
    try:
        assert await next_of(watcher) == []
    finally:
        await watcher.aclose()  # type: ignore[attr-defined]
    assert page_sizes(transport) == [PAGE_SIZE_MAX]


# -- watchers beyond one page (a chain of page subscriptions) ------------------------------------


def page_sizes(transport: BridgeTransport) -> list[int]:
    return [args["paginationOpts"]["numItems"] for kind, _, args in transport.calls if kind == "query"]


async def seed_messages(transport: BridgeTransport, session_id: str, count: int) -> list[str]:
    """`count` messages m0.. (oldest first), appended straight through the transport; their ids."""
    ids = []
    for index in range(count):
        args = {"sessionId": session_id, "role": "user", "content": f"m{index}"}
        ids.append((await transport.mutation("chatMessages:append", args))["_id"])
    return ids


@pytest.mark.parametrize("transport", [False, True], ids=["pages-move", "pages-pinned"], indirect=True)
async def test_a_long_history_is_watched_live_through_a_chain_of_pages(
    store: ConvexStore, transport: BridgeTransport
) -> None:
    session = await store.create_session("alice", "long")
    ids = await seed_messages(transport, session.id, 450)
    transport.calls.clear()
    watcher = store.watch_messages(session.id, limit=450)
    try:
        first = await next_of(watcher)
        assert [m.content for m in first] == [f"m{i}" for i in range(450)], "all 450, oldest first"
        assert page_sizes(transport) == [200, 200, 50], "pages Convex accepts, just enough of them"

        await store.append_message(session.id, Role.ASSISTANT, "m450")
        appended = await next_of(watcher)
        assert [m.content for m in appended] == [f"m{i}" for i in range(1, 451)], "the newest 450 of 451"

        # The 300th newest of m0..m450 is m151, on the second page: only that page's result changes.
        deep = ids[151]
        assert appended[-300].id == deep
        await store.remove_message(deep)
        removed = await next_of(watcher)
        assert deep not in {m.id for m in removed}
        # 450 messages remain, so the oldest one is back at the top.
        assert [m.content for m in removed] == [f"m{i}" for i in range(451) if i != 151]

        oldest_shown = removed[0].id  # on the last page: a change at the far end of the chain
        await store.remove_message(oldest_shown)
        assert [m.content for m in await next_of(watcher)] == [m.content for m in removed[1:]]

        await store.restore_message(deep)
        restored = await next_of(watcher)
        assert deep in {m.id for m in restored} and len(restored) == 450
        assert [m.content for m in restored] == [f"m{i}" for i in range(1, 451)]
    finally:
        await watcher.aclose()  # type: ignore[attr-defined]


@pytest.mark.parametrize("transport", [True], ids=["pages-pinned"], indirect=True)
async def test_pinned_pages_grow_and_shrink_and_the_chain_follows(
    store: ConvexStore, transport: BridgeTransport
) -> None:
    session = await store.create_session("alice", "pinned")
    await seed_messages(transport, session.id, 250)
    transport.calls.clear()
    watcher = store.watch_messages(session.id, limit=250)
    try:
        assert [m.content for m in await next_of(watcher)] == [f"m{i}" for i in range(250)]
        assert page_sizes(transport) == [200, 50]
        # The first page's end stays at m50: new messages make it grow past the limit alone.
        for index in range(250, 310):
            await transport.mutation(
                "chatMessages:append", {"sessionId": session.id, "role": "user", "content": f"m{index}"}
            )
        grown = await next_matching(watcher, lambda items: items[-1].content == "m309")
        assert [m.content for m in grown] == [f"m{i}" for i in range(60, 310)]

        transport.calls.clear()
        for message in grown[-20:]:  # m290..m309: the first page shrinks below the limit
            await store.remove_message(message.id)
        shrunk = await next_matching(watcher, lambda items: items[-1].content == "m289")
        assert [m.content for m in shrunk] == [f"m{i}" for i in range(40, 290)]
        later_pages = [
            args["paginationOpts"]
            for kind, _, args in transport.calls
            if kind == "query" and args["paginationOpts"]["cursor"]
        ]
        # The second page had been dropped (its re-runs would carry their pinned end), and one page
        # was opened afresh when the first fell short: for a refill's worth of rows, not for one.
        assert "endCursor" not in later_pages[0] and later_pages[0]["numItems"] == 50
        assert sum("endCursor" not in opts for opts in later_pages) == 1
    finally:
        await watcher.aclose()  # type: ignore[attr-defined]


async def test_watch_sessions_with_the_service_default_covers_250_sessions(
    store: ConvexStore, transport: BridgeTransport
) -> None:
    for index in range(250):
        await transport.mutation("chatSessions:create", {"userId": "alice", "title": f"s{index}"})
    first = await store.list_sessions("alice", numItems=PAGE_SIZE_MAX)
    rest = await store.list_sessions("alice", numItems=PAGE_SIZE_MAX, cursor=first.continueCursor)
    assert rest.isDone
    service = JangarService(store, "alice")
    watcher = service.watch_sessions()  # the default limit, 500, is more than a page holds
    try:
        snapshot = await next_of(watcher)
        assert [s.id for s in snapshot] == [s.id for s in first.page + rest.page]
        assert len(snapshot) == 250
        newest = await service.new_session("s250")
        assert [s.id for s in await next_of(watcher)] == [newest.id] + [s.id for s in snapshot]
    finally:
        await watcher.aclose()  # type: ignore[attr-defined]


async def test_connection_and_description(store: ConvexStore) -> None:
    states = store.watch_connection()
    try:
        assert (await next_of(states)).value == "live"
    finally:
        await states.aclose()  # type: ignore[attr-defined]
    assert store.description == "convex (convex-test)"


def test_description_and_repr_show_the_host_only(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "CONVEX_URL": "https://happy-otter-123.convex.cloud/",
            "CONVEX_ADMIN_KEY": SECRET,
            "JANGAR_CONVEX_AUTH_TOKEN": "jwt-" + SECRET,
            "JANGAR_USER": "alice",
            "JANGAR_DATA_DIR": str(tmp_path),
        }
    )
    store = ConvexStore(settings)  # the worker starts lazily: nothing runs here
    assert store.description == "convex (happy-otter-123.convex.cloud)"
    transport = WorkerTransport(
        "http://127.0.0.1:3210", admin_key=settings.convex_admin_key, auth_token=settings.convex_auth_token
    )
    assert transport.host == "127.0.0.1:3210"
    for text in (repr(store), str(store), store.description, repr(transport), str(vars(transport))):
        assert SECRET not in text
    assert isinstance(settings.convex_admin_key, SecretStr)


def test_no_url_is_refused(tmp_path: Path) -> None:
    settings = load_settings({"JANGAR_USER": "alice", "JANGAR_DATA_DIR": str(tmp_path)})
    with pytest.raises(JangarError) as refused:
        ConvexStore(settings)
    assert refused.value.code is ErrorCode.INVALID_ARGUMENT and "CONVEX_URL" in refused.value.message


def test_hosts_never_carry_credentials_or_paths() -> None:
    assert url_host("https://user:hunter2@h.example:8443/api?k=v") == "h.example:8443"
    assert url_host("http://[::1]:3210") == "[::1]:3210"
    assert url_host("https://happy-otter-123.convex.cloud") == "happy-otter-123.convex.cloud"
