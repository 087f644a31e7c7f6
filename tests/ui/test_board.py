"""The board (ctrl+g): work orders across sessions by view, live, with the work-order actions."""

from __future__ import annotations

import asyncio

import pytest
from ui_doubles import SimulatedLauncher
from ui_support import notified, screen_text, until

from jangar_tui.models import WorkOrderStatus, new_workflow_id
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore
from jangar_tui.ui.app import JangarApp
from jangar_tui.ui.screens.board import BoardScreen, view_rows
from jangar_tui.ui.screens.confirm import ConfirmScreen
from jangar_tui.ui.screens.main import MainScreen
from jangar_tui.ui.screens.work_order_detail import WorkOrderDetailScreen
from jangar_tui.ui.widgets.work_orders.board_table import pr_label

S = WorkOrderStatus


@pytest.fixture
def launched_service(store: LocalStore) -> JangarService:
    return JangarService(store, "alice", SimulatedLauncher(store))


def board(app: JangarApp) -> BoardScreen:
    screen = app.screen
    assert isinstance(screen, BoardScreen), screen
    return screen


def shown_titles(app: JangarApp) -> list[str | None]:
    return [w.title for w in board(app).rows]


async def _open_board(app: JangarApp, pilot: object) -> None:
    await until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.session is not None, "main")  # type: ignore[arg-type]
    await pilot.press("ctrl+g")  # type: ignore[attr-defined]
    await until(pilot, lambda: isinstance(app.screen, BoardScreen), "the board")  # type: ignore[arg-type]


async def test_board_lists_every_session_by_view_and_follows_changes_live(
    launched_service: JangarService, store: LocalStore
) -> None:
    service = launched_service
    infra = await service.new_session("Infra")
    docs = await service.new_session("Docs")
    deploy = await service.create_work_order(infra.id, title="Deploy", prompt="p", target_repo="acme/ops")
    await store.update_work_order_status(deploy.id, S.SUBMITTED)
    await store.update_work_order_status(deploy.id, S.ACCEPTED)
    await store.update_work_order_status(deploy.id, S.RUNNING)
    readme = await service.create_work_order(docs.id, title="Readme", prompt="p", target_branch="main")
    app = JangarApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await _open_board(app, pilot)
        await until(pilot, lambda: shown_titles(app) == ["Deploy"], "the running one")
        text = screen_text(pilot)
        assert "▶ running" in text and "acme/ops" in text and "Infra" in text  # status, repo, session
        await pilot.press("3")
        await until(pilot, lambda: shown_titles(app) == ["Readme"], "the drafts")
        assert "@ main" in screen_text(pilot) and "Docs" in screen_text(pilot)

        # Another process finishes the running one: it leaves "running", needs attention.
        await store.update_work_order_status(deploy.id, S.SUCCEEDED)
        await store.update_work_order_result(deploy.id, "https://github.com/acme/ops/pull/7")
        await pilot.press("1")
        await until(pilot, lambda: shown_titles(app) == ["Deploy"], "attention: it ended")
        await until(pilot, lambda: "#7" in screen_text(pilot), "its PR")
        assert "2 Running 0" in screen_text(pilot)

        # Leaving the board marks what ended as seen.
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "back on the main screen")
        await pilot.press("ctrl+g")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen), "the board again")
        await pilot.press("1")
        await until(pilot, lambda: "1 Attention 0" in screen_text(pilot), "nothing new ended")
        await pilot.press("left")  # from attention, round to done
        await until(pilot, lambda: shown_titles(app) == ["Deploy"], "it is done")
        await pilot.press("right", "right")
        await until(pilot, lambda: shown_titles(app) == [], "nothing running")
        assert readme.status == S.DRAFT


async def test_board_actions_launch_cancel_retry_detail_and_session(
    launched_service: JangarService, store: LocalStore
) -> None:
    service = launched_service
    first = await service.new_session("First")
    await service.new_session("Second")  # the newest: chosen when the app starts
    draft = await service.create_work_order(first.id, title="Draft one", prompt="p")
    app = JangarApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await _open_board(app, pilot)
        await pilot.press("3")
        await until(pilot, lambda: shown_titles(app) == ["Draft one"], "the draft")
        await pilot.press("l")
        await until(pilot, lambda: shown_titles(app) == [], "launched: no longer a draft")
        assert (await service.get_work_order(draft.id)).status == S.SUBMITTED

        await pilot.press("2")
        await until(pilot, lambda: shown_titles(app) == ["Draft one"], "running view")
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "asks first")
        await pilot.press("ctrl+y")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen) and shown_titles(app) == [], "canceled")
        assert (await service.get_work_order(draft.id)).status == S.CANCELED

        await pilot.press("4")
        await until(pilot, lambda: shown_titles(app) == ["Draft one"], "done view")
        await pilot.press("t")
        await pilot.press("3")
        await until(pilot, lambda: shown_titles(app) == ["Draft one"], "the retry is a new draft")
        assert board(app).rows[0].id != draft.id

        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, WorkOrderDetailScreen), "the detail")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen), "back on the board")

        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        main = app.screen
        assert isinstance(main, MainScreen)
        await until(pilot, lambda: main.session is not None and main.session.id == first.id, "its session")


async def test_a_retry_on_the_board_chooses_its_draft_so_the_hints_key_launches_it(
    launched_service: JangarService, store: LocalStore
) -> None:
    """ "A new draft copies it: press l to launch it" is true on the board too: the drafts view
    opens with the new draft chosen (l on the failed one it came from is refused)."""
    service = launched_service
    session = await service.new_session("Work")
    failed = await service.create_work_order(session.id, title="Flaky", prompt="p")
    await store.update_work_order_status(failed.id, S.SUBMITTED)
    await store.update_work_order_status(failed.id, S.FAILED)
    app = JangarApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await _open_board(app, pilot)
        await pilot.press("4")
        await until(pilot, lambda: shown_titles(app) == ["Flaky"], "the failed one")
        await pilot.press("t")
        await until(pilot, lambda: "press l to launch it" in notified(pilot), "the hint")

        def draft_chosen() -> bool:
            chosen = board(app).chosen
            return board(app).view == "drafts" and chosen is not None and chosen.status == S.DRAFT

        await until(pilot, draft_chosen, "the drafts view, the new draft chosen")
        draft = board(app).chosen
        assert draft is not None and draft.id != failed.id
        await pilot.press("l")
        await until(pilot, lambda: shown_titles(app) == [], "launched: no longer a draft")
        assert (await service.get_work_order(draft.id)).status == S.SUBMITTED


async def test_board_shows_hostile_text_as_text(service: JangarService, store: LocalStore) -> None:
    session = await service.new_session("Evil \x1b[2J")
    await service.create_work_order(session.id, title="[bold]x[/] \x1b]52;c;AAAA\x07", prompt="p")
    app = JangarApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await _open_board(app, pilot)
        await pilot.press("3")
        await until(pilot, lambda: len(board(app).rows) == 1, "the draft")
        text = screen_text(pilot)
        assert "[bold]x[/] ␛]52;c;AAAA␇" in text
        assert "Evil ␛[2J" in text


def test_views_and_pr_labels() -> None:
    assert pr_label("https://github.com/acme/ops/pull/7") == "#7"
    assert pr_label("https://gitlab.example/merge_requests/x") == "x"
    assert pr_label(None) == ""
    assert view_rows({}, "attention", 0) == []


async def test_rows_of_sessions_beyond_the_watched_ones_show_their_session(
    service: JangarService, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jangar_tui.ui.screens.board as board_module

    monkeypatch.setattr(board_module, "SESSIONS_WATCHED", 1)  # only the newest session is followed
    older = await service.new_session("Older session")
    await service.new_session("Newest session")
    await service.create_work_order(older.id, title="In the older one", prompt="p")
    app = JangarApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await _open_board(app, pilot)
        await pilot.press("3")
        await until(pilot, lambda: "Older session" in screen_text(pilot), "the older session's title")
        assert "In the older one" in screen_text(pilot)


async def test_the_cursor_moves_scrolls_and_stays_on_its_work_order_as_rows_arrive(
    service: JangarService, store: LocalStore
) -> None:
    session = await service.new_session("Many")
    for n in range(40):
        await service.create_work_order(session.id, title=f"draft {n:02d}", prompt="p")
    app = JangarApp(service)
    async with app.run_test(size=(100, 20)) as pilot:
        await _open_board(app, pilot)
        await pilot.press("3")
        await until(pilot, lambda: len(board(app).rows) == 40, "the drafts")
        table = board(app).table
        assert board(app).chosen is not None and board(app).chosen.title == "draft 39"  # newest first
        await pilot.press("down", "j")
        assert board(app).chosen.title == "draft 37"  # type: ignore[union-attr]
        await pilot.press("end")
        assert board(app).chosen.title == "draft 00"  # type: ignore[union-attr]
        assert table.scroll_y > 0 and "draft 00" in screen_text(pilot), "scrolled to the cursor"
        # A new draft comes in at the top: the cursor stays on the work order it was on.
        await service.create_work_order(session.id, title="draft 40", prompt="p")
        await until(pilot, lambda: len(board(app).rows) == 41, "the new draft")
        assert board(app).chosen.title == "draft 00"  # type: ignore[union-attr]
        await pilot.press("home")
        assert board(app).chosen.title == "draft 40"  # type: ignore[union-attr]
        assert table.scroll_y == 0 and "draft 40" in screen_text(pilot)


async def test_attention_is_what_ended_since_the_board_was_last_left_even_in_an_earlier_run(
    service: JangarService, store: LocalStore
) -> None:
    session = await service.new_session("Ops")
    before = await service.create_work_order(session.id, title="Seen before", prompt="p")
    await store.update_work_order_status(before.id, S.CANCELED)
    left_at = (await service.get_work_order(before.id)).updatedAt + 1  # the earlier run left the board here
    await asyncio.sleep(0.01)  # the clock moves past left_at (timestamps are milliseconds)
    after = await service.create_work_order(session.id, title="Ended since", prompt="p")
    await store.update_work_order_status(after.id, S.CANCELED)
    remembered: list[int] = []
    app = JangarApp(service, board_seen_at=left_at, remember_board_seen=remembered.append)
    async with app.run_test(size=(120, 30)) as pilot:
        await _open_board(app, pilot)
        await pilot.press("1")
        await until(pilot, lambda: shown_titles(app) == ["Ended since"], "only what ended since")
        await pilot.press("escape")
        await until(pilot, lambda: remembered, "leaving the board is remembered")
        assert remembered[0] >= left_at


async def test_the_board_shows_only_the_operators_own_work_orders(service: JangarService, store: LocalStore) -> None:
    mine = await service.new_session("Mine")
    await service.create_work_order(mine.id, title="My draft", prompt="p")
    others = await store.create_session("someone-else", "Not mine")
    await store.create_work_order(others.id, new_workflow_id(), title="Their draft", prompt="p")
    app = JangarApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await _open_board(app, pilot)
        await pilot.press("3")
        await until(pilot, lambda: shown_titles(app) == ["My draft"], "only mine")
        assert "3 Drafts 1" in screen_text(pilot)


async def test_an_empty_view_says_what_it_would_show(launched_service: JangarService) -> None:
    """A new operator's board: each view with nothing in it says so under its headings (it was a
    blank table, the same whether still loading, empty, or broken)."""
    session = await launched_service.new_session("First")
    app = JangarApp(launched_service)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_board(app, pilot)
        for key, note in (
            ("1", "No work order has ended since you last looked."),
            ("2", "No work order is running."),
            ("3", "No drafts."),
            ("4", "No work order has ended yet."),
        ):
            await pilot.press(key)
            await until(pilot, lambda note=note: note in screen_text(pilot), note)  # type: ignore[misc]
        await pilot.press("3")
        await launched_service.create_work_order(session.id, title="Now one", prompt="p")
        await until(pilot, lambda: shown_titles(app) == ["Now one"], "the draft")
        await until(pilot, lambda: "No drafts." not in screen_text(pilot), "the note gone")


async def test_a_failed_rows_title_is_followed_by_its_reason_at_80_columns(
    launched_service: JangarService, store: LocalStore
) -> None:
    service = launched_service
    session = await service.new_session("Infra")
    order = await service.create_work_order(session.id, title="Migrate", prompt="p")
    for status in (S.SUBMITTED, S.ACCEPTED, S.RUNNING):
        await store.update_work_order_status(order.id, status)
    error = "push refused: \x1b[31mprotected[/] branch, it needs a review before anything lands on it"
    await store.append_work_order_events(order.id, [{"kind": "error", "text": error}])
    await store.update_work_order_status(order.id, S.FAILED)
    app = JangarApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_board(app, pilot)
        await pilot.press("4")
        await until(pilot, lambda: "✗ push r" in screen_text(pilot), "the reason in the row")
        row = next(row for row in screen_text(pilot).splitlines() if "✗ push r" in row)
        assert "Migrate  ✗ push r" in row and "…" in row and len(row) <= 80, row
        await pilot.resize_terminal(120, 30)
        await until(pilot, lambda: "protected" in screen_text(pilot), "more of the reason at 120 columns")
        row = next(row for row in screen_text(pilot).splitlines() if "✗ push r" in row)
        assert "Migrate  ✗ push refused: ␛[31mprotected[/] b" in row and "…" in row, row
        assert "\x1b" not in screen_text(pilot)
