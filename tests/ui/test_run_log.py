"""The run log in the work-order detail: live, following, paging back, hostile text kept as text."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import RenderableType
from rich.style import Style
from textual.pilot import Pilot
from textual.screen import Screen
from ui_support import screen_text, until

from jangar_tui.config import load_settings
from jangar_tui.models import WorkOrder
from jangar_tui.orchestration.devserver import free_port
from jangar_tui.orchestration.launcher import TemporalLauncher
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore
from jangar_tui.ui.app import JangarApp
from jangar_tui.ui.screens import work_order_detail
from jangar_tui.ui.screens.work_order_detail import WorkOrderDetailScreen
from jangar_tui.ui.widgets.line_view import wrap_line
from jangar_tui.ui.widgets.work_orders import panel
from jangar_tui.ui.widgets.work_orders.event_log import EventLogView
from jangar_tui.ui.widgets.work_orders.work_order_list import WorkOrderList


@pytest.fixture
def down_service(store: LocalStore, tmp_path: Path) -> JangarService:
    settings = load_settings({"JANGAR_DATA_DIR": str(tmp_path), "JANGAR_USER": "alice"})
    launcher = TemporalLauncher(
        settings, store, address=f"127.0.0.1:{free_port()}", embedded=False, connect_timeout_s=0.5
    )
    return JangarService(store, "alice", launcher)


async def _work_order(service: JangarService) -> WorkOrder:
    session = await service.new_session("Logs")
    return await service.create_work_order(session.id, title="Run", prompt="p")


async def _append_lines(store: LocalStore, wo: WorkOrder, start: int, count: int) -> None:
    for first in range(start, start + count, 100):
        batch = [{"kind": "output", "text": f"line {i}"} for i in range(first, min(first + 100, start + count))]
        await store.append_work_order_events(wo.id, batch)


async def _open_detail(pilot: Pilot[object], app: JangarApp) -> EventLogView:
    await until(pilot, lambda: len(app.screen.query_one(WorkOrderList).work_orders) == 1, "listed")
    app.screen.query_one(WorkOrderList).focus()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, WorkOrderDetailScreen), "the detail screen")
    return app.screen.query_one(EventLogView)


async def test_the_log_follows_new_events_and_pages_back_to_the_first(
    down_service: JangarService, store: LocalStore
) -> None:
    wo = await _work_order(down_service)
    await _append_lines(store, wo, 0, 450)
    app = JangarApp(down_service)
    async with app.run_test(size=(80, 24)) as pilot:
        log = await _open_detail(pilot, app)
        await until(pilot, lambda: log.last_seq == 450, "the newest events")
        assert log.first_seq == 251 and log.has_older  # one page, the rest on demand
        await until(pilot, lambda: "line 449" in screen_text(pilot), "the newest event painted")
        assert "450 events" in screen_text(pilot)
        # New events arrive while following: the newest stays in view.
        await _append_lines(store, wo, 450, 30)
        await until(pilot, lambda: log.last_seq == 480, "the new events")
        await pilot.pause()
        assert "line 479" in screen_text(pilot) and "following" in screen_text(pilot)
        # Scrolling to the top stops following and loads the pages before, in order.
        await pilot.press("home")
        await until(pilot, lambda: log.first_seq == 1, "every older page")
        assert not log.following and "paused" in screen_text(pilot)
        await _append_lines(store, wo, 480, 5)
        await until(pilot, lambda: log.last_seq == 485, "more events while paused")
        assert "line 484" not in screen_text(pilot)  # paused: the view stays where it was
        await pilot.press("end")
        await pilot.pause()
        assert log.following and "line 484" in screen_text(pilot)
        assert log.line_count == 485


async def test_the_first_frame_of_the_detail_shows_the_newest_events_and_their_count(
    down_service: JangarService, store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One frame, already complete: not an empty log first, nor the page's oldest lines first."""
    # However slow the machine, the first frame waits for the first page (0.15 s in the app).
    monkeypatch.setattr(work_order_detail, "FIRST_PAGE_WAIT_S", 30.0)
    wo = await _work_order(down_service)
    await _append_lines(store, wo, 0, 450)
    app = JangarApp(down_service)
    frames: list[str] = []
    display = JangarApp._display

    def recorded(self: JangarApp, screen: Screen[object], renderable: RenderableType | None) -> None:
        if isinstance(screen, WorkOrderDetailScreen):
            strips = screen._compositor.render_strips()
            frames.append("\n".join("".join(segment.text for segment in strip) for strip in strips))
        display(self, screen, renderable)

    monkeypatch.setattr(JangarApp, "_display", recorded)
    async with app.run_test(size=(120, 40)) as pilot:
        log = await _open_detail(pilot, app)
        await until(pilot, lambda: bool(frames), "the detail drawn")
        assert "line 449" in frames[0] and "450 events · following" in frames[0], frames[0]
        assert "line 251" not in frames[0]  # the page's oldest line is above the view
        assert log.following


async def test_hostile_agent_text_is_shown_as_text(down_service: JangarService, store: LocalStore) -> None:
    wo = await _work_order(down_service)
    hostile = "[bold red]not markup[/] \x1b[2J\x1b]0;title\x07 \u202eevil\x00"
    await store.append_work_order_events(
        wo.id,
        [
            {"kind": "command", "text": "make build", "metadata": {"exitCode": None, "status": "inProgress"}},
            {"kind": "command", "text": f"echo {hostile}\nout [link=x]y[/link]", "metadata": {"exitCode": 1}},
            {"kind": "usage", "text": "tokens", "metadata": {"totalTokens": 1234}},
        ],
    )
    app = JangarApp(down_service)
    async with app.run_test(size=(120, 30)) as pilot:
        log = await _open_detail(pilot, app)
        await until(pilot, lambda: log.last_seq == 3, "the events")
        text = screen_text(pilot)
        assert "[bold red]not markup[/]" in text and "␛[2J" in text and "\\u202e" in text
        assert "\x1b" not in text and "\u202e" not in text
        assert "(exit 1)" in text and "out [link=x]y[/link]" in text
        assert "$ make build  (started)" in text  # a command still running: its end is a later event
        assert "1,234 tokens" in text


async def test_output_ending_in_a_newline_takes_no_blank_row(down_service: JangarService, store: LocalStore) -> None:
    """A command's output nearly always ends with a newline; at 80x24 the log has a handful of
    rows, and each command gave one of them to an empty line."""
    wo = await _work_order(down_service)
    await store.append_work_order_events(
        wo.id,
        [
            {"kind": "command", "text": "ls\na.txt\nb.txt\n", "metadata": {"exitCode": 0}},
            {"kind": "agent_message", "text": "Listed.\n\n"},
            {"kind": "output", "text": "plain line"},
        ],
    )
    app = JangarApp(down_service)
    async with app.run_test(size=(80, 40)) as pilot:
        log = await _open_detail(pilot, app)
        await until(pilot, lambda: log.last_seq == 3, "the events")
        rows = [line.strip() for line in screen_text(pilot).splitlines()]
        start = next((i for i, row in enumerate(rows) if row.startswith("$ ls")), None)
        assert start is not None, "\n".join(rows)
        assert rows[start : start + 5] == ["$ ls  (exit 0)", "a.txt", "b.txt", "» Listed.", "plain line"], rows


async def test_the_rows_activity_is_what_the_agent_did_not_its_token_count(
    down_service: JangarService, store: LocalStore
) -> None:
    """Codex reports usage after every model answer, so while a command runs or the model thinks,
    the newest event is most often a token count: the row shows the newest other event."""
    wo = await _work_order(down_service)
    for status in ("submitted", "accepted", "running"):
        await store.update_work_order_status(wo.id, status)
    usage = {"kind": "usage", "text": "tokens: 100 in (0 cached), 10 out, 110 total"}
    await store.append_work_order_events(wo.id, [{"kind": "command", "text": "pytest -q\n3 passed"}, usage])
    app = JangarApp(down_service)
    async with app.run_test(size=(130, 30)) as pilot:
        await until(pilot, lambda: "▸" in screen_text(pilot), "an activity under the row")
        assert "▸ pytest -q" in screen_text(pilot) and "tokens:" not in screen_text(pilot)
        await store.append_work_order_events(wo.id, [{"kind": "agent_message", "text": "All green"}, usage, usage])
        await until(pilot, lambda: "▸ All green" in screen_text(pilot), "the newest activity that is not usage")


async def test_a_running_work_orders_row_shows_its_latest_activity(
    down_service: JangarService, store: LocalStore
) -> None:
    wo = await _work_order(down_service)
    for status in ("submitted", "accepted", "running"):
        await store.update_work_order_status(wo.id, status)
    await store.append_work_order_events(wo.id, [{"kind": "command", "text": "pytest -q\n3 passed"}])
    app = JangarApp(down_service)
    async with app.run_test(size=(130, 30)) as pilot:
        await until(pilot, lambda: "▸ pytest -q" in screen_text(pilot), "the latest activity under the row")
        await store.append_work_order_events(wo.id, [{"kind": "agent_message", "text": "\x1b[31mAll green"}])
        await until(pilot, lambda: "▸ ␛[31mAll green" in screen_text(pilot), "the newest activity, shown as text")
        # Once it has ended, the row no longer shows activity.
        await store.update_work_order_status(wo.id, "succeeded")
        await until(pilot, lambda: "▸" not in screen_text(pilot), "no activity once ended")


def _count_repaints(app: JangarApp) -> list[int]:
    """How many times the work-order list's rows were drawn again (each renders every row)."""
    rows = app.screen.query_one(WorkOrderList)
    count = [0]
    real = rows.replace_option_prompt_at_index

    def counted(index: int, prompt: RenderableType) -> WorkOrderList:
        count[0] += 1
        return real(index, prompt)

    rows.replace_option_prompt_at_index = counted  # type: ignore[method-assign]
    return count


async def _running_work_order(service: JangarService, store: LocalStore) -> WorkOrder:
    wo = await _work_order(service)
    for status in ("submitted", "accepted", "running"):
        await store.update_work_order_status(wo.id, status)
    return wo


async def test_the_row_is_not_drawn_again_for_a_change_beyond_its_width(
    down_service: JangarService, store: LocalStore
) -> None:
    """A line whose visible part stays the same costs no repaint; a wider column shows its tail."""
    wo = await _running_work_order(down_service, store)
    head = "compiling " + "x" * 150  # under the 200 characters kept
    await store.append_work_order_events(wo.id, [{"kind": "output", "text": f"{head} 0"}])
    app = JangarApp(down_service)
    async with app.run_test(size=(250, 30)) as pilot:
        await until(pilot, lambda: "▸ compiling xxx" in screen_text(pilot), "the activity under the row")
        repaints = _count_repaints(app)
        for n in range(1, 6):
            await store.append_work_order_events(wo.id, [{"kind": "output", "text": f"{head} {n}"}])
        await store.append_work_order_events(wo.id, [{"kind": "output", "text": "linking"}])
        await until(pilot, lambda: "▸ linking" in screen_text(pilot), "a change the row shows")
        assert repaints[0] == 1  # the cut lines looked the same: only 'linking' was drawn
        await store.append_work_order_events(wo.id, [{"kind": "output", "text": "lin" + "k" * 150 + " 1"}])
        await until(pilot, lambda: "▸ linkkk" in screen_text(pilot), "a long line")
        await store.append_work_order_events(wo.id, [{"kind": "output", "text": "lin" + "k" * 150 + " 2"}])
        await until(pilot, lambda: app.screen.query_one(WorkOrderList)._activity[wo.id].endswith(" 2"), "read")
        assert repaints[0] == 2
        assert "k 2" not in screen_text(pilot)
        app.screen.query_one(panel.WorkOrderPanel).styles.width = 200  # as over the chat
        await until(pilot, lambda: "k 2" in screen_text(pilot), "the newest tail, once there is room")


async def test_the_row_follows_a_fast_run_log_a_few_times_a_second(
    down_service: JangarService, store: LocalStore
) -> None:
    """Each repaint renders every row: while the log changes at every commit, the row is read and
    drawn again at most every ACTIVITY_INTERVAL_S, and the newest line still shows in the end."""
    wo = await _running_work_order(down_service, store)
    await store.append_work_order_events(wo.id, [{"kind": "output", "text": "streamed start"}])
    app = JangarApp(down_service)
    async with app.run_test(size=(130, 30)) as pilot:
        await until(pilot, lambda: "▸ streamed start" in screen_text(pilot), "the activity under the row")
        await pilot.pause(2 * panel.ACTIVITY_INTERVAL_S)  # the first snapshot's pause is over
        repaints = _count_repaints(app)
        started = time.monotonic()
        for n in range(40):
            await store.append_work_order_events(wo.id, [{"kind": "output", "text": f"streamed {n}"}])
            await pilot.pause(0.01)
        await until(pilot, lambda: "▸ streamed 39" in screen_text(pilot), "the newest line")
        elapsed = time.monotonic() - started
        # The pause between reads bounds the repaints whatever the load (a loaded machine makes fewer).
        assert 1 <= repaints[0] <= 1 + elapsed / panel.ACTIVITY_INTERVAL_S, (repaints[0], elapsed)


LONG_ERROR = (
    "the integration suite failed because migration 0042_add_index could not lock the orders table within 30 s;"
    " retry later or run it by hand, then start the work order again [red]as text[/] \x1b[2J end-of-error"
)


async def test_a_long_error_line_is_folded_onto_the_rows_below_and_read_whole_at_80_columns(
    down_service: JangarService, store: LocalStore
) -> None:
    """At 80 columns an error wider than the log was cut at its border: read only by scrolling
    sideways. It is folded at word breaks, its rows indented under its text."""
    wo = await _work_order(down_service)
    await store.append_work_order_events(
        wo.id, [{"kind": "output", "text": "partial work"}, {"kind": "error", "text": LONG_ERROR}]
    )
    app = JangarApp(down_service)
    async with app.run_test(size=(80, 24)) as pilot:
        log = await _open_detail(pilot, app)
        await until(pilot, lambda: log.last_seq == 2, "the events")
        await until(pilot, lambda: "end-of-error" in screen_text(pilot), "the error's end on screen")
        rows = screen_text(pilot).splitlines()
        first = next(i for i, row in enumerate(rows) if "✗ the integration" in row)
        folded = [row.strip() for row in rows[first : first + log.row_count - 1]]
        assert " ".join(folded) == "✗ " + LONG_ERROR.replace("\x1b", "␛"), rows
        assert all(row.startswith("   ") and len(row) <= 80 for row in rows[first + 1 : first + len(folded)]), rows
        assert log.line_count == 2 and log.row_count > 3
        assert log.max_scroll_x == 0  # nothing to scroll sideways to


def test_a_folded_line_never_passes_the_width_whatever_its_characters() -> None:
    text = "✗ " + "全角の文字と ascii words mixed together " * 6
    for width in (9, 20, 37, 76):
        rows = wrap_line((text, Style()), width)
        assert all(cell_len(row) <= width for row, _ in rows), (width, rows)
        assert "".join(row.strip() for row, _ in rows).replace(" ", "") == text.replace(" ", "")
