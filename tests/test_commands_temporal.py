"""`jangar wo launch|cancel|retry|logs` and `jangar message send` on the real Temporal dev server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cli_harness import Cli, backend_store
from git_support import seeded_bare_remote
from temporal_fixtures import WAIT_S, agent_command, make_settings, running_worker, wait_for_status

from jangar_tui.models import WorkOrderStatus
from jangar_tui.orchestration.devserver import DevServer, free_port

pytestmark = pytest.mark.temporal
S = WorkOrderStatus
INVALID_TRANSITION, CONFLICT, UNAVAILABLE = 5, 6, 8


async def _cli(request: pytest.FixtureRequest, tmp_path: Path, address: str, agent: str) -> AsyncIterator[Cli]:
    settings = make_settings(tmp_path, address, agent_command(agent))
    bridge = request.getfixturevalue("bridge") if request.param == "convex" else None
    store = backend_store(request.param, settings, bridge)
    try:
        yield Cli(store, settings)
    finally:
        await store.close()


@pytest.fixture(params=["local", "convex"])
async def cli(request: pytest.FixtureRequest, tmp_path: Path, temporal_server: DevServer) -> AsyncIterator[Cli]:
    async for cli in _cli(request, tmp_path, temporal_server.address, "pr_agent.py"):
        yield cli


@pytest.fixture(params=["local"])
async def cli_without_temporal(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Cli]:
    async for cli in _cli(request, tmp_path, f"127.0.0.1:{free_port()}", "pr_agent.py"):
        yield cli


async def _draft(cli: Cli, title: str = "Fix it") -> dict[str, str]:
    session = (await cli.json("session", "new", "Work")).document
    document: dict[str, str] = (
        await cli.json("wo", "new", session["_id"], "--title", title, "--prompt", "go")
    ).document
    return document


async def test_launch_follow_logs_to_the_result(cli: Cli) -> None:
    draft = await _draft(cli)
    launched = await cli.json("wo", "launch", draft["_id"])
    assert (launched.code, launched.document["status"]) == (0, "submitted")
    again = await cli.json("wo", "launch", draft["_id"])  # changes nothing, starts no second workflow
    assert (again.code, again.document["workflowId"]) == (0, draft["workflowId"])

    async with running_worker(cli.settings, cli.store):
        logs = await cli.json("wo", "logs", draft["_id"], "--follow")
    assert logs.code == 0
    kinds = [line["type"] for line in logs.documents]
    assert kinds[0] == "workOrder" and kinds[-1] == "result" and "event" in kinds
    statuses = [line["workOrder"]["status"] for line in logs.documents if line["type"] == "workOrder"]
    assert statuses[-1] == "succeeded"
    events = [line["event"] for line in logs.documents if line["type"] == "event"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))  # every event once, in order
    assert any(e["kind"] == "output" and "pull/42" in e["text"] for e in events)
    assert "https://github.com/acme/widgets/pull/42" in logs.documents[-1]["result"]["content"]

    shown = (await cli.json("wo", "show", draft["_id"])).document
    assert shown["workOrder"]["prUrl"] == "https://github.com/acme/widgets/pull/42"
    assert shown["result"] == logs.documents[-1]["result"]

    text = await cli.text("wo", "logs", draft["_id"])
    assert "succeeded" in text.text and "#1 " in text.text and "result:" in text.text


async def test_retry_only_what_ended_badly_and_cancel_a_launched_one(cli: Cli) -> None:
    draft = await _draft(cli, "Flaky")
    refused = await cli.json("wo", "retry", draft["_id"])
    assert (refused.code, refused.document["error"]["code"]) == (INVALID_TRANSITION, "INVALID_TRANSITION")

    await cli.json("wo", "launch", draft["_id"])
    await cli.json("wo", "cancel", draft["_id"])  # no worker: the workflow is asked to cancel...
    async with running_worker(cli.settings, cli.store):  # ...and a worker carries it out
        await wait_for_status(cli.store, draft["_id"], [S.CANCELED])
    retried = (await cli.json("wo", "retry", draft["_id"])).document
    assert retried["status"] == "draft" and retried["_id"] != draft["_id"]
    assert (retried["title"], retried["prompt"]) == ("Flaky", "go")
    assert retried["workflowId"] != draft["workflowId"]


async def test_temporal_down_launch_is_unavailable_and_the_draft_stays(cli_without_temporal: Cli) -> None:
    cli = cli_without_temporal
    draft = await _draft(cli)
    refused = await cli.json("wo", "launch", draft["_id"])
    assert (refused.code, refused.document["error"]["code"]) == (UNAVAILABLE, "UNAVAILABLE")
    assert (await cli.json("wo", "show", draft["_id"])).document["workOrder"]["status"] == "draft"


async def test_one_follow_up_at_a_time_in_a_worktree(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While a follow-up is queued or running in the chain's worktree, another is refused at once
    (CONFLICT, exit 6, nothing made) rather than failing when its workspace is prepared."""
    remote = seeded_bare_remote(tmp_path)  # should a worker fetch, "GitHub" is this bare repository
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", f"url.{remote}.insteadOf")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "https://github.com/acme/widgets.git")
    session = (await cli.json("session", "new", "Chain")).document
    first = (
        await cli.json("wo", "new", session["_id"], "--title", "Fix it", "--prompt", "go", "--repo", "acme/widgets")
    ).document
    await cli.json("wo", "cancel", first["_id"])  # a draft: ended at once, no workflow
    queued = (await cli.json("wo", "follow-up", first["_id"], "more")).document
    assert queued["status"] == "submitted"  # no worker runs: it waits in Temporal's queue

    second = await cli.json("wo", "follow-up", first["_id"], "and more")
    assert (second.code, second.document["error"]["code"]) == (CONFLICT, "CONFLICT")
    assert queued["_id"] in second.document["error"]["message"]
    as_text = await cli.text("wo", "follow-up", first["_id"], "and more")
    assert as_text.stderr.startswith("jangar: CONFLICT: Work order ") and as_text.code == CONFLICT
    listed = (await cli.json("wo", "list", "--session", session["_id"])).document["page"]
    assert sorted(order["_id"] for order in listed) == sorted([first["_id"], queued["_id"]]), "nothing made"

    # A draft holds nothing and is made; launching it is refused while the other one is queued.
    draft = (await cli.json("wo", "follow-up", first["_id"], "later", "--draft")).document
    refused = await cli.json("wo", "launch", draft["_id"])
    assert (refused.code, refused.document["error"]["code"]) == (CONFLICT, "CONFLICT")
    assert (await cli.json("wo", "show", draft["_id"])).document["workOrder"]["status"] == "draft"

    await cli.json("wo", "cancel", queued["_id"])
    async with running_worker(cli.settings, cli.store):
        await wait_for_status(cli.store, queued["_id"], [S.CANCELED])
    launched = await cli.json("wo", "launch", draft["_id"])  # the worktree is free again
    assert (launched.code, launched.document["status"]) == (0, "submitted")


async def test_message_send_is_answered_as_the_ui_s_enter_is(tmp_path: Path, temporal_server: DevServer) -> None:
    """The scripted message gets a reply, as one sent from the UI does (before, it was only stored,
    and the transcript showed it 'thinking…' with nothing asked); --no-reply only stores it."""
    chat_agent = agent_command("echo_chat_agent.py")
    settings = make_settings(
        tmp_path, temporal_server.address, agent_command("pr_agent.py"), JANGAR_CHAT_COMMAND=chat_agent
    )
    store = backend_store("local", settings)
    try:
        cli = Cli(store, settings)
        session = (await cli.json("session", "new", "Scripted")).document
        quiet = await cli.json("message", "send", session["_id"], "a note", "--no-reply")
        sent = await cli.json("message", "send", session["_id"], "hello there")
        assert (quiet.code, sent.code) == (0, 0)
        async with running_worker(settings, store):
            reply = await _reply_to(cli, session["_id"], sent.document["_id"])
        assert reply["content"] == "echo: hello there\n"
        replies = [m for m in await _messages(cli, session["_id"]) if m["role"] != "user"]
        assert [m["metadata"]["replyTo"] for m in replies] == [sent.document["_id"]]  # none to the note
    finally:
        await store.close()


async def _messages(cli: Cli, session_id: str) -> list[dict[str, Any]]:
    page: list[dict[str, Any]] = (await cli.json("message", "list", session_id)).document["page"]
    return page


async def _reply_to(cli: Cli, session_id: str, message_id: str) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while asyncio.get_running_loop().time() < deadline:
        for message in await _messages(cli, session_id):
            metadata = message.get("metadata") or {}
            if metadata.get("replyTo") == message_id and metadata.get("status") == "completed":
                return message
        await asyncio.sleep(0.2)
    pytest.fail(f"no completed reply to {message_id}: {await _messages(cli, session_id)}")
