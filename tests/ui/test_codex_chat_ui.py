"""The chat answered by the real Codex CLI, in the UI: Enter → the reply streams into the
transcript (partial text on screen before the turn completes) → settles; what the agent ran,
expanded on the selected reply; tokens in the header; ctrl+r stops a reply; a failure note."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from codex_standin import Reply, StandIn, chunks
from temporal_fixtures import make_settings, running_worker
from ui_support import screen_text, until

from jangar_tui.models import Role
from jangar_tui.orchestration.devserver import DevServer
from jangar_tui.orchestration.launcher import TemporalLauncher
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore
from jangar_tui.ui.app import JangarApp
from jangar_tui.ui.widgets.chat.composer import ComposerInput
from jangar_tui.ui.widgets.chat.transcript import Transcript

pytestmark = pytest.mark.temporal
SLOW = {"polls": 600, "every_s": 0.05}  # a turn runs a workflow and a codex process: real time


async def test_a_reply_streams_into_the_transcript_and_settles(
    temporal_server: DevServer,
    tmp_path: Path,
    standin: StandIn,
    codex_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    gate = threading.Event()
    answer = "Streamed: **first** part, then the end."
    standin.script(
        Reply(tool_command="echo listing-files; exit 0"),
        Reply(text=answer, deltas=8, gate=gate, gate_after=3, output_tokens=21),
    )
    settings = make_settings(tmp_path, temporal_server.address, "true")
    store = LocalStore(settings)
    try:
        service = JangarService(store, settings.user, TemporalLauncher(settings, store))
        await service.new_session("Codex")
        async with running_worker(settings, store):
            app = JangarApp(service)
            async with app.run_test(size=(120, 36)) as pilot:
                await until(pilot, lambda: app.screen.query_one(Transcript).messages == [], "the empty session")
                app.screen.query_one(ComposerInput).focus()
                await pilot.press(*"what is here?", "enter")
                partial = "".join(chunks(answer, 8)[:3])
                await until(pilot, lambda: partial.strip() in screen_text(pilot), "the partial reply", **SLOW)
                text = screen_text(pilot)
                assert "writing…" in text and "the end." not in text
                assert "ran 1 command (exit 0)" in text
                gate.set()
                await until(pilot, lambda: "the end." in screen_text(pilot), "the full reply", **SLOW)
                await until(pilot, lambda: "writing…" not in screen_text(pilot), "the reply settled", **SLOW)
                text = screen_text(pilot)
                assert "**first**" not in text and "first part" in text  # Markdown once settled
                # The turn's tokens in its header: two model calls (the tool call, then the answer).
                assert "200↑ 31↓ tok" in text
                # The session's total in the chat's title row too, beside the session's title.
                title_row = next(line for line in text.splitlines() if "session 231 tok" in line and "◆" not in line)
                assert "Codex" in title_row
                # Selecting the reply expands what the agent ran, with its output.
                app.screen.query_one(Transcript).focus()
                await pilot.press("up")
                await until(pilot, lambda: "$ /bin/bash -lc" in screen_text(pilot), "the command expanded")
                assert "listing-files" in screen_text(pilot) and "→ exit 0" in screen_text(pilot)
    finally:
        await store.close()


async def test_a_pending_line_shows_until_the_reply_starts_and_a_message_sent_meanwhile_is_queued(
    temporal_server: DevServer,
    tmp_path: Path,
    standin: StandIn,
    codex_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    first_gate, second_gate = threading.Event(), threading.Event()
    # Each reply is held before its first word: the time between Enter and the first token.
    standin.script(
        Reply(text="The first answer.", deltas=2, gate=first_gate, gate_after=0),
        Reply(text="The second answer.", deltas=2, gate=second_gate, gate_after=0),
    )
    settings = make_settings(tmp_path, temporal_server.address, "true")
    store = LocalStore(settings)
    try:
        service = JangarService(store, settings.user, TemporalLauncher(settings, store))
        await service.new_session("Waiting")
        async with running_worker(settings, store):
            app = JangarApp(service)
            async with app.run_test(size=(120, 36)) as pilot:
                transcript = app.screen.query_one(Transcript)
                await until(pilot, lambda: transcript.messages == [], "the empty session")
                app.screen.query_one(ComposerInput).focus()
                await pilot.press(*"first question", "enter")
                await until(pilot, lambda: "◆ assistant  thinking… " in screen_text(pilot), "the pending line")
                assert "queued" not in screen_text(pilot)

                composer = app.screen.query_one(ComposerInput)
                await until(pilot, lambda: composer.text == "", "the first message sent", **SLOW)
                await pilot.press(*"second question", "enter")
                await until(pilot, lambda: "queued" in screen_text(pilot), "the second message queued")
                lines = screen_text(pilot).splitlines()
                queued = next(line for line in lines if "queued" in line)
                assert "▌you" in queued, "the queued mark is in the second message's header"
                assert transcript.waiting.thinking is not None
                assert transcript.waiting.thinking.content == "first question"
                assert "thinking…" in screen_text(pilot), "the first is still being thought about"

                first_gate.set()
                await until(pilot, lambda: "The first answer." in screen_text(pilot), "the first reply", **SLOW)
                # The second message's turn starts: no longer queued, its reply pending.
                await until(pilot, lambda: "queued" not in screen_text(pilot), "the queued mark gone", **SLOW)
                await until(pilot, lambda: "thinking…" in screen_text(pilot), "the second pending line", **SLOW)
                assert transcript.waiting.thinking is not None
                assert transcript.waiting.thinking.content == "second question"

                second_gate.set()
                await until(pilot, lambda: "The second answer." in screen_text(pilot), "the second reply", **SLOW)
                await until(pilot, lambda: "thinking…" not in screen_text(pilot), "nothing pending", **SLOW)
                assert "queued" not in screen_text(pilot)
    finally:
        first_gate.set()
        second_gate.set()
        await store.close()


async def test_ctrl_r_stops_a_streaming_reply_and_keeps_its_text(
    temporal_server: DevServer,
    tmp_path: Path,
    standin: StandIn,
    codex_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    gate = threading.Event()
    answer = "alpha beta gamma delta epsilon zeta"
    standin.script(Reply(text=answer, deltas=6, gate=gate, gate_after=2))
    settings = make_settings(tmp_path, temporal_server.address, "true")
    store = LocalStore(settings)
    try:
        service = JangarService(store, settings.user, TemporalLauncher(settings, store))
        session = await service.new_session("Stop it")
        async with running_worker(settings, store):
            app = JangarApp(service)
            async with app.run_test(size=(120, 36)) as pilot:
                await until(pilot, lambda: app.screen.query_one(Transcript).messages == [], "the empty session")
                app.screen.query_one(ComposerInput).focus()
                await pilot.press(*"go on", "enter")
                partial = "".join(chunks(answer, 6)[:2])
                await until(pilot, lambda: partial.strip() in screen_text(pilot), "the partial reply", **SLOW)
                await pilot.press("ctrl+r")
                await until(pilot, lambda: "interrupted" in screen_text(pilot), "marked interrupted", **SLOW)
        replies = [m for m in (await store.list_messages(session.id)).page if m.role == Role.ASSISTANT]
        assert [m.content for m in replies] == [partial]
        assert replies[0].metadata["status"] == "interrupted"
    finally:
        gate.set()
        await store.close()


async def test_model_server_down_shows_what_to_set(
    temporal_server: DevServer,
    tmp_path: Path,
    standin: StandIn,
    codex_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    standin.close()
    settings = make_settings(tmp_path, temporal_server.address, "true")
    store = LocalStore(settings)
    try:
        service = JangarService(store, settings.user, TemporalLauncher(settings, store))
        await service.new_session("Down")
        async with running_worker(settings, store):
            app = JangarApp(service)
            async with app.run_test(size=(120, 36)) as pilot:
                await until(pilot, lambda: app.screen.query_one(Transcript).messages == [], "the empty session")
                app.screen.query_one(ComposerInput).focus()
                await pilot.press(*"hello?", "enter")
                await until(pilot, lambda: "Codex could not answer" in screen_text(pilot), "the failure", **SLOW)
                assert "base_url" in screen_text(pilot)
    finally:
        await store.close()


async def test_what_an_agent_ran_is_shown_as_text_never_obeyed(service: JangarService, store: LocalStore) -> None:
    session = await service.new_session("Hostile")
    hostile = "\x1b]52;c;ZXZpbA==\x07\x1b[2J[bold]x[/bold]"
    metadata = {
        "kind": "chatReply",
        "replyTo": "msg_x",
        "status": "completed",
        "agent": "codex",
        "commands": [{"command": f"echo {hostile}", "exitCode": 1, "status": "failed", "output": hostile}],
        "files": [{"path": f"/tmp/{hostile}", "kind": "add"}],
        "reasoning": hostile,
    }
    await store.append_message(session.id, Role.ASSISTANT, "done", metadata)
    app = JangarApp(service)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: "ran 1 command (exit 1)" in screen_text(pilot), "the activity line")
        app.screen.query_one(Transcript).focus()
        await pilot.press("up")
        await until(pilot, lambda: "reasoning:" in screen_text(pilot), "the activity expanded")
        text = screen_text(pilot)
        assert "\x1b" not in text and "\x07" not in text
        assert "␛]52;c;ZXZpbA==␇␛[2J[bold]x[/bold]" in text  # visible, markup left as typed


@pytest.mark.parametrize("width", [80, 120, 200])
async def test_a_narrow_reply_header_drops_the_session_total_whole_never_cuts_it(tmp_path: Path, width: int) -> None:
    # At 120 columns the panel left the chat ~50 columns: "session 110 tok" was cut to "session 1".
    store = LocalStore(tmp_path / "jangar.sqlite3")
    try:
        service = JangarService(store, "tester")
        session = await service.new_session("Tokens")
        asked = await service.send_message(session.id, "count")
        usage = {
            "turn": {"inputTokens": 123456, "outputTokens": 7890, "totalTokens": 131346},
            "thread": {"inputTokens": 123456, "outputTokens": 7890, "totalTokens": 131346},
            "session": {"inputTokens": 987654, "outputTokens": 12345, "totalTokens": 999999},
        }
        meta = {"kind": "chatReply", "replyTo": asked.id, "status": "interrupted", "agent": "codex", "usage": usage}
        await store.append_message(session.id, Role.ASSISTANT, "An answer.", meta)
        app = JangarApp(service)
        async with app.run_test(size=(width, 30)) as pilot:
            await until(pilot, lambda: "An answer." in screen_text(pilot), "the reply")
            header = next(line for line in screen_text(pilot).splitlines() if "assistant" in line)
            note = header.split("◆ assistant  now", 1)[1].split("▏", 1)[0].strip()
            parts = ["interrupted", "123.5k↑ 7.9k↓ tok", "session 1000.0k tok"]
            whole = [" · ".join(parts[:count]) for count in range(1, len(parts) + 1)]
            assert note in whole, f"a part was cut: {note!r}"
            if width == 200:
                assert note == whole[-1], "room for all of it"
    finally:
        await store.close()
