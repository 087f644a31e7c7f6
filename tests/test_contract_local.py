"""Every contract scenario against a fresh embedded store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jangar_tui.models import ChatSession, ErrorCode, JangarError
from jangar_tui.store.sqlite.store import LocalStore
from tests.contract_runner import ScenarioFailure, load_scenarios, run_scenario

SCENARIOS = load_scenarios()


def test_scenarios_exist() -> None:
    assert len(SCENARIOS) >= 3, "tests/contract/ should hold the contract scenarios"


@pytest.mark.parametrize(("name", "scenario"), SCENARIOS, ids=[name for name, _ in SCENARIOS])
async def test_scenario(tmp_path: Path, name: str, scenario: dict[str, Any]) -> None:
    store = LocalStore(tmp_path / "jangar.sqlite3")
    try:
        await run_scenario(store, scenario)
    finally:
        await store.close()


# --- the runner itself: it must catch what it is there to catch --------------------------------


def _scenario(*steps: dict[str, Any]) -> dict[str, Any]:
    return {"name": "runner check", "steps": list(steps)}


CREATE = {
    "call": "chatSessions:create",
    "args": {"userId": "alice", "title": " Hi "},
    "save": "s",
    "expect": {"ok": {"title": "Hi"}},
}


async def test_runner_resolves_references_matchers_and_repeats(local_store: LocalStore) -> None:
    await run_scenario(
        local_store,
        _scenario(
            CREATE,
            {
                "call": "chatMessages:append",
                "repeat": 3,
                "args": {"sessionId": "$s._id", "role": "user", "content": "$$literal {i}"},
                "save": "m",
                "expect": {
                    "ok": {
                        "content": {"$ne": "$s.title"},
                        "createdAt": {"$gte": "$s.createdAt"},
                        "metadata": {"$absent": True},
                        "whatever": {"$any": True},
                    }
                },
            },
            {
                "call": "chatMessages:listBySession",
                "args": {"sessionId": "$s._id", "paginationOpts": {"numItems": 2, "cursor": None}},
                "save": "p",
                "expect": {
                    "ok": {
                        "page": [{"content": "$$literal 2", "_id": "$m._id"}, {"content": "$$literal 1"}],
                        "isDone": False,
                        "continueCursor": {"$type": "string"},
                    }
                },
            },
            {
                "call": "chatMessages:listBySession",
                "args": {"sessionId": "$s._id", "paginationOpts": {"numItems": 2, "cursor": "$p.continueCursor"}},
                "expect": {"ok": {"page": {"$len": 1}, "isDone": True}},
            },
            {
                "call": "chatSessions:get",
                "args": {"sessionId": "$p.page.1.sessionId"},
                "expect": {"ok": {"_id": "$s._id"}},
            },
        ),
    )


@pytest.mark.parametrize(
    ("step", "fragment"),
    [
        (
            {"call": "chatSessions:get", "args": {"sessionId": "$s._id"}, "expect": {"ok": {"title": "Bye"}}},
            'result.title: expected "Bye", got "Hi"',
        ),
        (
            {"call": "chatSessions:get", "args": {"sessionId": "$s._id"}, "expect": {"error": "NOT_FOUND"}},
            "expected error NOT_FOUND, got a result",
        ),
        (
            {
                "call": "chatSessions:rename",
                "args": {"sessionId": "$s._id", "title": ""},
                "expect": {"error": "CONFLICT"},
            },
            "expected error CONFLICT, got INVALID_ARGUMENT",
        ),
        (
            {"call": "chatSessions:get", "args": {"sessionId": "$nope._id"}, "expect": {"ok": None}},
            "unresolved reference",
        ),
        (
            {
                "call": "chatSessions:get",
                "args": {"sessionId": "$s._id"},
                "expect": {"ok": {"lastMessageAt": {"$lte": 0}}},
            },
            "result.lastMessageAt: expected $lte 0",
        ),
    ],
)
async def test_runner_reports_scenario_step_and_mismatch(
    local_store: LocalStore, step: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ScenarioFailure) as info:
        await run_scenario(local_store, _scenario(CREATE, step))
    assert str(info.value).startswith("[runner check] step 1 (")
    assert fragment in str(info.value)


class LeakyStore(LocalStore):
    """Renames, then reports an error: the runner must notice the change behind the error."""

    async def rename_session(self, sessionId: str, title: str) -> ChatSession:
        await super().rename_session(sessionId, title)
        raise JangarError(ErrorCode.CONFLICT, "pretend nothing happened")


async def test_runner_catches_an_error_step_that_changed_data(tmp_path: Path) -> None:
    store = LeakyStore(tmp_path / "leaky.sqlite3")
    try:
        with pytest.raises(ScenarioFailure) as info:
            await run_scenario(
                store,
                _scenario(
                    CREATE,
                    {
                        "call": "chatSessions:rename",
                        "args": {"sessionId": "$s._id", "title": "Changed"},
                        "expect": {"error": "CONFLICT"},
                    },
                ),
            )
        assert "a refused call changed visible data" in str(info.value)
    finally:
        await store.close()
