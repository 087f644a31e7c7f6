"""Page cursors (jangar_tui/store/cursors.py): valid only for the list they came from.

The contract scenario tests/contract/cursors.json covers what a scenario can write; here the forged
envelopes it cannot (they name a session id made during the test), on the embedded store.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from jangar_tui.models import ErrorCode, JangarError
from jangar_tui.store.cursors import ListIdentity, encode_cursor, open_cursor
from jangar_tui.store.sqlite.store import LocalStore


def envelope(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_a_cursor_round_trips_and_names_its_list() -> None:
    alice = ListIdentity("chatSessions:list", "ünïcode user")
    cursor = encode_cursor(alice, "12:3")
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert open_cursor(alice, cursor) == "12:3"
    assert open_cursor(alice, encode_cursor(alice, None)) is None
    for other in (ListIdentity("chatSessions:list", "bob"), ListIdentity("workOrders:listByStatus", "ünïcode user")):
        with pytest.raises(JangarError) as info:
            open_cursor(other, cursor)
        assert info.value.code == ErrorCode.INVALID_ARGUMENT


async def test_forged_envelopes_are_invalid_arguments(local_store: LocalStore) -> None:
    session = await local_store.create_session("alice", "Forged")
    await local_store.append_message(session.id, "user", "hi")
    fn = "chatMessages:listBySession"
    forged = [
        envelope({"v": 1, "fn": fn, "key": session.id, "inner": "not a position"}),
        envelope({"v": 1, "fn": fn, "key": session.id, "inner": "1:x"}),
        envelope({"v": 1, "fn": fn, "key": session.id, "inner": ""}),
        envelope({"v": True, "fn": fn, "key": session.id, "inner": None}),
        envelope({"v": 2, "fn": fn, "key": session.id, "inner": None}),
        envelope({"v": 1, "fn": fn, "key": session.id, "inner": None, "extra": 1}),
        envelope([1, fn, session.id, None]),
        "",
        "====",
        envelope({"v": 1, "fn": fn, "key": session.id, "inner": None}) + "!",
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        7,
    ]
    for cursor in forged:
        with pytest.raises(JangarError) as info:
            await local_store.list_messages(session.id, 5, cursor)  # type: ignore[arg-type]
        assert info.value.code == ErrorCode.INVALID_ARGUMENT, cursor
    end = envelope({"v": 1, "fn": fn, "key": session.id, "inner": None})
    page = await local_store.list_messages(session.id, 5, end)
    assert (page.page, page.isDone, page.continueCursor) == ([], True, end)
