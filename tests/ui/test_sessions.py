"""Pilot tests of the session sidebar: order, relative times, new, filter, rename, delete, undo."""

from __future__ import annotations

import pytest
from textual.message import Message
from ui_support import DAY, MINUTE, FakeTime, notified, screen_text, until

from jangar_tui.models import Role, WorkOrderStatus
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore
from jangar_tui.ui.app import JangarApp
from jangar_tui.ui.screens.confirm import ConfirmScreen
from jangar_tui.ui.screens.main import MainScreen
from jangar_tui.ui.screens.rename import RenameScreen
from jangar_tui.ui.widgets.chat.composer import ComposerInput
from jangar_tui.ui.widgets.sessions.session_list import SessionList


def titles(app: JangarApp) -> list[str]:
    return [s.title for s in app.screen.query_one(SessionList).shown]


async def test_sessions_are_listed_newest_activity_first_with_relative_times(
    service: JangarService, fake_time: FakeTime
) -> None:
    base = fake_time.now
    old = await service.new_session("Old one")
    fake_time.set(base + 2 * DAY)
    await service.new_session("Middle")
    fake_time.set(base + 3 * DAY)
    await service.send_message(old.id, "bump")  # activity moves it to the top
    app = JangarApp(service, clock=lambda: base + 3 * DAY + 3 * MINUTE)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: len(titles(app)) == 2, "two sessions listed")
        assert titles(app) == ["Old one", "Middle"]
        text = screen_text(pilot)
        assert "Old one" in text and "3m" in text and "1d" in text
        assert "Sessions (2)" in text


async def test_on_start_the_newest_session_is_the_first_one_chosen(service: JangarService, store: LocalStore) -> None:
    """No "no session" in between: it flashed "No session yet" and delayed the newest session's opening
    (two choices in a burst wait for the second to settle)."""
    older = await service.new_session("Older")
    newest = await service.new_session("Newest")
    await store.append_message(newest.id, Role.USER, "hello")
    seen: dict[int, SessionList.SessionChosen] = {}  # the hook sees a message at every widget it bubbles to

    def hook(message: Message) -> None:
        if isinstance(message, SessionList.SessionChosen):
            seen.setdefault(id(message), message)

    app = JangarApp(service)
    async with app.run_test(size=(120, 30), message_hook=hook) as pilot:
        await until(pilot, lambda: "hello" in screen_text(pilot), "the newest session's message")
        chosen = [m.session.title if m.session else None for m in seen.values()]
        assert chosen == ["Newest"]
        # A new snapshot that reorders the list keeps the choice, and says nothing about it.
        await store.append_message(older.id, Role.USER, "bump")
        await until(pilot, lambda: titles(app) == ["Older", "Newest"], "the list reordered")
        await pilot.pause()
        chosen_now = app.screen.query_one(SessionList).chosen
        assert chosen_now is not None and chosen_now.id == newest.id
        assert [m.session.title if m.session else None for m in seen.values()] == ["Newest"]


async def test_new_session_is_created_selected_and_named_by_its_first_message(service: JangarService) -> None:
    app = JangarApp(service)
    async with app.run_test() as pilot:
        await until(pilot, lambda: app.screen.query_one(SessionList).loaded, "list loaded")
        await pilot.press("ctrl+n")
        await until(pilot, lambda: titles(app) == ["New session"], "new session listed")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await until(pilot, lambda: screen.session is not None, "new session chosen")
        assert isinstance(app.focused, ComposerInput)
        await pilot.press(*"Fix the login bug")
        await pilot.press("enter")
        await until(pilot, lambda: titles(app) == ["Fix the login bug"], "renamed by its first message")
        page = await service.list_sessions()
        assert [s.title for s in page.page] == ["Fix the login bug"]


async def test_typing_without_any_session_starts_one(service: JangarService) -> None:
    app = JangarApp(service)
    async with app.run_test() as pilot:
        await until(pilot, lambda: app.screen.query_one(SessionList).loaded, "list loaded")
        assert "No sessions yet" in screen_text(pilot)
        app.screen.query_one(ComposerInput).focus()
        await pilot.press(*"hello there")
        await pilot.press("enter")
        await until(pilot, lambda: titles(app) == ["hello there"], "session created from the message")
        session = (await service.list_sessions()).page[0]
        messages = (await service.store.list_messages(session.id)).page
        assert [m.content for m in messages] == ["hello there"]


async def test_filter_narrows_the_list_and_escape_clears_it(service: JangarService) -> None:
    for title in ("Deploy pipeline", "Fix login", "Deploy docs"):
        await service.new_session(title)
    app = JangarApp(service)
    async with app.run_test() as pilot:
        await until(pilot, lambda: len(titles(app)) == 3, "three sessions")
        await pilot.press("slash")
        await pilot.press(*"deploy")
        await until(pilot, lambda: titles(app) == ["Deploy docs", "Deploy pipeline"], "filtered")
        assert "Sessions (2/3)" in screen_text(pilot)
        await pilot.press("escape")
        await until(pilot, lambda: len(titles(app)) == 3, "filter cleared")
        assert isinstance(app.focused, SessionList)
        assert "filter titles…" not in screen_text(pilot)
        await pilot.press("slash")  # the same input again, empty
        await until(pilot, lambda: "filter titles…" in screen_text(pilot), "the filter input shown again")
        await pilot.press(*"fix")
        await until(pilot, lambda: titles(app) == ["Fix login"], "filtered again")


async def test_rename_validates_inline_and_saves(service: JangarService) -> None:
    session = await service.new_session("Draft title")
    app = JangarApp(service)
    async with app.run_test() as pilot:
        await until(pilot, lambda: titles(app) == ["Draft title"], "listed")
        app.screen.query_one(SessionList).focus()
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, RenameScreen), "rename dialog")
        await pilot.press("ctrl+u")  # clear the field (select-all on focus; ctrl+u deletes to start)
        app.screen.query_one("#title").value = "   "
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RenameScreen), "an empty title must not be accepted"
        assert "The title cannot be empty." in screen_text(pilot)
        app.screen.query_one("#title").value = "x" * 201
        await pilot.pause()
        assert "The title is longer than 200 characters." in screen_text(pilot)
        app.screen.query_one("#title").value = "Release checklist"
        await pilot.press("enter")
        await until(pilot, lambda: titles(app) == ["Release checklist"], "renamed in the list")
        stored = await service.store.get_session(session.id)
        assert stored is not None and stored.title == "Release checklist"


async def test_delete_asks_first_and_undo_restores(service: JangarService) -> None:
    await service.new_session("Keep me")
    doomed = await service.new_session("Delete me")
    app = JangarApp(service)
    async with app.run_test() as pilot:
        await until(pilot, lambda: titles(app) == ["Delete me", "Keep me"], "listed")
        app.screen.query_one(SessionList).focus()
        await pilot.press("delete")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "confirmation")
        await pilot.press("n")
        await pilot.pause()
        assert titles(app) == ["Delete me", "Keep me"], "declining deletes nothing"
        await pilot.press("delete")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "confirmation again")
        await pilot.press("ctrl+y")
        await until(pilot, lambda: titles(app) == ["Keep me"], "deleted")
        assert await service.store.get_session(doomed.id) is None
        await pilot.press("ctrl+u")
        await until(pilot, lambda: titles(app) == ["Delete me", "Keep me"], "restored")
        assert await service.store.get_session(doomed.id) is not None
        assert app.screen.query_one(SessionList).chosen.id == doomed.id


async def test_delete_refused_while_a_work_order_runs_shows_why(service: JangarService, store: LocalStore) -> None:
    session = await service.new_session("Busy")
    work_order = await service.create_work_order(session.id, title="Long job", prompt="go")
    await store.update_work_order_status(work_order.id, WorkOrderStatus.SUBMITTED)
    app = JangarApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: titles(app) == ["Busy"], "listed")
        app.screen.query_one(SessionList).focus()
        await pilot.press("delete")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "confirmation")
        await pilot.press("ctrl+y")
        await until(pilot, lambda: "Not deleted" in notified(pilot), "the refusal is shown")
        assert titles(app) == ["Busy"]
        assert await service.store.get_session(session.id) is not None


async def test_a_thousand_sessions_stay_in_one_virtualized_list(service: JangarService, store: LocalStore) -> None:
    for index in range(1000):
        await store.create_session("alice", f"Session {index:04d}")
    app = JangarApp(service)
    async with app.run_test() as pilot:
        listing = app.screen.query_one(SessionList)
        await until(pilot, lambda: listing.option_count == 500, "the watched sessions listed")
        # One widget for all rows: an OptionList renders only visible lines.
        assert len(listing.children) == 0
        listing.focus()
        await pilot.press("end")
        assert listing.chosen is not None and listing.chosen.title == "Session 0500"


async def test_older_sessions_load_as_the_list_nears_its_end_and_a_filter_searches_them_all(
    service: JangarService, fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jangar_tui.ui.screens import main as main_screen
    from jangar_tui.ui.widgets.sessions import session_list

    monkeypatch.setattr(main_screen, "SESSION_PAGE", 10)
    monkeypatch.setattr(session_list, "MORE_WITHIN_ROWS", 3)
    for index in range(30):
        fake_time.set(fake_time.now + MINUTE)
        await service.new_session(f"Session {index:02d}")
    app = JangarApp(service)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: len(titles(app)) == 10, "the first page")
        assert titles(app)[0] == "Session 29"
        assert "Sessions (10+)" in screen_text(pilot), "the count says more exist"
        app.screen.query_one(SessionList).focus()
        await pilot.press(*["down"] * 7)  # within 3 rows of the end: the next page comes
        await until(pilot, lambda: len(titles(app)) == 20, "the second page")
        assert app.screen.query_one(SessionList).chosen.title == "Session 22", "the highlight stayed put"
        assert "Sessions (20+)" in screen_text(pilot)
        await pilot.press("slash", *"session", "space", *"00")  # the oldest, not loaded: a filter asks for all
        await until(pilot, lambda: titles(app) == ["Session 00"], "found among all sessions")
        assert "Sessions (1/30)" in screen_text(pilot)
