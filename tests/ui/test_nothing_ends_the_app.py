"""Nothing from data, a watch or keys typed ahead ends the app: a refused watch on the detail
screen is reported and the screen stays; a message that cannot be drawn shows as unreadable among
the others; a screen closed before it is mounted is simply gone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from rich.console import RenderableType
from textual.screen import Screen
from textual.widget import Widget
from ui_support import notified, screen_text, until

from jangar_tui.models import ChatMessage, ErrorCode, JangarError, WorkOrder, WorkOrderStatus
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore
from jangar_tui.ui.app import JangarApp
from jangar_tui.ui.screens.main import MainScreen
from jangar_tui.ui.screens.work_order_detail import WorkOrderDetailScreen
from jangar_tui.ui.widgets.chat import transcript as transcript_module
from jangar_tui.ui.widgets.chat.composer import ComposerInput
from jangar_tui.ui.widgets.chat.transcript import UNREADABLE, Transcript
from jangar_tui.ui.widgets.sessions.session_list import SessionList
from jangar_tui.ui.widgets.work_orders.work_order_list import WorkOrderList

S = WorkOrderStatus


class RefusingStore(LocalStore):
    """The real store, whose work-order watch is refused once `refuse` is set (as a deployment
    that starts requiring sign-in would refuse it)."""

    refuse = False

    async def watch_work_orders(self, sessionId: str, limit: int = 100) -> AsyncIterator[list[WorkOrder]]:  # type: ignore[override]
        if self.refuse:
            raise JangarError(ErrorCode.FORBIDDEN, "Sign in again: [/] your token expired.")
        async for snapshot in super().watch_work_orders(sessionId, limit):
            yield snapshot


async def test_a_refused_watch_on_the_detail_is_reported_and_the_app_stays(tmp_path: Path) -> None:
    store = RefusingStore(tmp_path / "jangar.sqlite3")
    try:
        service = JangarService(store, "alice")
        session = await service.new_session("Watched")
        await service.create_work_order(session.id, title="Refused later", prompt="p")
        app = JangarApp(service)
        async with app.run_test(size=(120, 30)) as pilot:
            await until(pilot, lambda: len(app.screen.query_one(WorkOrderList).work_orders) == 1, "listed")
            store.refuse = True
            app.screen.query_one(WorkOrderList).focus()
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, WorkOrderDetailScreen), "the detail")
            await until(pilot, lambda: "Live updates of the work order interrupted" in notified(pilot), "reported")
            assert "[/] your token expired" in notified(pilot), "the reason, as written"
            assert app.is_running and isinstance(app.screen, WorkOrderDetailScreen)
            assert "Refused later" in screen_text(pilot)
    finally:
        await store.close()


async def test_a_message_that_cannot_be_drawn_shows_as_unreadable(
    service: JangarService, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = await service.new_session("Partly readable")
    await service.send_message(session.id, "fine before")
    await service.send_message(session.id, "cannot be drawn")
    await service.send_message(session.id, "fine after")
    renderable = Transcript._renderable

    def failing(message: ChatMessage) -> RenderableType:
        if message.content == "cannot be drawn":
            raise ValueError("a renderer bug")
        return renderable(message)

    monkeypatch.setattr(transcript_module.Transcript, "_renderable", staticmethod(failing))
    app = JangarApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: "fine after" in screen_text(pilot), "the messages")
        text = screen_text(pilot)
        assert "fine before" in text and UNREADABLE in text
        assert app.is_running


# What opens each screen: the pane that has the keys, and the key.
OPENED_BY_KEYS: dict[str, tuple[type[Widget], str]] = {
    "help": (ComposerInput, "f1"),
    "search": (ComposerInput, "ctrl+f"),
    "board": (ComposerInput, "ctrl+g"),
    "new work order": (ComposerInput, "ctrl+o"),
    "delete question": (SessionList, "delete"),
    "detail": (WorkOrderList, "enter"),
    "follow-up note": (WorkOrderList, "u"),
}


@pytest.mark.parametrize("opened", list(OPENED_BY_KEYS))
async def test_a_screen_answered_before_it_is_mounted_leaves_the_app_running(
    service: JangarService, store: LocalStore, monkeypatch: pytest.MonkeyPatch, opened: str
) -> None:
    # A key typed right behind the one that opened a screen (a burst over ssh, a busy machine)
    # can close it before its Mount is handled, when its widgets may already be gone. Here every
    # screen the app pushes is closed in the same tick, as that key would close it.
    session = await service.new_session("Typed ahead")
    order = await service.create_work_order(session.id, title="Ended", prompt="p")
    for status in (S.SUBMITTED, S.FAILED):  # ended: it can be followed up
        await store.update_work_order_status(order.id, status)
    app = JangarApp(service)
    pushed: list[Screen[object]] = []
    push_screen = app.push_screen

    def push_then_close(screen: Screen[object], *args: object, **kwargs: object) -> object:
        result = push_screen(screen, *args, **kwargs)  # type: ignore[call-overload]
        if isinstance(screen, Screen):
            pushed.append(screen)
            screen.dismiss(None)
        return result

    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.session is not None, "main")
        await until(pilot, lambda: len(app.screen.query_one(WorkOrderList).work_orders) == 1, "listed")
        pane, key = OPENED_BY_KEYS[opened]
        app.screen.query_one(pane).focus()
        monkeypatch.setattr(app, "push_screen", push_then_close)
        await pilot.press(key)
        await until(pilot, lambda: len(pushed) == 1, f"the {opened} opened")
        await pilot.pause(0.2)
        assert app.is_running and app.return_code is None, "the app is still running"
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "back on the main screen")
        assert pushed[0] not in app.screen_stack
