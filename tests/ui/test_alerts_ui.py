"""A work order that ends while the app runs: a toast, and the terminal alert's exact bytes."""

from __future__ import annotations

from textual import events
from ui_support import notified, until

from jangar_tui.models import WorkOrderStatus
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore
from jangar_tui.ui.app import JangarApp

S = WorkOrderStatus


async def test_a_work_order_ending_alerts_once_in_the_app_and_on_the_terminal(
    service: JangarService, store: LocalStore
) -> None:
    session = await service.new_session("Ops")
    old = await service.create_work_order(session.id, title="Old", prompt="p")
    await store.update_work_order_status(old.id, S.CANCELED)  # ended before: never announced
    running = await service.create_work_order(session.id, title="Deploy \x1b[2J;now", prompt="p")
    for status in (S.SUBMITTED, S.ACCEPTED, S.RUNNING):
        await store.update_work_order_status(running.id, status)
    app = JangarApp(service, notify="osc777")
    written: list[str] = []
    app.write_to_terminal = written.append  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.alerts.following, "the alert watches")
        await store.update_work_order_status(running.id, S.FAILED)
        await until(pilot, lambda: "failed" in notified(pilot), "the toast")
        assert "“Deploy ␛[2J;now” failed" in notified(pilot)
        assert "Old" not in notified(pilot)
        await until(pilot, lambda: written, "the terminal alert")
        assert written == ["\x1b]777;notify;Jangar;Deploy [2J now failed\a"]
        await pilot.pause(0.2)
        assert len(written) == 1  # once


async def _reply(store: LocalStore, session_id: str, status: str) -> None:
    """A chat turn as the worker writes it: the user's message, the reply growing, then its end."""
    asked = await store.append_message(session_id, "user", "question")
    meta = {"kind": "chatReply", "status": "streaming", "replyTo": asked.id, "agent": "codex"}
    answer = await store.append_message(session_id, "assistant", "par", meta)
    await store.update_message(answer.id, "partial answer", {**meta, "status": status})


async def test_a_reply_that_finishes_elsewhere_alerts_and_one_in_view_does_not(
    service: JangarService, store: LocalStore
) -> None:
    elsewhere = await service.new_session("Elsewhere \x1b[2J")
    shown = await service.new_session("Shown")  # the newest: shown on start
    app = JangarApp(service, notify="bell")
    written: list[str] = []
    app.write_to_terminal = written.append  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.reply_alerts.following and app.looking_at_session(shown.id), "following")
        await _reply(store, shown.id, "completed")  # the operator is looking at it: no alert
        await _reply(store, elsewhere.id, "completed")
        await until(pilot, lambda: "The reply in" in notified(pilot), "the toast")
        assert "The reply in “Elsewhere ␛[2J” is done" in notified(pilot)
        assert "Shown" not in notified(pilot)
        assert written == ["\a"]

        # The terminal loses the focus: a reply in the session on screen is news too.
        app.post_message(events.AppBlur())
        await until(pilot, lambda: not app.app_focus, "blurred")
        await _reply(store, shown.id, "failed")
        await until(pilot, lambda: "“Shown” failed" in notified(pilot), "the failure")
        assert written == ["\a", "\a"]


async def test_a_reply_finishing_while_the_board_is_open_alerts(service: JangarService, store: LocalStore) -> None:
    session = await service.new_session("Only one")
    app = JangarApp(service, notify="osc9")
    written: list[str] = []
    app.write_to_terminal = written.append  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.reply_alerts.following and app.looking_at_session(session.id), "following")
        await pilot.press("ctrl+g")
        await until(pilot, lambda: not app.looking_at_session(session.id), "on the board")
        await _reply(store, session.id, "completed")
        await until(pilot, lambda: written, "the terminal alert")
        assert written == ["\x1b]9;Jangar: Only one: reply finished\a"]
        assert "The reply in “Only one” is done" in notified(pilot)
