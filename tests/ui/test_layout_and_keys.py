"""Small terminals, resizing, NO_COLOR, the help screen and the command palette."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from ui_support import screen_text, until

from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore
from jangar_tui.ui.app import JangarApp
from jangar_tui.ui.keymap import KEYMAP, SCOPES
from jangar_tui.ui.screens.board import BoardScreen
from jangar_tui.ui.screens.confirm import ConfirmScreen
from jangar_tui.ui.screens.follow_up import FollowUpScreen
from jangar_tui.ui.screens.help import HelpScreen, help_table
from jangar_tui.ui.screens.main import MainScreen
from jangar_tui.ui.screens.rename import RenameScreen
from jangar_tui.ui.screens.search import SearchScreen
from jangar_tui.ui.screens.work_order_detail import WorkOrderDetailScreen
from jangar_tui.ui.screens.work_order_form import WorkOrderFormScreen
from jangar_tui.ui.widgets.chat.composer import ComposerInput
from jangar_tui.ui.widgets.chat.transcript import Transcript
from jangar_tui.ui.widgets.key_bar import KeyBar
from jangar_tui.ui.widgets.sessions.session_list import SessionList
from jangar_tui.ui.widgets.sessions.sidebar import FilterInput
from jangar_tui.ui.widgets.work_orders.diff_view import DiffView
from jangar_tui.ui.widgets.work_orders.event_log import EventLogView
from jangar_tui.ui.widgets.work_orders.work_order_list import WorkOrderList

# Which class runs the actions of each scope (namespaced "screen." actions run on the screen).
_SCOPE_OWNER = {
    "app": JangarApp,
    "main": MainScreen,
    "sessions": SessionList,
    "filter": FilterInput,
    "transcript": Transcript,
    "composer": ComposerInput,
    "work_orders": WorkOrderList,
    "detail": WorkOrderDetailScreen,
    "run_log": EventLogView,
    "diff": DiffView,
    "form": WorkOrderFormScreen,
    "follow_up": FollowUpScreen,
    "confirm": ConfirmScreen,
    "rename": RenameScreen,
    "board": BoardScreen,
    "search": SearchScreen,
    "help": HelpScreen,
}


def test_every_key_in_the_table_runs_an_existing_action() -> None:
    assert set(KEYMAP) == set(SCOPES)
    for scope, keys in KEYMAP.items():
        for key in keys:
            namespace, _, name = key.action.partition("(")[0].rpartition(".")  # "answer(True)": its method
            owner = {"screen": MainScreen if scope != "detail" else WorkOrderDetailScreen, "app": JangarApp}.get(
                namespace, _SCOPE_OWNER[scope]
            )
            assert hasattr(owner, f"action_{name}"), f"{scope}: {key.keys} -> {key.action}"


async def test_at_80x24_the_work_order_panel_folds_away_and_comes_back(service: JangarService) -> None:
    session = await service.new_session("Small terminal")
    await service.create_work_order(session.id, title="Folded", prompt="p")
    app = JangarApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: len(app.screen.query_one(WorkOrderList).work_orders) == 1, "loaded")
        orders, chat = app.screen.query_one("#work-orders"), app.screen.query_one("#chat")
        assert not orders.display and chat.display
        assert "Folded" not in screen_text(pilot)
        await pilot.press("ctrl+t")
        assert orders.display and not chat.display
        assert isinstance(app.focused, WorkOrderList)
        assert "○ draft  Folded" in screen_text(pilot)
        await pilot.press("ctrl+t")
        assert not orders.display and chat.display
        assert isinstance(app.focused, ComposerInput), "the focus left the folded panel for something visible"
        # Growing the terminal shows all three panes; shrinking folds the panel again.
        await pilot.resize_terminal(200, 60)
        await pilot.pause()
        assert orders.display and chat.display
        assert "○ draft  Folded" in screen_text(pilot)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not orders.display and chat.display


async def test_resizing_keeps_the_panel_the_operator_opened_and_the_focus_on_something_shown(
    service: JangarService,
) -> None:
    # Opened at 80x24 then widened, the panel used to vanish (the toggle flipped its meaning with
    # the width) with the focus left in it: the key bar showed no pane's keys and typing did nothing.
    session = await service.new_session("Resized")
    await service.create_work_order(session.id, title="Kept", prompt="p")
    app = JangarApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: len(app.screen.query_one(WorkOrderList).work_orders) == 1, "loaded")
        orders = app.screen.query_one("#work-orders")
        await pilot.press("ctrl+t")
        assert orders.display and isinstance(app.focused, WorkOrderList)
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert orders.display, "widening hid the panel the operator had just opened"
        assert isinstance(app.focused, WorkOrderList)
        # Narrowed with the focus in the panel: it folds away, and the focus goes to the input.
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not orders.display
        assert isinstance(app.focused, ComposerInput), "the focus stayed in the folded panel"


async def test_tab_walks_the_panes(service: JangarService) -> None:
    await service.new_session("Tabs")
    app = JangarApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.screen.query_one(SessionList).option_count == 1, "loaded")
        seen = []
        for _ in range(4):
            seen.append(type(app.focused).__name__)
            await pilot.press("tab")
        assert seen == ["SessionList", "Transcript", "ComposerInput", "WorkOrderList"]
        # enter on the session list goes to the input; escape there goes back to the transcript.
        app.screen.query_one(SessionList).focus()
        await pilot.press("enter")
        assert isinstance(app.focused, ComposerInput)
        await pilot.press("escape")
        assert isinstance(app.focused, Transcript)


async def test_help_lists_every_key_and_closes(service: JangarService) -> None:
    app = JangarApp(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        text = screen_text(pilot)
        assert "Main screen" in text and "ctrl+n" in text and "f2" in text
        # The whole table (it scrolls on small terminals) has every scope and every key.
        console = Console(width=200, record=True, file=io.StringIO())
        console.print(help_table(2))
        table_text = console.export_text()
        for title in SCOPES.values():
            assert title in table_text
        for keys in KEYMAP.values():
            for key in keys:
                assert key.title in table_text, key
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        app.screen.query_one(SessionList).focus()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)


async def test_command_palette_offers_every_action(service: JangarService) -> None:
    await service.new_session("Palette")
    app = JangarApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.screen.query_one(SessionList).option_count == 1, "loaded")
        titles = {command.title for command in app.get_system_commands(app.screen)}
        for scope in ("main", "sessions", "transcript", "work_orders"):
            for key in KEYMAP[scope]:
                if key.palette:
                    assert key.title in titles
        await pilot.press("ctrl+p")
        await pilot.press(*"rename")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RenameScreen), "rename from the palette")


async def test_the_palettes_textual_commands_close_and_save_where_they_can(
    service: JangarService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No 'Keys' (Textual's key panel: f1's help lists the keys, and the panel, docked beside an
    80-column screen, closed only from the palette again); 'Screenshot' saves where it can: on a
    server without ~/Downloads, Textual's said only 'Failed to save screenshot'."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no Downloads dir there
    monkeypatch.delenv("XDG_DOWNLOAD_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no user-dirs.dirs either
    monkeypatch.chdir(tmp_path)
    app = JangarApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "started")
        commands = {command.title: command for command in app.get_system_commands(app.screen)}
        assert "Keys" not in commands and {"Help", "Theme", "Quit", "Screenshot"} <= set(commands)
        commands["Screenshot"].callback()
        await until(pilot, lambda: list(tmp_path.glob("*.svg")) != [], "the screenshot saved", every_s=0.1)
        [shot] = tmp_path.glob("*.svg")
        assert "Sessions (0)" in shot.read_text().replace("&#160;", " ")


async def test_no_color_keeps_every_state_readable(service: JangarService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    session = await service.new_session("Monochrome")
    await service.create_work_order(session.id, title="Plain", prompt="p")
    await service.send_message(session.id, "hi")
    app = JangarApp(service)
    async with app.run_test(size=(130, 30)) as pilot:
        await until(pilot, lambda: "○ draft  Plain" in screen_text(pilot), "loaded")
        # Textual renders NO_COLOR in greys: every state must still read as a glyph and a word.
        text = screen_text(pilot)
        assert "● live" in text and "▌you" in text and "Temporal not configured" in text
        app.screen.query_one("#transcript").focus()
        await pilot.press("up")
        assert "┃ ▌you" in screen_text(pilot), "the selected message is marked by a bar, not a colour"


async def test_the_footer_shows_the_keys_of_what_has_the_focus(service: JangarService) -> None:
    session = await service.new_session("Footer")
    await service.send_message(session.id, "Ship it")
    await service.create_work_order(session.id, title="Order", prompt="p")
    app = JangarApp(service)

    def footer() -> str:
        return screen_text(pilot).splitlines()[-1].strip()

    async with app.run_test(size=(80, 24)) as pilot:  # the smallest supported size: all of it fits
        await until(pilot, lambda: "Ship it" in screen_text(pilot), "the message")
        app.screen.query_one(ComposerInput).focus()
        await pilot.pause()
        assert footer().startswith("⏎ Send  ^j New line"), footer()
        await pilot.press("escape")
        assert isinstance(app.focused, Transcript)
        assert footer() == "↑↓ Select  w Work order  y Copy  ^o New order  ^t Orders  ^q Quit  f1 Help"
        await pilot.press("up", "w")
        await until(pilot, lambda: isinstance(app.screen, WorkOrderFormScreen), "the form from w")
        assert footer() == "^o Save draft  ^l Save and launch  esc Cancel"  # the form's keys, not the main screen's
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "the form closed")
        await pilot.press("ctrl+t")
        assert isinstance(app.focused, WorkOrderList)
        assert footer().startswith("⏎ Detail  l Launch  c Cancel  ^o New order"), footer()  # a draft: no retry


async def test_a_key_bar_too_long_for_the_width_drops_whole_keys_and_keeps_help(
    service: JangarService, store: LocalStore
) -> None:
    """The detail of an ended work order has more keys than 80 columns hold. The bar was cut where
    the width ended ("x" without what it does, help gone); it now shows whole keys, then "…", then
    f1 Help, which lists the rest."""
    session = await service.new_session("Keys")
    wo = await service.create_work_order(session.id, title="Done", prompt="p")
    for status in ("submitted", "accepted", "running", "succeeded"):
        await store.update_work_order_status(wo.id, status)
    await store.update_work_order_result(wo.id, "https://github.com/acme/app/pull/1")
    app = JangarApp(service)

    def footer() -> str:
        return screen_text(pilot).splitlines()[-1].strip()

    async with app.run_test(size=(200, 24)) as pilot:
        await until(pilot, lambda: len(app.screen.query_one(WorkOrderList).work_orders) == 1, "listed")
        app.screen.query_one(WorkOrderList).focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, WorkOrderDetailScreen), "the detail")
        await until(pilot, lambda: "Copy PR" in footer(), "its keys")
        whole = footer().split("  ")
        assert whole[-1] == "f1 Help" and "…" not in whole, whole
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: len(footer()) < len("  ".join(whole)), "the bar at 80 columns")
        shown = footer().split("  ")
        assert shown[-2:] == ["…", "f1 Help"], shown
        assert shown[:-2] == whole[: len(shown) - 2], (shown, whole)  # whole keys, in their order
        assert len(screen_text(pilot).splitlines()[-1].rstrip()) <= 80


async def test_clicking_a_key_in_the_key_bar_presses_it(service: JangarService) -> None:
    await service.new_session("Mouse")
    app = JangarApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.screen.query_one(SessionList).option_count == 1, "loaded")
        line = screen_text(pilot).splitlines()[-1]
        await pilot.click(KeyBar, offset=(line.index("Help"), 0))
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help, from a click on its key")
        await pilot.click(KeyBar, offset=(0, 0))  # the margin before the first key: nothing
        assert isinstance(app.screen, HelpScreen)
