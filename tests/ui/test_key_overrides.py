"""config.toml's [keys]: action ids rebound to other keys, checked whole at start, shown everywhere."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from rich.console import Console
from textual.widgets import Input, Static
from ui_doubles import SimulatedLauncher
from ui_support import notified, screen_text, until, words

from jangar_tui.commands.schemas import COMMAND_SCHEMAS
from jangar_tui.config import ConfigError, load_settings
from jangar_tui.models import EventKind, NewEvent
from jangar_tui.models import WorkOrderStatus as S
from jangar_tui.orchestration.diff_review import ChangedFile, Diff, DiffSource, recorded_diff_event
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore
from jangar_tui.ui.app import JangarApp
from jangar_tui.ui.keymap import KEYMAP, SCOPES, apply_overrides, binding_id, textual_keymap
from jangar_tui.ui.screens.board import BoardScreen
from jangar_tui.ui.screens.confirm import ConfirmScreen
from jangar_tui.ui.screens.follow_up import FollowUpScreen
from jangar_tui.ui.screens.help import HelpScreen
from jangar_tui.ui.screens.main import MainScreen
from jangar_tui.ui.screens.rename import RenameScreen
from jangar_tui.ui.screens.work_order_detail import WorkOrderDetailScreen
from jangar_tui.ui.screens.work_order_form import WorkOrderFormScreen
from jangar_tui.ui.widgets.chat.composer import ComposerInput
from jangar_tui.ui.widgets.chat.transcript import Transcript
from jangar_tui.ui.widgets.key_bar import KeyBar
from jangar_tui.ui.widgets.sessions.session_list import SessionList
from jangar_tui.ui.widgets.work_orders.detail_summary import DetailSummary
from jangar_tui.ui.widgets.work_orders.work_order_list import WorkOrderList

JANGAR = Path(sys.executable).with_name("jangar")
SOURCE = "/home/op/.config/jangar/config.toml"


def wide_text(renderable: object) -> str:
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(renderable)
    return console.export_text()


def _settings(tmp_path: Path, text: str, **environ: str) -> tuple[tuple[str, str], ...]:
    config = tmp_path / "config.toml"
    config.write_text(text)
    settings = load_settings({"JANGAR_DATA_DIR": str(tmp_path), "JANGAR_USER": "u", **environ}, config_file=config)
    assert settings.config_file == config
    return settings.key_overrides


def test_every_row_has_an_id_unique_in_its_scope() -> None:
    for scope, keys in KEYMAP.items():
        names = [key.name for key in keys]
        assert len(names) == len(set(names)), scope
        assert all(name.isidentifier() for name in names), (scope, names)


def test_the_defaults_collide_nowhere_an_override_is_checked() -> None:
    """Re-binding every row to its own keys passes the collision check: the check is not stricter
    than the table it guards."""
    every_row = [(binding_id(scope, key), key.keys) for scope, keys in KEYMAP.items() for key in keys]
    table = apply_overrides(every_row, SOURCE)
    assert table == {scope: list(keys) for scope, keys in KEYMAP.items()}
    assert textual_keymap(table) == {}


def test_the_file_form_bare_dotted_nested_and_lists(tmp_path: Path) -> None:
    overrides = _settings(
        tmp_path,
        'JANGAR_USER = "file-user"\n'
        "[keys]\n"
        'board = "ctrl+b"\n'
        'detail.launch = ["L", "f5"]\n'
        "[keys.confirm]\n"
        'yes = "ctrl+y, f12"\n',
    )
    assert overrides == (("board", "ctrl+b"), ("detail.launch", "L,f5"), ("confirm.yes", "ctrl+y,f12"))
    table = apply_overrides(overrides, SOURCE)
    assert textual_keymap(table) == {"main.board": "ctrl+b", "detail.launch": "L,f5", "confirm.yes": "ctrl+y,f12"}
    # The environment still wins for the settings beside it; no file, no overrides.
    config = tmp_path / "config.toml"
    assert load_settings({"JANGAR_DATA_DIR": str(tmp_path), "JANGAR_USER": "env"}, config_file=config).user == "env"
    assert load_settings({"JANGAR_DATA_DIR": str(tmp_path), "JANGAR_USER": "env"}).key_overrides == ()


def test_keys_are_normalised_to_textual_names() -> None:
    table = apply_overrides(
        [("sessions.rename_session", "!"), ("main.toggle_work_orders", "Ctrl+T, F8"), ("detail.launch", "shift+l")],
        SOURCE,
    )
    assert textual_keymap(table) == {
        "sessions.rename_session": "exclamation_mark",
        "main.toggle_work_orders": "ctrl+t,f8",
        "detail.launch": "L",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[keys]\nbaord = "ctrl+b"\n', r"\[keys\] baord is not an action \(did you mean board"),
        ('[keys]\ndetail.lanch = "L"\n', r"\[keys\] detail.lanch is not an action; detail's are close, launch, "),
        ('[keys]\nzzz = "L"\n', r"\[keys\] zzz is not an action; write SCOPE.ACTION, SCOPE one of app, main, "),
        (
            '[keys]\nhelp = "f12"\n',
            r"\[keys\] help names an action of several places; write one of app.help, main.help",
        ),
        ('[keys]\nboard = "ctrl+"\n', r"\[keys\] board: 'ctrl\+' is not a key"),
        ('[keys]\nboard = "hyperdrive+b"\n', r"'hyperdrive\+b' has an unknown or repeated modifier"),
        ('[keys]\nboard = "enterr"\n', r"'enterr' is not a key"),
        ("[keys]\nboard = 7\n", r"\[keys\] board must be a key or a list of keys"),
        ('[keys]\nboard = ""\n', r"\[keys\] board has an empty key"),
        ('keys = "ctrl+b"\n', r"keys must be a table"),
        # Same scope: ctrl+n is the main screen's new session.
        ('[keys]\nboard = "ctrl+n"\n', r"main.board = 'ctrl\+n': ctrl\+n is already main.new_session"),
        # The screen around a pane: ctrl+q quits from anywhere on the main screen.
        (
            '[keys]\nsessions.rename_session = "ctrl+q"\n',
            r"sessions.rename_session = 'ctrl\+q': ctrl\+q is already main.quit",
        ),
        # A pane inside the screen: enter writes a message from the session list.
        ('[keys]\nboard = "enter"\n', r"main.board = 'enter': enter is already composer.send"),
        # The app's f1 is heard on every screen.
        ('[keys]\nboard.close = "f1"\n', r"board.close = 'f1': f1 is already app.help"),
        # A key the text field there binds itself: the message input's f7 selects all, the form's
        # fields take ctrl+a; the row would never run while they have the focus.
        ('[keys]\ntoggle_work_orders = "f7"\n', r"main.toggle_work_orders = 'f7': f7 is the text field's own key"),
        ('[keys]\nform.cancel = "ctrl+a"\n', r"form.cancel = 'ctrl\+a': ctrl\+a is the text field's own key"),
    ],
)
def test_a_bad_entry_is_refused_naming_the_file_and_the_entry(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        apply_overrides(_settings(tmp_path, text), str(tmp_path / "config.toml"))
    assert str(tmp_path / "config.toml") in str(refused.value)


def test_a_refusal_changes_nothing() -> None:
    before = {scope: list(keys) for scope, keys in KEYMAP.items()}
    with pytest.raises(ConfigError):
        # The first entry is good, the second collides: neither is applied anywhere.
        apply_overrides([("board", "ctrl+b"), ("main.toggle_work_orders", "ctrl+n")], SOURCE)
    assert before == KEYMAP
    with pytest.raises(ConfigError, match="ctrl\\+n is already main.new_session"):
        JangarApp(JangarService.__new__(JangarService), key_overrides=[("main.toggle_work_orders", "ctrl+n")])


def test_a_priority_row_may_take_a_text_field_s_key() -> None:
    """Priority rows come before the field (the form's save runs from inside a field): allowed."""
    assert textual_keymap(apply_overrides([("form.save", "ctrl+a")], SOURCE)) == {"form.save": "ctrl+a"}


def test_moving_a_key_away_frees_it_for_another() -> None:
    """ctrl+g goes to the board's own close only; the main screen's board moves to ctrl+b."""
    table = apply_overrides([("board", "ctrl+b"), ("main.toggle_work_orders", "ctrl+g")], SOURCE)
    assert textual_keymap(table) == {"main.board": "ctrl+b", "main.toggle_work_orders": "ctrl+g"}
    with pytest.raises(ConfigError, match="ctrl\\+g is already main.board"):
        apply_overrides([("main.toggle_work_orders", "ctrl+g")], SOURCE)


async def test_an_override_works_and_shows_in_the_key_bar_the_help_and_the_palette(service: JangarService) -> None:
    await service.new_session("Keys")
    overrides = [("board", "ctrl+b"), ("main.toggle_work_orders", "f8"), ("composer.newline", "f7,ctrl+j")]
    app = JangarApp(service, key_overrides=overrides)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.screen.query_one(SessionList).option_count == 1, "loaded")
        bar = app.screen.query_one(KeyBar)
        app.screen.query_one(SessionList).focus()
        await pilot.pause()
        assert "f8 Orders" in "".join(segment.text for segment in bar.render_line(0))
        assert "^t Orders" not in screen_text(pilot)
        await pilot.press("ctrl+g")  # the old key does nothing now
        await pilot.pause(0.1)
        assert isinstance(app.screen, MainScreen)
        await pilot.press("ctrl+b")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen), "ctrl+b opens the board")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "back")
        # A key the composer reads itself: f7 breaks the line like ctrl+j.
        composer = app.screen.query_one(ComposerInput)
        composer.focus()
        await pilot.press("a", "f7", "b")
        assert composer.text == "a\nb"
        assert str(app.screen.query_one("#composer-hint", Static).render()) == "enter send · f7 new line"
        palette = {command.title: command.help for command in app.get_system_commands(app.screen)}
        assert palette["The board: work orders across all sessions"] == "ctrl+b"
        await pilot.resize_terminal(120, 60)  # the whole help at once
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        await pilot.pause()
        help_text = screen_text(pilot)
        assert "ctrl+b" in help_text and "f8" in help_text and "f7 / ctrl+j" in help_text


def test_help_table_lists_the_overridden_keys() -> None:
    from jangar_tui.ui.screens.help import help_table

    table = apply_overrides([("board", "ctrl+b")], SOURCE)
    console = Console(file=io.StringIO(), width=200, record=True)
    console.print(help_table(1, table))
    lines = console.export_text().splitlines()
    board_line = next(line for line in lines if "The board: work orders across all sessions" in line)
    assert board_line.split()[0] == "ctrl+b"
    assert SCOPES["main"] in "\n".join(lines)


def _jangar(*argv: str, **environ: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("CONVEX_", "JANGAR_", "TEMPORAL_", "GH_", "GITHUB_"))
    }
    env.update(environ)
    return subprocess.run(
        [str(JANGAR), *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    "text",
    [
        '[keys]\nboard = "ctrl+b"\ntoggle_work_orders = "ctrl+n"\n',  # a key already heard there
        '[keys]\nbaord = "ctrl+b"\n',  # no such action
        '[keys]\nboard = "enterr"\n',  # no such key
    ],
    ids=["collision", "unknown-action", "unknown-key"],
)
def test_jangar_and_jangar_config_refuse_a_bad_keys_table_alike(tmp_path: Path, text: str) -> None:
    config = tmp_path / "config.toml"
    env = {"JANGAR_CONFIG": str(config), "JANGAR_DATA_DIR": str(tmp_path / "data"), "JANGAR_USER": "op"}
    config.write_text(text)
    started = _jangar(**env)
    assert started.returncode == 2
    assert started.stderr.startswith(f"jangar: {config}: [keys] ")
    assert "\x1b" not in started.stdout  # refused before the app drew anything
    for argv in (("config",), ("config", "--json")):
        shown = _jangar(*argv, **env)
        assert (shown.returncode, shown.stderr, shown.stdout) == (2, started.stderr, ""), argv


def test_jangar_config_prints_the_bindings_the_app_would_use(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    env = {"JANGAR_CONFIG": str(config), "JANGAR_DATA_DIR": str(tmp_path / "data"), "JANGAR_USER": "op"}
    config.write_text('[keys]\nboard = "ctrl+b"\ndetail.launch = ["shift+l", "F5"]\n')
    shown = _jangar("config", "--json", **env)
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    jsonschema.validate(document, COMMAND_SCHEMAS["config"])
    assert document["keys"] == {"board": "ctrl+b", "detail.launch": "shift+l,F5"}  # as written
    expected = textual_keymap(apply_overrides(load_settings(env, config_file=config).key_overrides, str(config)))
    assert expected == {"main.board": "ctrl+b", "detail.launch": "L,f5"}
    bindings = document["bindings"]
    every_row = {binding_id(scope, key): key.keys for scope, keys in KEYMAP.items() for key in keys}
    assert set(bindings) == set(every_row)
    assert {entry for entry, row in bindings.items() if row["fromConfig"]} == set(expected)
    assert {entry: row["keys"] for entry, row in bindings.items()} == every_row | expected
    as_text = _jangar("config", **env).stdout.splitlines()
    assert "  board = ctrl+b" in as_text  # the table as written, then every binding as resolved
    assert any(line.split() == ["main.board", "ctrl+b", "([keys])"] for line in as_text)
    assert any(line.split() == ["detail.launch", "L,", "f5", "([keys])"] for line in as_text)
    assert any(line.split() == ["main.quit", "ctrl+q"] for line in as_text)


async def test_hints_that_name_a_key_name_the_bound_one_and_fit_80_columns(store: LocalStore) -> None:
    """A sentence telling the operator which key to press names the key they bound, and the
    follow-up note's explanation is whole at 80 columns (it was cut at one line)."""
    service = JangarService(store, "alice", SimulatedLauncher(store))
    session = await service.new_session("Hints")
    order = await service.create_work_order(session.id, title="Fix the parser", prompt="p", target_repo="acme/api")
    overrides = [("detail.launch", "L"), ("follow_up.send", "f9")]
    app = JangarApp(service, key_overrides=overrides)
    async with app.run_test(size=(120, 30)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await pilot.press("ctrl+t")
        await until(pilot, lambda: len(main.query_one(WorkOrderList).work_orders) == 1, "listed")
        main.query_one(WorkOrderList).focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, WorkOrderDetailScreen), "the detail")
        summary = app.screen.query_one(DetailSummary)
        # Its column wraps the sentence at 120: read it at a width where it fits on one line.
        await until(pilot, lambda: "Press L to launch it." in wide_text(summary.content), "the draft's hint names L")
        for status in (S.SUBMITTED, S.ACCEPTED, S.RUNNING, S.SUCCEEDED):
            await store.update_work_order_status(order.id, status)
        await until(pilot, lambda: "u Follow up" in screen_text(pilot).splitlines()[-1], "ended")
        await pilot.resize_terminal(80, 24)
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, FollowUpScreen), "the note")
        await pilot.pause()
        text = " ".join(screen_text(pilot).replace("█", " ").split())  # the hint wraps: its words, in order
        assert "the note is what the agent is asked next." in text
        assert "f9 send · esc cancel" in text and "ctrl+l send" not in text


async def _ended_with_a_recorded_change(store: LocalStore) -> JangarService:
    """A succeeded work order whose log holds the change Jangar recorded (no worktree needed)."""
    service = JangarService(store, "alice", SimulatedLauncher(store))
    session = await service.new_session("Hints")
    order = await service.create_work_order(session.id, title="Fix the parser", prompt="p", target_repo="acme/api")
    for status in (S.SUBMITTED, S.ACCEPTED, S.RUNNING, S.SUCCEEDED):
        await store.update_work_order_status(order.id, status)
    files = (ChangedFile("M", "a.txt", None, 1, 1), ChangedFile("A", "b.txt", None, 1, 0))
    patch = "diff --git a/a.txt b/a.txt\n-x\n+y\ndiff --git a/b.txt b/b.txt\n+z\n"
    text, metadata = recorded_diff_event(Diff(files, patch, False, "origin/main", DiffSource.RECORDED))
    await store.append_work_order_events(order.id, [NewEvent(kind=EventKind.GIT, text=text, metadata=metadata)])
    return service


@pytest.mark.parametrize(
    ("overrides", "diff_key", "file_keys"),
    [
        ([], "d", "n/p File"),
        ([("detail.toggle_diff", "D"), ("diff.next_file", "J"), ("diff.previous_file", "K")], "D", "J/K File"),
    ],
    ids=["default", "overridden"],
)
async def test_the_run_log_names_the_diff_key_and_the_diff_its_file_keys_apart(
    store: LocalStore, overrides: list[tuple[str, str]], diff_key: str, file_keys: str
) -> None:
    """The run log's line of the change says which key shows it, and the diff's key bar reads
    "n/p File" (it read "np File": two keys in one word), at 80x24, with the bound keys."""
    service = await _ended_with_a_recorded_change(store)
    app = JangarApp(service, key_overrides=overrides)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+t")
        await until(pilot, lambda: len(app.screen.query_one(WorkOrderList).work_orders) == 1, "listed")
        app.screen.query_one(WorkOrderList).focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, WorkOrderDetailScreen), "the detail")
        # The line is folded at 80 columns: its words, in order.
        await until(pilot, lambda: f"({diff_key} shows the diff)" in words(screen_text(pilot)), "the change's line")
        await pilot.press(diff_key)
        await until(pilot, lambda: "2 files changed" in screen_text(pilot), "the diff")
        await until(pilot, lambda: f" {file_keys}  " in screen_text(pilot).splitlines()[-1], "the diff's keys")


@pytest.mark.parametrize(
    ("overrides", "keys", "names"),
    [
        ([], "1-4", ["1", "2", "3", "4"]),
        (
            [("view_attention", "a"), ("view_running", "r"), ("view_drafts", "f5"), ("view_done", "o")],
            "a/r/f5/o",
            ["a", "r", "f5", "o"],
        ),
    ],
    ids=["default", "overridden"],
)
async def test_the_board_names_its_view_keys(
    store: LocalStore, overrides: list[tuple[str, str]], keys: str, names: list[str]
) -> None:
    """The views' keys in the board's title, its key bar ("1-4 View", not "1234 View") and the
    sentence an empty view answers enter with."""
    service = JangarService(store, "alice", SimulatedLauncher(store))
    await service.new_session("Empty")
    app = JangarApp(service, key_overrides=overrides)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+g")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen), "the board")
        # "Board  1 Attention 0  2 Running 0 …": each view's key, name and count.
        title = lambda: screen_text(pilot).splitlines()[0].split()
        await until(pilot, lambda: title()[1::3] == names, "the keys in the title")
        assert title()[2::3] == ["Attention", "Running", "Drafts", "Done"]
        assert f" {keys} View  " in screen_text(pilot).splitlines()[-1]
        await pilot.press("enter")
        await until(pilot, lambda: f"No work order here: {keys} switch views." in notified(pilot), "the hint")


async def test_the_main_screen_its_dialogs_and_the_help_name_the_bound_keys(service: JangarService) -> None:
    """Every sentence and button that names a key on the main screen, the work-order form, the
    delete question and the help names the one bound (each named ctrl+n, ctrl+o, enter, ctrl+u, ↑,
    ctrl+t, ctrl+y, ^o, ^l or ctrl+p whatever [keys] said)."""
    overrides = [
        ("main.new_session", "f3"),
        ("main.new_work_order", "f5"),
        ("sessions.undo_delete", "f4"),
        ("main.toggle_work_orders", "ctrl+b"),
        ("composer.send", "f8"),
        ("transcript.select_previous", "K"),
        ("confirm.yes", "f9"),
        ("main.command_palette", "f10"),
        ("form.save", "f11"),
        ("form.save_and_launch", "f12"),
    ]
    app = JangarApp(service, key_overrides=overrides)
    async with app.run_test(size=(120, 30)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await until(pilot, lambda: "press f3." in screen_text(pilot), "the empty store's hint")
        assert "f3 starts one," in screen_text(pilot)  # the empty session list's
        await app.run_action("screen.new_work_order")
        await until(pilot, lambda: "Start a session first (f3)." in notified(pilot), "no session to order from")
        await app.run_action("screen.launch_work_order")
        await until(pilot, lambda: "(ctrl+b shows the panel)" in notified(pilot), "no work order to launch")
        await pilot.press("f3")
        await until(pilot, lambda: "write below, f8 sends." in screen_text(pilot), "the empty session's hint")
        await until(pilot, lambda: "f5 turns the session" in screen_text(pilot), "the empty panel's hint")
        main.query_one(Transcript).focus()
        await pilot.press("y")
        await until(pilot, lambda: "Select a message first (K in the transcript)." in notified(pilot), "copy")
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, WorkOrderFormScreen), "the form")
        await pilot.pause()
        assert "Save draft f11" in screen_text(pilot) and "Save and launch f12" in screen_text(pilot)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "the form closed")
        main.query_one(SessionList).focus()
        await pilot.press("delete")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.pause()
        assert "f4 restores it." in screen_text(pilot) and "Delete (f9)" in screen_text(pilot)
        await pilot.press("f9")
        await until(pilot, lambda: "Press f4 to undo." in notified(pilot), "deleted")
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        await pilot.press("end")  # the palette's note is last
        # The note wraps in the dialog: its words, in order.
        note = "Everything is also in the command palette (f10)."
        await until(pilot, lambda: note in " ".join(screen_text(pilot).replace("█", " ").split()), "the help's note")


async def test_the_rename_filter_and_help_hints_name_the_bound_keys(service: JangarService) -> None:
    """The rename dialog's 'enter save · esc cancel', the filter's 'esc clears it' and the help's
    'esc close' were fixed texts: they name the keys [keys] binds, and those keys work."""
    await service.new_session("Old title")
    overrides = [("rename.save", "f5"), ("rename.cancel", "f6"), ("filter.clear", "f7"), ("help.close", "f8")]
    app = JangarApp(service, key_overrides=overrides)
    async with app.run_test(size=(80, 24)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await until(pilot, lambda: main.query_one(SessionList).option_count == 1, "listed")
        main.query_one(SessionList).focus()
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, RenameScreen), "the rename dialog")
        await until(pilot, lambda: "f5 save · f6 cancel" in screen_text(pilot), "its hint")
        assert "enter save" not in screen_text(pilot)
        app.screen.query_one("#title", Input).value = "New title"
        await pilot.press("enter")  # not the save key any more: nothing saved, the dialog stays
        await pilot.pause()
        assert isinstance(app.screen, RenameScreen)
        await pilot.press("f5")
        await until(pilot, lambda: [s.title for s in (main.query_one(SessionList).sessions)] == ["New title"], "saved")
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, RenameScreen), "asked again")
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "f6 cancels")
        await pilot.press(*"zzz")  # type-to-filter: nothing matches
        hint = main.query_one("#sessions-empty", Static)
        await until(pilot, lambda: str(hint.render()) == "No title matches the filter.\nf7 clears it.", "the hint")
        assert "f7 Clear filter" in screen_text(pilot).splitlines()[-1]
        await pilot.press("f7")
        await until(pilot, lambda: len(main.query_one(SessionList).shown) == 1, "f7 cleared the filter")
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        await until(pilot, lambda: "f8 close · ↑↓ scroll" in screen_text(pilot), "the help's hint")
        assert "f8 Close" in screen_text(pilot).splitlines()[-1]
        await pilot.press("f8")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "f8 closes the help")


@pytest.mark.parametrize(
    ("overrides", "bar"),
    [
        ([("main.toggle_work_orders", "f8")], "^o New order  f8 Orders  ^q Quit  f1 Help"),
        # The app's search on f6, which the message input also binds: help came first.
        ([("app.help", "f9"), ("search", "f6")], "^o New order  ^t Orders  ^q Quit  f9 Help"),
    ],
    ids=["rebound-row", "rebound-app-keys"],
)
async def test_a_rebound_key_keeps_its_place_in_the_key_bar(
    service: JangarService, overrides: list[tuple[str, str]], bar: str
) -> None:
    """Textual moves a rebound binding to the end of its node's: the bar read '^o New order  ^q Quit
    f8 Orders  f1 Help', quit among the panel's keys, or put the app's help before the screen's keys.
    It keeps the key table's order, the focused widget's keys first and the app's last."""
    await service.new_session("Order")
    app = JangarApp(service, key_overrides=overrides)
    async with app.run_test(size=(120, 30)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        main.query_one(ComposerInput).focus()
        await until(pilot, lambda: f"⏎ Send  ^j New line  {bar}" in screen_text(pilot).splitlines()[-1], bar)
