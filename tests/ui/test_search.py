"""Search (ctrl+f): results as you type, hostile text shown as text, stale answers dropped, and
enter jumping to the hit (session, message however old, work order's detail)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from pytest import MonkeyPatch
from rich.text import Text
from ui_support import screen_text, until

from jangar_tui.models import SearchKind, SearchResults
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.schema import MIGRATIONS, SEARCH_SCHEMA_VERSION, migrate
from jangar_tui.store.sqlite.store import LocalStore
from jangar_tui.ui.app import JangarApp
from jangar_tui.ui.keymap import apply_overrides
from jangar_tui.ui.screens.board import BoardScreen
from jangar_tui.ui.screens.main import MainScreen
from jangar_tui.ui.screens.search import SearchScreen, hit_text
from jangar_tui.ui.screens.work_order_detail import WorkOrderDetailScreen
from jangar_tui.ui.screens.work_order_form import WorkOrderFormScreen


def search_screen(app: JangarApp) -> SearchScreen:
    screen = app.screen
    assert isinstance(screen, SearchScreen), screen
    return screen


async def _open_search(app: JangarApp, pilot: object) -> None:
    await until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.session is not None, "main")  # type: ignore[arg-type]
    await pilot.press("ctrl+f")  # type: ignore[attr-defined]
    await until(pilot, lambda: isinstance(app.screen, SearchScreen), "the search")  # type: ignore[arg-type]


def hit_kinds(app: JangarApp) -> list[tuple[SearchKind, str | None]]:
    return [(h.kind, h.messageId or h.workOrderId or h.sessionId) for h in search_screen(app).hits]


async def test_results_as_you_type_and_enter_opens_the_session(service: JangarService) -> None:
    infra = await service.new_session("Infra rollout")
    await service.new_session("Lunch")
    app = JangarApp(service)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_search(app, pilot)
        await pilot.press(*"infr")
        await until(pilot, lambda: hit_kinds(app) == [(SearchKind.SESSION, infra.id)], "the session by a prefix")
        assert "Sessions 1" in screen_text(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "back on the main screen")
        main = app.screen
        assert isinstance(main, MainScreen)
        await until(pilot, lambda: main.session is not None and main.session.id == infra.id, "the session chosen")


async def test_a_message_hit_opens_its_session_with_the_message_selected_even_when_old(
    service: JangarService, store: LocalStore
) -> None:
    old = await service.new_session("Archive")
    target = await store.append_message(old.id, "user", "the needle is here")
    for i in range(120):  # beyond the first page of 50 the transcript loads
        await store.append_message(old.id, "assistant", f"filler {i}")
    await service.new_session("Newest")  # the app starts on this one
    app = JangarApp(service)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_search(app, pilot)
        await pilot.press(*"needle")
        await until(pilot, lambda: hit_kinds(app) == [(SearchKind.MESSAGE, target.id)], "the message")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "back on the main screen")
        main = app.screen
        assert isinstance(main, MainScreen)
        await until(
            pilot,
            lambda: main.transcript.selected_message is not None and main.transcript.selected_message.id == target.id,
            "the old message selected",
        )
        assert main.session is not None and main.session.id == old.id
        assert main.transcript.has_focus
        await until(pilot, lambda: "the needle is here" in screen_text(pilot), "scrolled into view")


async def test_a_work_order_hit_opens_its_detail(service: JangarService) -> None:
    session = await service.new_session("Ops")
    order = await service.create_work_order(
        session.id, title="Rotate keys", prompt="rotate the signing keys", target_repo="acme/vault"
    )
    app = JangarApp(service)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_search(app, pilot)
        await pilot.press(*"vault")
        await until(pilot, lambda: hit_kinds(app) == [(SearchKind.WORK_ORDER, order.id)], "the work order by repo")
        # Named by its own title (it showed its session's), its session said after.
        assert "work order Rotate keys  draft · targetRepo · in Ops" in screen_text(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, WorkOrderDetailScreen), "the detail")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "back on the main screen")


async def test_hostile_stored_text_and_query_syntax_stay_text(service: JangarService, store: LocalStore) -> None:
    session = await service.new_session("[bold red]x[/] \x1b]0;pwned\x07")
    await store.append_message(session.id, "user", "[@click=app.quit]zebra[/] \x1b[2J\x9b31m zebra")
    app = JangarApp(service)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_search(app, pilot)
        await pilot.press(*'"zebra*" NEAR(')  # FTS5 syntax typed: words only, no error
        await until(
            pilot, lambda: len(search_screen(app).hits) == 0 and "Nothing found" in screen_text(pilot), "no hit"
        )
        for _ in range(len('" NEAR(')):
            await pilot.press("backspace")
        await until(pilot, lambda: len(search_screen(app).hits) == 1, "the hostile message")
        text = screen_text(pilot)
        assert "[@click=app.quit]zebra[/]" in text and "␛[2J" in text and "[bold red]x[/]" in text
        assert "\x1b" not in text and "\x9b" not in text
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "jumped, app still running")
        assert app.is_running


async def test_escape_closes_and_a_refusal_is_said(service: JangarService) -> None:
    await service.new_session("One")
    app = JangarApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_search(app, pilot)
        await pilot.press(*" ".join("w" * 17))  # 17 words: more than a search takes
        await until(pilot, lambda: "Cannot search" in screen_text(pilot), "the refusal")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "closed")


async def test_an_answer_for_an_older_query_is_dropped(service: JangarService) -> None:
    """The first query's answer arrives after the second was typed: only the second is shown."""
    await service.new_session("alpha")
    await service.new_session("beta")
    gate = asyncio.Event()
    original = service.search

    async def slow_for_alpha(text: str, limit: int = 20) -> SearchResults:
        if text == "alpha":
            await gate.wait()
        return await original(text, limit)

    service.search = slow_for_alpha  # type: ignore[method-assign]
    app = JangarApp(service)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_search(app, pilot)
        screen = search_screen(app)
        screen.query_one("#search-input").value = "alpha"  # type: ignore[attr-defined]
        await pilot.pause(0.3)  # the debounce passes: alpha is asked and held
        screen.query_one("#search-input").value = "beta"  # type: ignore[attr-defined]
        await until(pilot, lambda: [h.sessionTitle for h in screen.hits] == ["beta"], "beta's answer")
        gate.set()
        await pilot.pause(0.3)
        assert [h.sessionTitle for h in screen.hits] == ["beta"]


def test_highlights_apply_to_the_sanitized_text() -> None:
    from jangar_tui.models import SearchHit

    hit = SearchHit(
        kind=SearchKind.MESSAGE,
        sessionId="ses_1",
        sessionTitle="s",
        messageId="msg_1",
        field="content",
        excerpt="a \x1b[31m deploy \x1b[0m now",
        at=1,
        role="user",
    )
    text = hit_text(hit, ["deploy"])
    assert isinstance(text, Text)
    plain = text.plain
    assert "\x1b" not in plain and "␛[31m deploy ␛[0m" in plain
    start = plain.index("deploy")
    assert any(span.start == start and span.end == start + len("deploy") for span in text.spans)


async def test_a_hit_hidden_by_the_session_filter_is_shown(service: JangarService) -> None:
    hidden = await service.new_session("Quarterly report")
    await service.new_session("Infra")
    app = JangarApp(service)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.session is not None, "main")
        main = app.screen
        assert isinstance(main, MainScreen)
        main.sidebar.session_list.focus()
        await pilot.press(*"infra")  # type-to-filter: only "Infra" is listed
        await until(pilot, lambda: [s.title for s in main.sidebar.session_list.shown] == ["Infra"], "filtered")
        await pilot.press("ctrl+f")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen), "the search")
        await pilot.press(*"quarterly")
        await until(pilot, lambda: hit_kinds(app) == [(SearchKind.SESSION, hidden.id)], "the hidden session")
        await pilot.press("enter")
        await until(pilot, lambda: main.session is not None and main.session.id == hidden.id, "chosen, filter cleared")
        assert len(main.sidebar.session_list.shown) == 2


async def test_search_says_its_index_is_being_built_and_how_far(tmp_path: Path, monkeypatch: MonkeyPatch) -> None:
    """A file from before search: the app starts before its messages are indexed, and search says
    so, with how far it is, until the build (after start-up) is done."""
    path = tmp_path / "before-search.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, MIGRATIONS[: SEARCH_SCHEMA_VERSION - 1])
    conn.execute("BEGIN")  # one commit, not one (and its fsync) per row
    conn.execute(
        "INSERT INTO chat_sessions (_id, userId, title, lastMessageAt, createdAt, updatedAt) VALUES (?,?,?,?,?,?)",
        ("ses_" + "1" * 32, "alice", "Older notes", 100, 1, 100),
    )
    conn.executemany(
        "INSERT INTO chat_messages (_id, sessionId, role, content, createdAt, updatedAt) VALUES (?,?,?,?,?,?)",
        [(f"msg_{n:032x}", "ses_" + "1" * 32, "user", f"needle {n}", n + 1, n + 1) for n in range(4000)],
    )
    conn.execute("COMMIT")
    conn.close()
    build = LocalStore._index_messages
    monkeypatch.setattr(LocalStore, "_index_messages", lambda self: asyncio.sleep(0))  # held back below
    store = LocalStore(path)
    try:
        await store._run(store._db.index_pending, 1000)  # one batch done before the app starts
        app = JangarApp(JangarService(store, "alice"))
        async with app.run_test(size=(80, 24)) as pilot:
            await _open_search(app, pilot)
            await pilot.press(*"needle")
            await until(pilot, lambda: len(search_screen(app).hits) == 20, "the newest messages, indexed first")
            flat = lambda: " ".join(screen_text(pilot).split())  # the note wraps at 80 columns
            await until(pilot, lambda: "being built: 25 % of 4,000 older messages" in flat(), "how far")
            assert "the others are found once it is done" in flat()
            await build(store)  # the build the app would have run after start-up
            await pilot.press("backspace", "e")
            await until(pilot, lambda: "Messages 20" in flat() and "being built" not in flat(), "the note gone")
            found = await store.search("alice", "needle", 50)
            assert found.indexing is None and len(found.messages) == 50
            assert len((await store.search("alice", "0")).messages) == 1  # the oldest too
    finally:
        await store.close()


async def test_ctrl_f_opens_the_search_over_the_board_and_a_detail_and_a_hit_goes_to_its_session(
    service: JangarService,
) -> None:
    """ctrl+f works where the operator looks at work orders too (it did nothing there): over the
    board and over a detail, and again closes the search; a session hit closes what was over the
    main screen and shows the session there. Never over a dialog: there ctrl+f stays the field's."""
    wanted = await service.new_session("Quarterly report")
    other = await service.new_session("Infra")
    await service.create_work_order(other.id, title="Rotate the keys", prompt="p")
    overrides = [("search", "f6")]  # [keys] still names it: the old place's name works too
    app = JangarApp(service, key_overrides=[("main.search", "f6")])
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.session is not None, "main")
        await pilot.press("ctrl+g")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen), "the board")
        await pilot.press("3", "enter")  # the drafts view, its work order's detail
        await until(pilot, lambda: isinstance(app.screen, WorkOrderDetailScreen), "the detail")
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen), "the search over the detail")
        assert [type(screen) for screen in app.screen_stack[1:-1]] == [BoardScreen, WorkOrderDetailScreen]
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, WorkOrderDetailScreen), "f6 again: back to the detail")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen), "back on the board")
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen), "the search over the board")
        await pilot.press(*"quarterly")
        await until(pilot, lambda: hit_kinds(app) == [(SearchKind.SESSION, wanted.id)], "the session")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "the board closed, the main screen shown")
        main = app.screen
        assert isinstance(main, MainScreen) and len(app.screen_stack) == 1
        await until(pilot, lambda: main.session is not None and main.session.id == wanted.id, "the session chosen")
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, WorkOrderFormScreen), "the form")
        await pilot.press("f6")
        await pilot.pause(0.2)
        assert isinstance(app.screen, WorkOrderFormScreen), "no search over a dialog"
    assert apply_overrides(overrides, "config.toml") == apply_overrides([("main.search", "f6")], "config.toml")
