"""Metadata the contract refuses but a JSON scenario cannot write (tests/contract/metadata.json has
the rest): NaN, infinities, bytes, int64, integers beyond 2^53, nesting past any recursion limit,
Python objects that are not JSON. Each is INVALID_ARGUMENT and stores nothing, on the embedded
store and through the Convex adapter, which must never leak a ValueError, TypeError or
RecursionError from encoding.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from convex.values import ConvexInt64

from jangar_tui.config import load_settings
from jangar_tui.models import ErrorCode, JangarError, Role
from jangar_tui.store.base import Store
from jangar_tui.store.convex.store import ConvexStore
from jangar_tui.store.sqlite.store import LocalStore
from tests.convex_bridge.client import BridgeTransport, ConvexBridge


def _deep(levels: int) -> Any:
    value: Any = 0
    for _ in range(levels):
        value = [value]
    return value


REFUSED: dict[str, Any] = {
    "nan": {"x": math.nan},
    "infinity": {"x": math.inf},
    "-infinity": [-math.inf],
    "bytes": {"x": b"\x00\x01"},
    "int64": {"x": ConvexInt64(5)},
    "int beyond 2^53": {"x": 2**53 + 1},
    "negative int beyond 2^53": [-(2**53) - 1],
    "16 levels": _deep(16),
    "deeper than the recursion limit": _deep(100_000),
    "a set": {"x": {1, 2}},
    "an int key": {1: "x"},
    "an object": {"x": object()},
}


@pytest.fixture(params=["embedded", "convex adapter"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    backend: Store
    if request.param == "embedded":
        backend = LocalStore(tmp_path / "jangar.sqlite3")
    else:
        bridge: ConvexBridge = request.getfixturevalue("bridge")
        bridge.reset()
        settings = load_settings({"JANGAR_DATA_DIR": str(tmp_path), "CONVEX_URL": "http://127.0.0.1:3210"})
        backend = ConvexStore(settings, transport=BridgeTransport(bridge))
    try:
        yield backend
    finally:
        await backend.close()


@pytest.mark.parametrize("metadata", REFUSED.values(), ids=REFUSED.keys())
async def test_refused_and_nothing_stored(store: Store, metadata: Any) -> None:
    session = await store.create_session("alice", "Metadata")
    with pytest.raises(JangarError) as info:
        await store.append_message(session.id, Role.ASSISTANT, "m", metadata)
    assert info.value.code == ErrorCode.INVALID_ARGUMENT
    assert info.value.message.startswith("metadata must be plain JSON")
    assert (await store.list_messages(session.id)).page == []


async def test_the_edges_that_are_allowed_round_trip(store: Store) -> None:
    session = await store.create_session("alice", "Metadata")
    metadata = {"max": 2**53, "min": -(2**53), "float": 1e300, "tiny": -5e-324, "deep": _deep(14)}
    message = await store.append_message(session.id, Role.ASSISTANT, "m", metadata)
    assert message.metadata == metadata
    [listed] = (await store.list_messages(session.id)).page
    assert listed.metadata == metadata


async def test_an_argument_that_cannot_be_encoded_is_refused_not_leaked(store: Store) -> None:
    session = await store.create_session("alice", "Arguments")
    for title in ({"not": "a string"}, {1, 2}, _deep(100_000)):
        with pytest.raises(JangarError) as info:
            await store.rename_session(session.id, title)  # type: ignore[arg-type]
        assert info.value.code == ErrorCode.INVALID_ARGUMENT
    assert (await store.get_session(session.id)) == session
