"""Pilot tests of the chat: sending, multi-line input, failures, roles, Markdown, paging, copy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Self

import pytest
from ui_doubles import OFFLINE_REASON, ChattingLauncher, FlakyStore
from ui_support import notified, screen_text, until

from jangar_tui.models import ChatMessage, Role
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore
from jangar_tui.ui import app as app_module
from jangar_tui.ui.app import JangarApp
from jangar_tui.ui.screens.main import MESSAGE_PAGE, MainScreen
from jangar_tui.ui.widgets.chat.composer import ComposerInput
from jangar_tui.ui.widgets.chat.transcript import Transcript


def transcript(app: JangarApp) -> Transcript:
    return app.screen.query_one(Transcript)


async def open_session(pilot, app: JangarApp, count: int) -> None:  # type: ignore[no-untyped-def]
    await until(pilot, lambda: len(transcript(app).messages) == count, f"{count} messages shown")


async def test_enter_sends_and_ctrl_j_breaks_the_line(service: JangarService) -> None:
    session = await service.new_session("Chat")
    app = JangarApp(service)
    async with app.run_test() as pilot:
        await open_session(pilot, app, 0)
        app.screen.query_one(ComposerInput).focus()
        await pilot.press(*"first line", "ctrl+j", *"second line")
        assert app.screen.query_one(ComposerInput).text == "first line\nsecond line"
        await pilot.press("enter")
        await open_session(pilot, app, 1)
        assert app.screen.query_one(ComposerInput).text == ""
        stored = (await service.store.list_messages(session.id)).page
        assert [(m.role, m.content) for m in stored] == [(Role.USER, "first line\nsecond line")]


async def test_a_message_that_cannot_be_sent_stays_in_the_input_with_the_reason(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path / "jangar.sqlite3")
    try:
        service = JangarService(store, "alice")
        session = await service.new_session("Over ssh")
        store.offline = True
        app = JangarApp(service)
        async with app.run_test() as pilot:
            await open_session(pilot, app, 0)
            app.screen.query_one(ComposerInput).focus()
            await pilot.press(*"please keep me")
            await pilot.press("enter")
            await until(pilot, lambda: "Not sent" in screen_text(pilot), "the error under the input")
            assert OFFLINE_REASON[:30] in screen_text(pilot)
            assert app.screen.query_one(ComposerInput).text == "please keep me"
            assert (await store.list_messages(session.id)).page == []
            # Back online: the same text goes out and the error disappears.
            store.offline = False
            await pilot.press("enter")
            await open_session(pilot, app, 1)
            assert app.screen.query_one(ComposerInput).text == ""
            assert "Not sent" not in screen_text(pilot)
    finally:
        await store.close()


async def test_roles_are_labelled_and_assistant_markdown_is_rendered(service: JangarService, store: LocalStore) -> None:
    session = await service.new_session("Roles")
    await store.append_message(session.id, Role.USER, "use **stars** literally")
    await store.append_message(session.id, Role.ASSISTANT, "Here is **bold** and a list:\n\n- one\n- two")
    await store.append_message(session.id, Role.SYSTEM, "work order launched")
    app = JangarApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_session(pilot, app, 3)
        text = screen_text(pilot)
        assert "▌you" in text and "◆ assistant" in text and "! system" in text
        assert "use **stars** literally" in text  # user text is shown as typed
        assert "Here is bold and a list:" in text  # assistant Markdown is rendered
        assert "• one" in text


async def test_live_messages_from_another_process_appear(service: JangarService, tmp_path: Path) -> None:
    session = await service.new_session("Live")
    app = JangarApp(service)
    async with app.run_test() as pilot:
        await open_session(pilot, app, 0)
        other = LocalStore(tmp_path / "jangar.sqlite3")  # a second connection, like a worker process
        try:
            await other.append_message(session.id, Role.ASSISTANT, "done: opened a PR")
        finally:
            await other.close()
        await open_session(pilot, app, 1)
        assert "done: opened a PR" in screen_text(pilot)


async def test_older_history_is_loaded_page_by_page_when_scrolling_up(
    service: JangarService, store: LocalStore
) -> None:
    session = await service.new_session("Long")
    for index in range(MESSAGE_PAGE * 2 + 10):
        await store.append_message(session.id, Role.USER, f"message {index:03d}")
    app = JangarApp(service)
    async with app.run_test() as pilot:
        await open_session(pilot, app, MESSAGE_PAGE)
        view = transcript(app)
        assert view.messages[-1].content == "message 109" and view.has_more
        view.focus()
        await pilot.press("home")  # to the oldest loaded message: asks for the page before it
        await open_session(pilot, app, MESSAGE_PAGE * 2)
        # The view stays on the message the reader was looking at.
        assert view.selected_message is not None and view.selected_message.content == "message 060"
        await pilot.press("home")
        await open_session(pilot, app, MESSAGE_PAGE * 2 + 10)
        assert not view.has_more
        assert view.messages[0].content == "message 000"


def transcript_text(pilot, view: Transcript) -> str:  # type: ignore[no-untyped-def]
    """The transcript's text as a person reads it: its rows left of the scrollbar, joined."""
    region, width = view.content_region, view.scrollable_content_region.width
    rows = screen_text(pilot).splitlines()[region.y : region.y + region.height]
    return "".join(row[region.x : region.x + width].strip() for row in rows)


async def test_a_message_is_wrapped_again_when_the_scrollbar_appears(service: JangarService, store: LocalStore) -> None:
    """The message that makes the transcript scroll brings the scrollbar, one column narrower than
    the text was wrapped for: without wrapping again, each line's last character was under it."""
    session = await service.new_session("Wrap")
    app = JangarApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_session(pilot, app, 0)
        view = transcript(app)
        count = 0
        while not view.show_vertical_scrollbar:
            assert count < 10, "the transcript never scrolled"
            count += 1
            # An unbroken run folds at exactly the width: a hidden column loses characters.
            await store.append_message(session.id, Role.USER, f"{count}:" + "".join(f"{i:03d}-" for i in range(40)))
            await open_session(pilot, app, count)
            await pilot.pause()
        await until(
            pilot, lambda: view.messages[-1].content in transcript_text(pilot, view), "the newest message whole"
        )


async def test_copy_the_selected_message(service: JangarService, store: LocalStore) -> None:
    session = await service.new_session("Copy")
    await store.append_message(session.id, Role.ASSISTANT, "the answer is 42")
    app = JangarApp(service)
    async with app.run_test() as pilot:
        await open_session(pilot, app, 1)
        transcript(app).focus()
        await pilot.press("y")
        assert "Select a message first" in notified(pilot)
        await pilot.press("up", "y")
        assert app.clipboard == "the answer is 42"
        assert isinstance(app.screen, MainScreen)


async def test_on_an_empty_store_typing_goes_to_the_input_and_enter_starts_a_session(
    service: JangarService,
) -> None:
    app = JangarApp(service)
    async with app.run_test() as pilot:
        await until(pilot, lambda: isinstance(app.focused, ComposerInput), "the input focused")
        # "d", "n" and "/" are single-key actions in the session list: none may fire here.
        await pilot.press(*"deploy now / today", "enter")
        await until(pilot, lambda: len(transcript(app).messages) == 1, "the first message shown")
        sessions = (await service.list_sessions()).page
        assert len(sessions) == 1
        stored = (await service.store.list_messages(sessions[0].id)).page
        assert [m.content for m in stored] == ["deploy now / today"]


class _RecordingRuntime:
    """A runtime that notes what the screen showed when the app started it."""

    launcher = None  # no Temporal: the status line keeps its note

    def __init__(self) -> None:
        self.messages_shown_at_start: int | None = None
        self.app: JangarApp | None = None

    async def __aenter__(self) -> Self:
        assert self.app is not None
        self.messages_shown_at_start = len(self.app.screen.query_one(Transcript).messages)
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class _SlowMessages(LocalStore):
    """The messages' first snapshot comes a moment after the sessions' (as from a busy backend)."""

    async def watch_messages(self, sessionId: str, limit: int = 50) -> AsyncIterator[list[ChatMessage]]:
        await asyncio.sleep(0.3)
        async for snapshot in super().watch_messages(sessionId, limit):
            yield snapshot


async def test_the_runtime_starts_after_the_newest_sessions_messages_are_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Starting Temporal takes the CPU for a while: it waits for the first screenful, list and chat.
    The fallback (STARTUP_DONE_AFTER_S, for a backend slow to answer) is pushed out of reach, so
    that on a loaded machine the runtime can only have been started by the screenful itself."""
    monkeypatch.setattr(app_module, "STARTUP_DONE_AFTER_S", 60.0)
    store = _SlowMessages(tmp_path / "jangar.sqlite3")
    try:
        service = JangarService(store, "alice")
        session = await service.new_session("Chat")
        for n in range(3):
            await store.append_message(session.id, Role.USER, f"message {n}")
        runtime = _RecordingRuntime()
        app = JangarApp(service, runtime)  # type: ignore[arg-type]
        runtime.app = app
        async with app.run_test(size=(120, 30)) as pilot:
            await until(pilot, lambda: runtime.messages_shown_at_start is not None, "the runtime started")
            assert runtime.messages_shown_at_start == 3
    finally:
        await store.close()


@pytest.mark.parametrize(("width", "shown"), [(50, True), (40, False)])
def test_the_chat_title_shows_the_session_tokens_only_beside_the_whole_title(width: int, shown: bool) -> None:
    from rich.console import Console

    from jangar_tui.ui.widgets.chat.reply_view import chat_title

    usage = {"turn": {"totalTokens": 5}, "thread": {"totalTokens": 5}, "session": {"totalTokens": 1234}}
    reply = ChatMessage(
        _id="m",
        sessionId="s",
        role=Role.ASSISTANT,
        content="hi",
        metadata={"kind": "chatReply", "replyTo": "u", "status": "completed", "usage": usage},
        createdAt=1,
        updatedAt=1,
    )
    console = Console(width=width, record=True, color_system=None)
    console.print(chat_title("Dark mode for the dashboard", [reply]))
    text = console.export_text()
    assert "Dark mode for the dashboard" in text, "the title is never cut for the tokens"
    assert ("session 1.2k tok" in text) == shown


async def test_a_long_session_title_is_cut_with_an_ellipsis_in_the_chat_title(service: JangarService) -> None:
    """At 80 columns the chat's title row shows the start of a long title and '…', not the words
    that fit as if the title ended there (it wrapped to a second row the one-row title hides)."""
    await service.new_session("Session number 15 with a rather long title that will not fit the pane")
    app = JangarApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "Session number 15" in screen_text(pilot).splitlines()[1], "the title shown")
        title_row = screen_text(pilot).splitlines()[1]
        assert "…" in title_row.split("▕", 1)[1], title_row


async def test_ctrl_r_with_no_reply_being_written_says_so(store: LocalStore) -> None:
    """ctrl+r stops the reply being written; with none, it said nothing at all (and asked the
    worker to interrupt nothing), so the operator could not tell the key from a dead one."""
    interrupts: list[str] = []

    class Interrupted(ChattingLauncher):
        async def interrupt_chat(self, session_id: str) -> None:
            interrupts.append(session_id)

    service = JangarService(store, "alice", Interrupted(store))
    session = await service.new_session("Quiet")
    asked = await store.append_message(session.id, Role.USER, "hi")
    await store.append_message(session.id, Role.ASSISTANT, "hello", {"kind": "chatReply", "replyTo": asked.id})
    app = JangarApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: len(app.screen.query_one(Transcript).messages) == 2, "the conversation")
        await pilot.press("ctrl+r")
        await until(pilot, lambda: "No reply is being written" in notified(pilot), "said")
        assert interrupts == []
        meta = {"kind": "chatReply", "replyTo": asked.id, "status": "streaming"}
        again = await store.append_message(session.id, Role.USER, "and more")
        await store.append_message(session.id, Role.ASSISTANT, "writ", {**meta, "replyTo": again.id})
        await until(pilot, lambda: len(app.screen.query_one(Transcript).messages) == 4, "the reply being written")
        await pilot.press("ctrl+r")
        await until(pilot, lambda: interrupts == [session.id], "the interrupt asked for")
