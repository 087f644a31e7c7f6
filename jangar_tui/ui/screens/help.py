"""The `?` help screen, generated from the key table (`jangar_tui.ui.keymap`)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from jangar_tui.ui.keymap import KEYMAP, SCOPES, KeyTable, active_keys, bindings, display_keys, key_label, keys_of
from jangar_tui.ui.screens.lifecycle import is_closed
from jangar_tui.ui.widgets.key_bar import KeyBar


def _scope_table(scopes: list[str], key_table: KeyTable) -> Group:
    tables: list[RenderableType] = []
    for scope in scopes:
        table = Table(
            title=SCOPES[scope],
            title_justify="left",
            title_style="bold underline",
            show_header=False,
            box=None,
            padding=(0, 1),
            pad_edge=False,
        )
        table.add_column(style="bold", no_wrap=True, min_width=KEY_COLUMN)
        table.add_column()
        for key in key_table[scope]:
            table.add_row(display_keys(key.keys), key.title)
        tables.extend([table, Text("")])
    return Group(*tables)


def help_table(columns: int, key_table: KeyTable = KEYMAP) -> Table:
    """The scopes in one or two columns (two halve the height), then a note on the palette."""
    scopes = list(SCOPES)
    half = (len(scopes) + 1) // 2
    outer = Table.grid(padding=(0, 4))
    if columns == 2:
        outer.add_row(_scope_table(scopes[:half], key_table), _scope_table(scopes[half:], key_table))
    else:
        outer.add_row(_scope_table(scopes, key_table))
    palette = display_keys(keys_of("main", "app.command_palette", key_table)[0])
    outer.add_row(Text(f"Everything is also in the command palette ({palette}).", style="dim"))
    return outer


TWO_COLUMNS_FROM = 110
KEY_COLUMN = 10


class HelpScreen(ModalScreen[None]):
    BINDINGS = bindings("help")

    def __init__(self) -> None:
        super().__init__(classes="modal")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help"):
            yield Static("Keys", classes="dialog-title")
            with VerticalScroll(id="help-scroll"):
                columns = 2 if self.app.size.width >= TWO_COLUMNS_FROM else 1
                yield Static(help_table(columns, active_keys(self.app)), id="help-table")
            yield Static(f"{key_label(self.app, 'help', 'dismiss(None)')} close · ↑↓ scroll", classes="hint")
        yield KeyBar()  # this dialog's keys, not the main screen's

    def on_mount(self) -> None:
        if is_closed(self):
            return
        self.query_one("#help-scroll").focus()
