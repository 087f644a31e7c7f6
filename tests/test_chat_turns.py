"""Chat turns end to end below the UI: service → Temporal (real dev server) → worker → real Codex
CLI → stand-in model server on 127.0.0.1 → the store."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from codex_standin import Reply, StandIn, chunks, write_codex_home
from temporal_fixtures import WAIT_S, make_settings, running_worker, settings_env

from jangar_tui.config import Settings
from jangar_tui.models import ChatMessage, Role
from jangar_tui.orchestration.devserver import DevServer
from jangar_tui.orchestration.launcher import TemporalLauncher
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore

pytestmark = pytest.mark.temporal
AGENTS = Path(__file__).parent / "agents"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[LocalStore]:
    store = LocalStore(tmp_path / "jangar.sqlite3")
    yield store
    await store.close()


@pytest.fixture
def chat_settings(
    temporal_server: DevServer, tmp_path: Path, codex_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    # The in-process worker's codex reads CODEX_HOME from this process's environment.
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    return make_settings(tmp_path, temporal_server.address, "true")


async def messages(store: LocalStore, session_id: str) -> list[ChatMessage]:
    return list(reversed((await store.list_messages(session_id, 200)).page))


async def wait_for(
    store: LocalStore, session_id: str, check: Callable[[list[ChatMessage]], Any], timeout_s: float = WAIT_S
) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        found = check(await messages(store, session_id))
        if found:
            return found
        if loop.time() > deadline:
            pytest.fail(
                f"never happened; messages: {[(m.role.value, m.content, m.metadata) for m in await messages(store, session_id)]}"
            )
        await asyncio.sleep(0.02)


def reply_to(message_id: str, status: str | None = None) -> Callable[[list[ChatMessage]], ChatMessage | None]:
    def check(rows: list[ChatMessage]) -> ChatMessage | None:
        for row in rows:
            meta = row.metadata if isinstance(row.metadata, dict) else {}
            mine = meta.get("kind") == "chatReply" and meta.get("replyTo") == message_id
            if mine and (status is None or meta.get("status") == status):
                return row
        return None

    return check


def system_error(rows: list[ChatMessage]) -> ChatMessage | None:
    return next((m for m in rows if m.role == Role.SYSTEM and (m.metadata or {}).get("kind") == "chatError"), None)


async def test_a_reply_streams_then_the_next_turn_resumes_the_thread(
    chat_settings: Settings, store: LocalStore, standin: StandIn
) -> None:
    gate = threading.Event()
    standin.script(
        Reply(text="Paris is the capital of France.", deltas=6, gate=gate, gate_after=2, output_tokens=12),
        Reply(text="About 2.1 million people.", output_tokens=8),
    )
    service = JangarService(store, "tester", TemporalLauncher(chat_settings, store))
    session = await service.new_session("Geography")
    async with running_worker(chat_settings, store):
        first = await service.send_message(session.id, "What is the capital of France?")
        partial = await wait_for(store, session.id, reply_to(first.id, "streaming"))
        assert partial.role == Role.ASSISTANT and partial.content.startswith("Paris")
        assert partial.content != "Paris is the capital of France."  # seen before the turn completed
        gate.set()
        done = await wait_for(store, session.id, reply_to(first.id, "completed"))
        second = await service.send_message(session.id, "And its population?")
        again = await wait_for(store, session.id, reply_to(second.id, "completed"))
    assert done.id == partial.id and done.content == "Paris is the capital of France."
    assert again.content == "About 2.1 million people."
    # One thread: the second request carried the first turn.
    assert again.metadata["threadId"] == done.metadata["threadId"]
    assert standin.user_texts(1)[-2:] == ["What is the capital of France?", "And its population?"]
    assert standin.assistant_texts(1) == ["Paris is the capital of France."]
    # Usage: Codex's thread total is a running sum; the turn's own share and the session's total.
    assert done.metadata["usage"]["turn"]["outputTokens"] == 12
    assert again.metadata["usage"]["turn"]["outputTokens"] == 8
    assert again.metadata["usage"]["thread"]["outputTokens"] == 20
    assert again.metadata["usage"]["session"]["outputTokens"] == 20
    assert again.metadata["usage"]["session"]["inputTokens"] == 200


async def test_a_tool_call_is_recorded_in_the_reply_metadata(
    chat_settings: Settings, store: LocalStore, standin: StandIn
) -> None:
    standin.script(Reply(tool_command="echo checked-the-tree; exit 2"), Reply(text="The check exited with 2."))
    service = JangarService(store, "tester", TemporalLauncher(chat_settings, store))
    session = await service.new_session("Tools")
    async with running_worker(chat_settings, store):
        sent = await service.send_message(session.id, "check the tree")
        done = await wait_for(store, session.id, reply_to(sent.id, "completed"))
    commands = done.metadata["commands"]
    assert len(commands) == 1
    assert "checked-the-tree" in commands[0]["command"] and commands[0]["exitCode"] == 2
    assert "checked-the-tree" in commands[0]["output"]
    assert done.content == "The check exited with 2."


async def test_model_server_down_leaves_a_system_message_saying_what_to_set(
    chat_settings: Settings, store: LocalStore, standin: StandIn
) -> None:
    standin.close()
    service = JangarService(store, "tester", TemporalLauncher(chat_settings, store))
    session = await service.new_session("Down")
    async with running_worker(chat_settings, store):
        loop = asyncio.get_running_loop()
        started = loop.time()
        await service.send_message(session.id, "anyone there?")
        note = await wait_for(store, session.id, system_error)
        elapsed = loop.time() - started
    print(f"send -> system message with the model server down: {elapsed:.3f} s")
    assert note.content.startswith("Codex could not answer:")
    assert "base_url" in note.content and "CODEX_HOME" in note.content
    assert not any(m.role == Role.ASSISTANT for m in await messages(store, session.id))


async def test_a_missing_api_key_says_which_to_set(
    chat_settings: Settings, store: LocalStore, standin: StandIn, codex_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_codex_home(codex_home, standin.base_url, env_key="JANGAR_TEST_MODEL_KEY")
    monkeypatch.delenv("JANGAR_TEST_MODEL_KEY", raising=False)
    service = JangarService(store, "tester", TemporalLauncher(chat_settings, store))
    session = await service.new_session("No key")
    async with running_worker(chat_settings, store):
        await service.send_message(session.id, "hello")
        note = await wait_for(store, session.id, system_error)
    assert "JANGAR_TEST_MODEL_KEY" in note.content and "API key" in note.content
    assert standin.requests == []  # codex never called the model without its key


async def test_a_missing_codex_binary_says_what_to_set(
    temporal_server: DevServer, store: LocalStore, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, temporal_server.address, "true", JANGAR_CODEX_BIN=str(tmp_path / "no-codex"))
    service = JangarService(store, "tester", TemporalLauncher(settings, store))
    session = await service.new_session("No codex")
    async with running_worker(settings, store):
        await service.send_message(session.id, "hello")
        note = await wait_for(store, session.id, system_error)
    assert "was not found" in note.content and "JANGAR_CODEX_BIN" in note.content


async def test_interrupt_keeps_the_partial_text_marked_interrupted(
    chat_settings: Settings, store: LocalStore, standin: StandIn
) -> None:
    gate = threading.Event()
    text = "one two three four five six"
    standin.script(Reply(text=text, deltas=6, gate=gate, gate_after=2))
    service = JangarService(store, "tester", TemporalLauncher(chat_settings, store))
    session = await service.new_session("Stop")
    try:
        async with running_worker(chat_settings, store):
            sent = await service.send_message(session.id, "count slowly")
            await wait_for(store, session.id, reply_to(sent.id, "streaming"))
            await service.interrupt_reply(session.id)
            done = await wait_for(store, session.id, reply_to(sent.id, "interrupted"))
    finally:
        gate.set()
    assert done.content == "".join(chunks(text, 6)[:2])  # what streamed before the interrupt
    assert not system_error(await messages(store, session.id))


async def test_a_lost_thread_continues_in_a_new_thread_seeded_from_the_store(
    chat_settings: Settings, store: LocalStore, standin: StandIn, codex_home: Path
) -> None:
    standin.script(Reply(text="Blue."), Reply(text="You said blue."))
    service = JangarService(store, "tester", TemporalLauncher(chat_settings, store))
    session = await service.new_session("Memory")
    async with running_worker(chat_settings, store):
        first = await service.send_message(session.id, "My favourite colour is blue.")
        done = await wait_for(store, session.id, reply_to(first.id, "completed"))
    # Another machine: same store, but its codex has never seen the thread (the worker, and the
    # codex it kept ready, stopped first).
    for entry in codex_home.iterdir():
        if entry.name != "config.toml":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    async with running_worker(chat_settings, store):
        second = await service.send_message(session.id, "What did I say?")
        again = await wait_for(store, session.id, reply_to(second.id, "completed"))
    assert again.metadata["threadId"] != done.metadata["threadId"]
    seeded = standin.user_texts(1)[-1]
    assert "My favourite colour is blue." in seeded and "Blue." in seeded and seeded.endswith("What did I say?")


async def test_another_agent_answers_with_its_stdout(
    temporal_server: DevServer, store: LocalStore, tmp_path: Path
) -> None:
    command = f"{sys.executable} {AGENTS / 'echo_chat_agent.py'}"
    settings = make_settings(tmp_path, temporal_server.address, "true", JANGAR_CHAT_COMMAND=command)
    service = JangarService(store, "tester", TemporalLauncher(settings, store))
    session = await service.new_session("Other vendor")
    async with running_worker(settings, store):
        sent = await service.send_message(session.id, "hello there")
        done = await wait_for(store, session.id, reply_to(sent.id, "completed"))
    assert done.content == "echo: hello there\n"
    assert done.metadata["agent"] == "command"


async def test_a_turn_no_attempt_finishes_ends_failed_with_a_system_message(
    temporal_server: DevServer, store: LocalStore, tmp_path: Path
) -> None:
    # Every attempt runs past its timeout: without the settle step the reply said "writing…" forever.
    command = f"{sys.executable} {AGENTS / 'hanging_chat_agent.py'}"
    settings = make_settings(
        tmp_path, temporal_server.address, "true", JANGAR_CHAT_COMMAND=command, JANGAR_CHAT_TIMEOUT="1"
    )
    service = JangarService(store, "tester", TemporalLauncher(settings, store))
    session = await service.new_session("Stuck")
    async with running_worker(settings, store):
        sent = await service.send_message(session.id, "will you answer?")
        failed = await wait_for(store, session.id, reply_to(sent.id, "failed"))
        note = await wait_for(store, session.id, system_error)
    assert failed.content.startswith("thinking about it"), "the partial text is kept"
    assert "JANGAR_CHAT_TIMEOUT" in failed.metadata["errors"][-1]
    assert note.metadata["replyTo"] == sent.id
    assert "could not be finished" in note.content and "JANGAR_CHAT_TIMEOUT" in note.content
    rows = await messages(store, session.id)
    assert [m.role for m in rows] == [Role.USER, Role.ASSISTANT, Role.SYSTEM], "one reply, one note"


_CLIENT = """
import asyncio, sys
from jangar_tui.config import load_settings
from jangar_tui.orchestration.launcher import TemporalLauncher
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore

async def main():
    settings = load_settings()
    store = LocalStore(settings)
    service = JangarService(store, settings.user, TemporalLauncher(settings, store))
    message = await service.send_message(sys.argv[1], "tell me a long story")
    print(message.id, flush=True)
    await asyncio.sleep(3600)  # the 'TUI' stays until it is killed

asyncio.run(main())
"""


@pytest.mark.slow
async def test_the_reply_completes_after_the_tui_process_is_killed(
    temporal_server: DevServer, store: LocalStore, tmp_path: Path, codex_home: Path, standin: StandIn
) -> None:
    story = " ".join(f"word{n}" for n in range(60))
    standin.script(Reply(text=story, deltas=30, delay_s=0.05))
    settings = make_settings(tmp_path, temporal_server.address, "true")
    env = {**os.environ, **settings_env(settings), "CODEX_HOME": str(codex_home)}
    session = await store.create_session("tester", "Story")
    log = (tmp_path / "processes.log").open("ab")
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "jangar_tui.orchestration.worker", env=env, stdout=log, stderr=log
    )
    tui = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CLIENT, session.id, env=env, stdout=asyncio.subprocess.PIPE, stderr=log
    )
    try:
        assert tui.stdout is not None
        message_id = (await tui.stdout.readline()).decode().strip()
        partial = await wait_for(store, session.id, reply_to(message_id, "streaming"))
        tui.kill()  # SIGKILL: the TUI gets no chance to clean up
        await tui.wait()
        done = await wait_for(store, session.id, reply_to(message_id, "completed"))
    finally:
        for proc in (tui, worker):
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                await asyncio.wait_for(proc.wait(), 15)
        log.close()
    assert partial.content != story
    assert done.id == partial.id and done.content == story
