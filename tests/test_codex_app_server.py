"""The Codex driver against the real `codex app-server` and the stand-in model server."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from codex_standin import Reply, StandIn

from jangar_tui.agents.codex_app_server import CodexAppServer, CodexError, CodexOptions, ThreadNotFound
from jangar_tui.agents.codex_events import (
    CodexEvent,
    ItemCompleted,
    ItemStarted,
    ReasoningDelta,
    TextDelta,
    TurnEnded,
    UsageUpdated,
)


def options(codex_bin: Path, tmp_path: Path, env: dict[str, str]) -> CodexOptions:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return CodexOptions(binary=[str(codex_bin)], cwd=work, env=env)


async def collect(server: CodexAppServer, text: str) -> list[CodexEvent]:
    return [event async for event in server.run_turn(text)]


async def test_a_turn_streams_text_reasoning_and_usage(
    codex_bin: Path, tmp_path: Path, codex_env: dict[str, str], standin: StandIn
) -> None:
    standin.script(Reply(text="The answer is forty-two.", deltas=5, reasoning="Thinking it over", output_tokens=7))
    server = await CodexAppServer.start(options(codex_bin, tmp_path, codex_env))
    try:
        ready = await server.open_thread(None)
        assert not ready.resumed and ready.threadId
        events = await collect(server, "What is the answer?")
    finally:
        await server.close()
    deltas = [e.delta for e in events if isinstance(e, TextDelta)]
    assert len(deltas) == 5 and "".join(deltas) == "The answer is forty-two."
    assert [e.delta for e in events if isinstance(e, ReasoningDelta)] == ["Thinking it over"]
    usage = [e for e in events if isinstance(e, UsageUpdated)]
    assert usage and usage[-1].total.outputTokens == 7 and usage[-1].total.inputTokens == 100
    assert events[-1] == TurnEnded(status="completed")
    assert standin.user_texts(0)[-1] == "What is the answer?"
    assert standin.requests[0]["model"] == "gpt-5.5"


async def test_a_tool_call_is_run_and_reported_with_its_exit_code(
    codex_bin: Path, tmp_path: Path, codex_env: dict[str, str], standin: StandIn
) -> None:
    standin.script(Reply(tool_command="echo from-the-tool; exit 3"), Reply(text="It failed with 3."))
    server = await CodexAppServer.start(options(codex_bin, tmp_path, codex_env))
    try:
        await server.open_thread(None)
        events = await collect(server, "run it")
    finally:
        await server.close()
    commands = [e.item for e in events if isinstance(e, ItemCompleted) and e.item.get("type") == "commandExecution"]
    assert len(commands) == 1
    assert commands[0]["exitCode"] == 3 and "from-the-tool" in commands[0]["aggregatedOutput"]
    assert events[-1] == TurnEnded(status="completed")
    # codex sent the command's output back to the model in a second request.
    assert len(standin.requests) == 2
    outputs = [i for i in standin.requests[1]["input"] if i.get("type") == "function_call_output"]
    assert outputs and "from-the-tool" in str(outputs[0]["output"])


async def test_a_command_is_reported_when_it_starts_before_it_ends(
    codex_bin: Path, tmp_path: Path, codex_env: dict[str, str], standin: StandIn
) -> None:
    """A build or a test run takes minutes: its start is an event of its own, seen while it runs."""
    gate = tmp_path / "go"
    standin.script(Reply(tool_command=f"while [ ! -e {gate} ]; do sleep 0.1; done; echo released"), Reply(text="ok"))
    server = await CodexAppServer.start(options(codex_bin, tmp_path, codex_env))
    events: list[CodexEvent] = []
    try:
        await server.open_thread(None)
        async for event in server.run_turn("run it"):
            events.append(event)
            if isinstance(event, ItemStarted) and event.item.get("type") == "commandExecution":
                assert not gate.exists()  # seen while the command still waits
                gate.touch()
    finally:
        await server.close()
    kinds = [(type(e).__name__, e.item.get("type")) for e in events if isinstance(e, (ItemStarted, ItemCompleted))]
    started = kinds.index(("ItemStarted", "commandExecution"))
    assert ("ItemCompleted", "commandExecution") in kinds[started + 1 :], kinds
    [start] = [e.item for e in events if isinstance(e, ItemStarted) and e.item.get("type") == "commandExecution"]
    assert "echo released" in start["command"] and start["status"] == "inProgress", start
    assert events[-1] == TurnEnded(status="completed")


async def test_a_thread_resumes_in_a_new_process_with_the_earlier_turn(
    codex_bin: Path, tmp_path: Path, codex_env: dict[str, str], standin: StandIn
) -> None:
    standin.script(Reply(text="First answer."), Reply(text="Second answer."))
    opts = options(codex_bin, tmp_path, codex_env)
    server = await CodexAppServer.start(opts)
    try:
        thread_id = (await server.open_thread(None)).threadId
        await collect(server, "first question")
    finally:
        await server.close()
    server = await CodexAppServer.start(opts)
    try:
        ready = await server.open_thread(thread_id)
        events = await collect(server, "second question")
    finally:
        await server.close()
    assert ready == ready.model_copy(update={"threadId": thread_id, "resumed": True})
    assert events[-1] == TurnEnded(status="completed")
    assert standin.user_texts(1)[-2:] == ["first question", "second question"]
    assert standin.assistant_texts(1) == ["First answer."]


async def test_resuming_an_unknown_thread_says_so(codex_bin: Path, tmp_path: Path, codex_env: dict[str, str]) -> None:
    server = await CodexAppServer.start(options(codex_bin, tmp_path, codex_env))
    try:
        with pytest.raises(ThreadNotFound):
            await server.open_thread("019a0000-0000-7000-8000-000000000000")
        assert not (await server.open_thread(None)).resumed  # the same process can start a new one
    finally:
        await server.close()


async def test_a_failed_response_ends_the_turn_as_failed(
    codex_bin: Path, tmp_path: Path, codex_env: dict[str, str], standin: StandIn
) -> None:
    standin.script(Reply(fail="the model is overloaded"))
    server = await CodexAppServer.start(options(codex_bin, tmp_path, codex_env))
    try:
        await server.open_thread(None)
        events = await collect(server, "hello")
    finally:
        await server.close()
    end = events[-1]
    assert isinstance(end, TurnEnded) and end.status == "failed"
    assert end.error is not None and "the model is overloaded" in end.error


async def test_an_interrupt_stops_a_streaming_turn(
    codex_bin: Path, tmp_path: Path, codex_env: dict[str, str], standin: StandIn
) -> None:
    gate = threading.Event()
    standin.script(Reply(text="partial text then much more", deltas=4, gate=gate, gate_after=1))
    server = await CodexAppServer.start(options(codex_bin, tmp_path, codex_env))
    events: list[CodexEvent] = []
    try:
        await server.open_thread(None)
        async for event in server.run_turn("talk"):
            events.append(event)
            if isinstance(event, TextDelta):
                await server.interrupt()
    finally:
        gate.set()
        await server.close()
    assert [e.delta for e in events if isinstance(e, TextDelta)] == ["partial"]
    assert isinstance(events[-1], TurnEnded) and events[-1].status == "interrupted"


async def test_a_missing_binary_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CodexError, match="JANGAR_CODEX_BIN"):
        await CodexAppServer.start(CodexOptions(binary=[str(tmp_path / "no-codex")], cwd=tmp_path))


async def test_model_server_down_fails_the_turn_quickly(
    codex_bin: Path, tmp_path: Path, codex_env: dict[str, str], standin: StandIn
) -> None:
    server = await CodexAppServer.start(options(codex_bin, tmp_path, codex_env))
    try:
        await server.open_thread(None)
        standin.close()
        loop = asyncio.get_running_loop()
        started = loop.time()
        events = await asyncio.wait_for(collect(server, "anyone there?"), 30)
        elapsed = loop.time() - started
    finally:
        await server.close()
    end = events[-1]
    assert isinstance(end, TurnEnded) and end.status == "failed" and end.error
    print(f"server down -> turn failed in {elapsed:.3f} s")
