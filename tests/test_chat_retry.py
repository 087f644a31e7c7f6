"""A retried chat turn never gives Codex the user's message twice (real Codex CLI, stand-in model).

The first attempt is played by hand on a real `codex app-server` (as a worker would run it), then
ended the way a dying worker ends it; the retry is `ChatTurn(retry=True)`, as the activity runs it
on Temporal's next attempt.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from codex_standin import Reply, StandIn

from jangar_tui.agents.codex_app_server import CodexAppServer, CodexOptions
from jangar_tui.agents.codex_events import TextDelta
from jangar_tui.chat.reply import REPLY_KIND
from jangar_tui.chat.turn import RETRY_NOTE, ChatTurn
from jangar_tui.config import Settings, load_settings
from jangar_tui.models import ChatMessage, Role
from jangar_tui.store.sqlite.store import LocalStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[LocalStore]:
    store = LocalStore(tmp_path / "jangar.sqlite3")
    yield store
    await store.close()


@pytest.fixture
def settings(tmp_path: Path, codex_home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    return load_settings({"JANGAR_DATA_DIR": str(tmp_path / "data"), "JANGAR_CHAT_DIR": str(tmp_path / "chat")})


def codex_options(settings: Settings) -> CodexOptions:
    settings.chat_workdir.mkdir(parents=True, exist_ok=True)
    return CodexOptions(binary=settings.codex_bin, cwd=settings.chat_workdir, sandbox=settings.chat_sandbox)


async def replies(store: LocalStore, session_id: str, user: ChatMessage) -> list[ChatMessage]:
    rows = (await store.list_messages(session_id, 50)).page
    return [m for m in rows if isinstance(m.metadata, dict) and m.metadata.get("replyTo") == user.id]


async def first_turn(settings: Settings, store: LocalStore, standin: StandIn) -> tuple[str, ChatMessage]:
    """A session with one answered message; its thread id and the second user message."""
    standin.script(Reply(text="Blue is calm."))
    session = await store.create_session("tester", "Colours")
    first = await store.append_message(session.id, Role.USER, "Tell me about blue.")
    assert await ChatTurn(settings, store, session.id, first.id).run() == "completed"
    reply = (await replies(store, session.id, first))[0]
    assert isinstance(reply.metadata, dict)
    second = await store.append_message(session.id, Role.USER, "And green?")
    return str(reply.metadata["threadId"]), second


async def test_a_retry_takes_the_answer_an_earlier_attempt_finished_without_asking_again(
    settings: Settings, store: LocalStore, standin: StandIn
) -> None:
    thread, second = await first_turn(settings, store, standin)
    # Attempt 1 ran the whole turn on Codex, then its worker died before the reply reached the store.
    standin.script(Reply(text="Green is growth."))
    attempt = await CodexAppServer.start(codex_options(settings))
    try:
        await attempt.open_thread(thread)
        async for _ in attempt.run_turn(second.content, client_id=second.id):
            pass
    finally:
        await attempt.close()
    requests = len(standin.requests)

    assert await ChatTurn(settings, store, second.sessionId, second.id, retry=True).run() == "completed"

    assert len(standin.requests) == requests, "the model was not asked again"
    [reply] = await replies(store, second.sessionId, second)
    assert reply.content == "Green is growth."
    assert isinstance(reply.metadata, dict)
    assert reply.metadata["kind"] == REPLY_KIND and reply.metadata["threadId"] == thread
    assert reply.metadata["turnId"] == attempt.last_turn_id


async def test_a_retry_of_a_cut_off_turn_asks_again_without_sending_the_message_twice(
    settings: Settings, store: LocalStore, standin: StandIn
) -> None:
    thread, second = await first_turn(settings, store, standin)
    gate = threading.Event()
    standin.script(Reply(text="Green is gr-", deltas=4, gate=gate, gate_after=1), Reply(text="Green is growth."))
    attempt = await CodexAppServer.start(codex_options(settings))
    try:
        await attempt.open_thread(thread)
        async for event in attempt.run_turn(second.content, client_id=second.id):
            if isinstance(event, TextDelta):
                break
        # What the first attempt had written, as its reply writer writes it.
        partial = await store.append_message(
            second.sessionId,
            Role.ASSISTANT,
            event.delta,
            {"kind": REPLY_KIND, "replyTo": second.id, "status": "streaming", "agent": "codex", "threadId": thread},
        )
        os.killpg(attempt.proc.pid, signal.SIGKILL)  # the worker died, and its codex with it
    finally:
        gate.set()
        await attempt.close()

    assert await ChatTurn(settings, store, second.sessionId, second.id, retry=True).run() == "completed"

    retried = standin.user_texts(len(standin.requests) - 1)
    assert retried.count("And green?") == 1, "the thread holds the message once"
    assert retried[-1] == RETRY_NOTE
    [reply] = await replies(store, second.sessionId, second)
    assert reply.id == partial.id, "the same reply is rewritten"
    assert reply.content == "Green is growth."
    assert isinstance(reply.metadata, dict) and reply.metadata["status"] == "completed"


async def test_a_retry_before_codex_saw_the_message_sends_it_once(
    settings: Settings, store: LocalStore, standin: StandIn
) -> None:
    thread, second = await first_turn(settings, store, standin)
    standin.script(Reply(text="Green is growth."))

    assert await ChatTurn(settings, store, second.sessionId, second.id, retry=True).run() == "completed"

    assert standin.user_texts(1)[-2:] == ["Tell me about blue.", "And green?"]
    [reply] = await replies(store, second.sessionId, second)
    assert reply.content == "Green is growth." and isinstance(reply.metadata, dict)
    assert reply.metadata["threadId"] == thread


@pytest.mark.temporal
@pytest.mark.slow
async def test_quitting_mid_reply_with_the_embedded_default_answers_again_at_the_next_start(
    tmp_path: Path, codex_home: Path, standin: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the README says of the embedded default: the turn stops with the in-process worker,
    the reply keeps 'writing…' with its text so far, and the next start answers the message again
    (Codex asked to answer again, not sent the message twice)."""
    from jangar_tui.orchestration.devserver import free_port
    from jangar_tui.orchestration.runtime import JangarRuntime
    from jangar_tui.service import JangarService

    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    settings = load_settings(
        {
            "JANGAR_DATA_DIR": str(tmp_path / "data"),
            "JANGAR_EMBEDDED_TEMPORAL_PORT": str(free_port()),
            "JANGAR_USER": "tester",
            "JANGAR_BACKEND": "local",
        }
    )
    gate = threading.Event()
    standin.script(Reply(text="one two three four five six", deltas=6, gate=gate, gate_after=2))
    standin.script(Reply(text="The whole answer, again."))
    store = LocalStore(settings)
    try:
        async with JangarRuntime(settings, store) as runtime:
            service = JangarService(store, "tester", runtime.launcher)
            session = await service.new_session("Quit")
            sent = await service.send_message(session.id, "count")
            partial = await _reply_when(store, sent, lambda m: m.content.startswith("one two"))
        # Quit: the runtime (and its worker) stopped mid-reply.
        gate.set()
        [left] = await replies(store, session.id, sent)
        assert isinstance(left.metadata, dict) and left.metadata["status"] == "streaming"
        assert left.content == partial.content, "the text so far stays"

        async with JangarRuntime(settings, store):
            done = await _reply_when(
                store, sent, lambda m: isinstance(m.metadata, dict) and m.metadata["status"] == "completed"
            )
    finally:
        gate.set()
        await store.close()
    assert done.id == partial.id and done.content == "The whole answer, again."
    retried = standin.user_texts(len(standin.requests) - 1)
    assert retried.count("count") == 1 and retried[-1] == RETRY_NOTE


async def _reply_when(store: LocalStore, user: ChatMessage, check: Callable[[ChatMessage], bool]) -> ChatMessage:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while True:
        found = [m for m in await replies(store, user.sessionId, user) if check(m)]
        if found:
            return found[0]
        assert loop.time() < deadline, f"never: {await replies(store, user.sessionId, user)}"
        await asyncio.sleep(0.05)
