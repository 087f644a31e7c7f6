"""Every key of the app in one table: BINDINGS, the `?` help screen and the command palette.

Keys avoid what terminals and tmux take (ctrl+b, ctrl+a, ctrl+s, ctrl+z): plain letters where focus
is not in a text input, and a few ctrl+ keys that reach an app over ssh for what must work while
typing. On the session list, where the app starts, letters filter the list (type-to-filter), so a
word typed there by mistake runs nothing; its actions are on keys no word contains (f2, del,
ctrl+u). Nothing destructive is answered by a letter: confirmations take ctrl+y (see
`screens/confirm.py`). f1 opens the help from anywhere, even inside a text field; `?` wherever
it is not typed as text. Each scope is a widget or screen; its BINDINGS are generated from the rows of that scope,
so the help screen and the footer can never disagree.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from textual.binding import Binding, BindingType
from textual.keys import REPLACED_KEYS, Keys, _character_to_key, key_to_character

from jangar_tui.config import ConfigError, Settings


@dataclass(frozen=True)
class Key:
    keys: str  # Textual key list, e.g. "d,delete"
    action: str  # action name, namespaced when it runs elsewhere ("screen.new_session")
    description: str  # short, for the footer (it must fit 80 columns)
    help: str = ""  # longer, for the help screen and the command palette (default: description)
    show: bool = True  # in the footer
    palette: bool = True  # in the command palette (runs the action on the main screen)
    priority: bool = False
    group: str = ""  # keys of one row-group share one footer entry ("↑↓ Select")
    # What config.toml's [keys] calls the row (default: the action's method, namespace dropped);
    # given where the action takes arguments.
    id: str = ""

    @property
    def title(self) -> str:
        return self.help or self.description

    @property
    def name(self) -> str:
        return self.id or self.action.rpartition(".")[2]


# Scope titles, in the order the help screen lists them.
SCOPES: dict[str, str] = {
    "app": "Anywhere",
    "main": "Main screen",
    "sessions": "Session list",
    "filter": "Session filter",
    "transcript": "Chat transcript",
    "composer": "Message input",
    "work_orders": "Work-order panel",
    "detail": "Work-order detail",
    "run_log": "Run log (in the detail)",
    "diff": "Diff (in the detail)",
    "form": "Work-order form",
    "follow_up": "Follow-up note",
    "confirm": "A question (delete, cancel)",
    "rename": "Rename a session",
    "board": "Board (work orders across sessions)",
    "search": "Search (sessions, messages, work orders)",
    "help": "This help",
}

KEYMAP: dict[str, list[Key]] = {
    "app": [
        # Not "? too": the main screen's row names its own key, whatever [keys] binds it to.
        Key("f1", "help", "Help", "All the keys (even from a text field)", priority=True, palette=False),
        Key(
            "ctrl+f",
            "search",
            "Search",
            "Search sessions, messages and work orders (even while typing; not in a dialog)",
            show=False,
            priority=True,
        ),
    ],
    "main": [
        Key("ctrl+n", "new_session", "New", "New session", show=False),
        Key(
            "ctrl+o", "new_work_order", "New order", "New work order (from the selected message, else the conversation)"
        ),
        Key("ctrl+t", "toggle_work_orders", "Orders", "Show or hide the work-order panel"),
        Key("ctrl+g", "board", "Board", "The board: work orders across all sessions", show=False),
        Key(
            "ctrl+r",
            "interrupt_reply",
            "Stop reply",
            "Stop the reply being written (its text so far stays)",
            show=False,
            priority=True,
        ),
        Key("slash", "filter_sessions", "Filter", "Filter sessions by title", show=False),
        Key("question_mark", "app.help", "Help", "All the keys", show=False, palette=False),
        Key("ctrl+q", "app.quit", "Quit", palette=False, priority=True),
        Key("tab", "app.focus_next", "Next pane", show=False, palette=False),
        Key("shift+tab", "app.focus_previous", "Previous pane", show=False, palette=False),
        Key("ctrl+p", "app.command_palette", "Commands", "Command palette", show=False, palette=False),
    ],
    "sessions": [
        Key("slash", "screen.filter_sessions", "Filter", "Filter by title (or just type a letter)", palette=False),
        Key("f2", "screen.rename_session", "Rename", "Rename the session"),
        Key("delete", "screen.delete_session", "Delete", "Delete the session (asks first)"),
        Key("ctrl+u", "screen.undo_delete", "Undo", "Undo the last delete", show=False),
        Key("enter", "screen.focus_composer", "Write", "Write a message", show=False, palette=False),
    ],
    "filter": [
        Key("escape", "clear", "Clear filter", "Clear the filter: every session again", palette=False),
    ],
    "transcript": [
        # The pane's own keys show in the footer while it has the focus.
        Key(
            "up,k", "select_previous", "Previous", "Select the previous (older) message", palette=False, group="Select"
        ),
        Key("down,j", "select_next", "Next", "Select the next message", palette=False, group="Select"),
        Key("w", "screen.new_work_order", "Work order", "New work order from the message", palette=False),
        Key("y", "screen.copy_message", "Copy", "Copy the selected message"),
        Key("enter", "screen.focus_composer", "Write", "Write a message", show=False, palette=False),
    ],
    "composer": [
        Key("enter", "send", "Send", "Send the message", palette=False),
        Key("ctrl+j,shift+enter", "newline", "New line", palette=False),
        Key("escape", "screen.focus_transcript", "Leave", "Leave the input", show=False, palette=False),
    ],
    "work_orders": [
        Key("enter", "screen.open_detail", "Detail", "Work-order detail (Temporal state and history)"),
        Key("l", "screen.launch_work_order", "Launch", "Launch the draft on Temporal"),
        Key("c", "screen.cancel_work_order", "Cancel", "Cancel the work order (asks first)"),
        Key("t", "screen.retry_work_order", "Retry", "Retry a failed or canceled work order"),
        Key(
            "u",
            "screen.follow_up_work_order",
            "Follow up",
            "Follow up an ended work order with a note (same branch, Codex thread and PR)",
        ),
        Key("y", "screen.copy_pr_url", "Copy PR", "Copy the PR URL", show=False),
        Key("i", "screen.copy_workflow_id", "Copy id", "Copy the workflow id", show=False),
    ],
    "detail": [
        Key("escape,q", "close", "Back", palette=False),
        Key("l", "launch", "Launch", "Launch the draft on Temporal"),
        Key("c", "cancel_work_order", "Cancel", "Cancel the work order (asks first)"),
        Key("t", "retry", "Retry", "Retry a failed or canceled work order"),
        Key(
            "u",
            "follow_up",
            "Follow up",
            "Follow up an ended work order with a note (same branch, Codex thread and PR)",
        ),
        Key("y", "copy_pr_url", "Copy PR", "Copy the PR URL"),
        Key("i", "copy_workflow_id", "Copy id", "Copy the workflow id"),
        Key("v", "toggle_log", "Log/History", "Show the run log or Temporal's event history"),
        Key("d", "toggle_diff", "Diff", "Show the change the agent made (files and diff), or leave it"),
        Key("x", "remove_workspace", "Rm worktree", "Remove the ended work order's worktree now (asks first)"),
        Key("question_mark", "app.help", "Help", "All the keys", show=False, palette=False),
    ],
    "run_log": [
        Key("end,G", "follow", "Follow", "Follow the newest events", show=False, palette=False),
        Key("f", "toggle_follow", "Follow", "Start or stop following the newest events", palette=False),
        Key("home,g", "oldest", "Oldest", "Go to the first event (older pages load)", show=False, palette=False),
    ],
    "diff": [
        Key("n,right_square_bracket", "next_file", "Next file", "The next file's diff", palette=False, group="File"),
        Key(
            "p,left_square_bracket",
            "previous_file",
            "Previous file",
            "The previous file's diff",
            palette=False,
            group="File",
        ),
    ],
    "board": [
        Key(
            "1",
            "show_view('attention')",
            "Attention",
            "Work orders that ended since you last looked",
            group="View",
            id="view_attention",
        ),
        Key(
            "2",
            "show_view('running')",
            "Running",
            "Submitted, accepted and running work orders",
            group="View",
            id="view_running",
        ),
        Key("3", "show_view('drafts')", "Drafts", "Draft work orders", group="View", id="view_drafts"),
        Key("4", "show_view('done')", "Done", "Ended work orders", group="View", id="view_done"),
        Key("right", "next_view(1)", "Next view", show=False, palette=False, id="next_view"),
        Key("left", "next_view(-1)", "Previous view", show=False, palette=False, id="previous_view"),
        Key("enter", "open_detail", "Detail", "Work-order detail (Temporal state and history)", palette=False),
        Key("l", "launch_work_order", "Launch", "Launch the draft on Temporal"),
        Key("c", "cancel_work_order", "Cancel", "Cancel the work order (asks first)"),
        Key("t", "retry_work_order", "Retry", "Retry a failed or canceled work order"),
        Key(
            "u",
            "follow_up_work_order",
            "Follow up",
            "Follow up an ended work order with a note (same branch, Codex thread and PR)",
        ),
        Key("s", "open_session", "Session", "Go to the work order's session"),
        Key("escape,q,ctrl+g", "close", "Back", palette=False),
        Key("question_mark", "app.help", "Help", "All the keys", show=False, palette=False),
    ],
    "search": [
        Key("enter", "open_hit", "Open", "Go to the hit: its session, its message, or the work order", palette=False),
        Key("down", "move(1)", "Next", "The next hit", palette=False, group="Select", id="next_hit"),
        Key("up", "move(-1)", "Previous", "The previous hit", palette=False, group="Select", id="previous_hit"),
        Key("escape", "close", "Back", palette=False),  # ctrl+f too: the app's search key closes it
    ],
    "form": [
        Key("ctrl+o", "save", "Save draft", palette=False, priority=True),
        Key("ctrl+l", "save_and_launch", "Save and launch", palette=False, priority=True),
        Key("escape", "cancel", "Cancel", palette=False),
    ],
    "follow_up": [
        Key(
            "ctrl+l", "send", "Send", "Send the note: the follow-up is made and launched", palette=False, priority=True
        ),
        Key("escape", "cancel", "Cancel", palette=False),
    ],
    "confirm": [
        # No letter says yes: the question often comes up in the middle of a typed word.
        Key("ctrl+y", "answer(True)", "Yes", "Yes (or tab to the yes button, enter)", palette=False, id="yes"),
        Key("n,escape", "answer(False)", "No", "No (enter too: No is the default)", palette=False, id="no"),
        Key("left,right", "app.focus_next", "Move", "Move between the buttons", show=False, palette=False),
    ],
    "rename": [
        # Priority: the field would take enter for itself.
        Key("enter", "save", "Save", "Save the new title", palette=False, priority=True),
        Key("escape", "cancel", "Cancel", palette=False),
    ],
    "help": [
        Key("escape,q,question_mark", "dismiss(None)", "Close", "Close the help (f1 too)", palette=False, id="close"),
    ],
}


KeyTable = Mapping[str, list[Key]]

# Where a scope's keys are also heard: a pane's keys compete with its screen's, and the app's
# (f1, priority) with everyone's. Used to refuse an override that would shadow another key.
_PARENT_SCOPE = {
    "sessions": "main",
    "transcript": "main",
    "composer": "main",
    "work_orders": "main",
    "run_log": "detail",
    "diff": "detail",
    "filter": "main",
}
# Scopes whose keys are heard while a text field has the focus (the composer and the filter on the
# main screen, a form's fields, the note, the new title, the search's input). A key the field binds
# itself (TextArea's f7 selects all, Input's ctrl+a goes home) reaches the field first: a row given
# it by [keys] would never run there, unless it is a priority row (those come before the field).
_BESIDE_TEXT_FIELDS = {
    "main": ("TextArea", "Input"),
    "form": ("TextArea", "Input"),
    "follow_up": ("TextArea",),
    "rename": ("Input",),
    "search": ("Input",),
}
# Rows that moved to another scope: config.toml written for the old place still works.
_MOVED = {"main.search": "app.search"}
_MODIFIERS = ("ctrl", "alt", "meta", "super", "hyper", "shift")
_ARROWS = frozenset("↑↓←→")
_NAMED_KEYS = frozenset(key.value for key in Keys if "+" not in key.value and not key.value.startswith("<"))


def binding_id(scope: str, key: Key) -> str:
    """The id config.toml's [keys] and Textual's keymap know a row by: "main.board"."""
    return f"{scope}.{key.name}"


def bindings(scope: str) -> list[BindingType]:
    groups = {key.group: Binding.Group(key.group, compact=True) for key in KEYMAP[scope] if key.group}
    return [
        Binding(
            key.keys,
            key.action,
            key.description,
            show=key.show,
            priority=key.priority,
            tooltip=key.title,
            group=groups.get(key.group),
            id=binding_id(scope, key),
        )
        for key in KEYMAP[scope]
    ]


def keys_of(scope: str, action: str, table: KeyTable = KEYMAP) -> tuple[str, ...]:
    """The keys bound to `action` in `scope`, for a widget that handles them itself."""
    return tuple(part for key in table[scope] if key.action == action for part in key.keys.split(","))


def active_keys(app: object) -> KeyTable:
    """The key table the running app uses (the app's overrides applied), for widgets that show or
    read keys themselves."""
    table: KeyTable = getattr(app, "key_table", KEYMAP)
    return table


def key_label(app: object, scope: str, action: str, *, caret: bool = False) -> str:
    """The first key the running app binds to `action` in `scope`, readable: for a hint or a
    message that names the key to press (it follows config.toml's [keys]). `caret`: ctrl+o as
    "^o", as the key bar writes it (where room is short: a button)."""
    keys = keys_of(scope, action, active_keys(app))
    if not keys:
        return action
    if keys[0] == "escape":
        return "esc"  # as the key bar says it
    label = display_keys(keys[0])
    return "^" + label.removeprefix("ctrl+") if caret and label.startswith("ctrl+") else label


def joined_keys(labels: Sequence[str]) -> str:
    """Several keys named as one: single digits in a row as a range ("1-4"), arrows side by side
    ("↑↓"), anything else apart ("n/p"; "np" would read as one key)."""
    if len(labels) > 2 and all(len(label) == 1 and label.isdigit() for label in labels):
        numbers = [int(label) for label in labels]
        if numbers == list(range(numbers[0], numbers[0] + len(numbers))):
            return f"{labels[0]}-{labels[-1]}"
    if all(label in _ARROWS for label in labels):
        return "".join(labels)
    return "/".join(labels)


def apply_overrides(overrides: Iterable[tuple[str, str]], source: str) -> dict[str, list[Key]]:
    """The key table with config.toml's [keys] applied: ("board", "ctrl+b") or ("detail.launch", "L").

    Everything is checked before anything is applied: an unknown id, a key Textual cannot name, or
    a key already heard where the row is (its scope, the screen around it, the app) raises one
    ConfigError naming `source` and the entry.
    """
    table = {scope: list(keys) for scope, keys in KEYMAP.items()}
    changed: set[tuple[str, int]] = set()
    for entry, value in overrides:
        scope, index = _find_row(entry, source)
        keys = _parse_keys(value, f"{source}: [keys] {entry}")
        table[scope][index] = replace(table[scope][index], keys=keys)
        changed.add((scope, index))
    for scope, index in sorted(changed):
        _refuse_collisions(table, scope, index, source)
    return table


def keys_source(settings: Settings) -> str:
    """The file a [keys] error names."""
    return str(settings.config_file or "config.toml")


def key_table_of(settings: Settings) -> dict[str, list[Key]]:
    """The key table the app runs with under `settings`, or the ConfigError it refuses to start with."""
    return apply_overrides(settings.key_overrides, keys_source(settings))


def resolved_bindings(settings: Settings) -> list[tuple[str, str, bool]]:
    """Every row as the app would bind it: (binding id, keys, whether config.toml's [keys] changed
    it), in the key table's order; what `jangar config` prints. Raises as `key_table_of` does."""
    return [
        (binding_id(scope, key), key.keys, key.keys != default.keys)
        for scope, keys in key_table_of(settings).items()
        for key, default in zip(keys, KEYMAP[scope], strict=True)
    ]


def textual_keymap(table: KeyTable) -> dict[str, str]:
    """Textual's keymap (binding id -> keys) for the rows of `table` that differ from KEYMAP."""
    return {
        binding_id(scope, key): key.keys
        for scope, keys in table.items()
        for key, default in zip(keys, KEYMAP[scope], strict=True)
        if key.keys != default.keys
    }


def _find_row(entry: str, source: str) -> tuple[str, int]:
    scope, dot, name = _MOVED.get(entry, entry).rpartition(".")
    rows = [
        (row_scope, index)
        for row_scope, keys in KEYMAP.items()
        if not dot or row_scope == scope
        for index, key in enumerate(keys)
        if key.name == name
    ]
    if len(rows) == 1:
        return rows[0]
    if rows:
        choices = ", ".join(f"{row_scope}.{name}" for row_scope, _ in rows)
        raise ConfigError(f"{source}: [keys] {entry} names an action of several places; write one of {choices}.")
    if dot and scope in KEYMAP:
        hint = f"; {scope}'s are {', '.join(key.name for key in KEYMAP[scope])}"
    else:
        known = [binding_id(s, key) for s, keys in KEYMAP.items() for key in keys]
        known += [key.name for keys in KEYMAP.values() for key in keys]
        close = difflib.get_close_matches(entry, known, n=3)
        hint = (
            f" (did you mean {', '.join(close)}?)"
            if close
            else f"; write SCOPE.ACTION, SCOPE one of {', '.join(KEYMAP)}"
        )
    raise ConfigError(f"{source}: [keys] {entry} is not an action{hint}.")


def _parse_keys(value: str, where: str) -> str:
    """'ctrl+b, ?' -> 'ctrl+b,question_mark': Textual's names, or a ConfigError saying what is wrong."""
    names: list[str] = []
    for part in value.split(","):
        spec = part.strip()
        *written, base = spec.split("+") if spec != "+" else ["+"]
        modifiers = [modifier.lower() for modifier in written]
        name = _key_name(base)
        if not spec or name is None:
            raise ConfigError(
                f"{where}: {spec!r} is not a key (a character, or a name like enter, escape, f5, "
                "question_mark, with modifiers like ctrl+ or alt+)."
            )
        if any(modifier not in _MODIFIERS for modifier in modifiers) or len(set(modifiers)) != len(modifiers):
            raise ConfigError(
                f"{where}: {spec!r} has an unknown or repeated modifier (known: {', '.join(_MODIFIERS)})."
            )
        ordered = [modifier for modifier in _MODIFIERS if modifier in modifiers]
        if ordered == ["shift"] and len(name) == 1 and name.isalpha():
            ordered, name = [], name.upper()  # a terminal sends shift+g as "G", which Textual names so
        # Textual names ctrl+b (and alt+b) in lower case, whatever was held with it.
        names.append("+".join([*ordered, name.lower() if ordered else name]))
    return ",".join(names)


def _key_name(base: str) -> str | None:
    """Textual's name of one key ('?' -> 'question_mark'), None when it names none."""
    if not base:
        return None
    if len(base) == 1:
        return _character_to_key(base) if base.isprintable() and base != " " else None
    lowered = base.lower()
    if lowered in _NAMED_KEYS:
        return lowered
    if key_to_character(REPLACED_KEYS.get(lowered, lowered)) is not None:
        return lowered
    return None


def _heard_with(scope: str) -> set[str]:
    """The scopes whose keys compete with `scope`'s: itself, its screen, the app, and its panes."""
    around = {scope, "app"}
    parent = _PARENT_SCOPE.get(scope)
    if parent is not None:
        around.add(parent)
    around |= {child for child, parent in _PARENT_SCOPE.items() if parent == scope}
    if scope == "app":
        around |= set(KEYMAP)
    return around


def _text_field_keys(fields: tuple[str, ...]) -> dict[str, str]:
    """The keys Textual's text fields (Input, TextArea) bind themselves -> what each does there."""
    import textual.widgets

    taken: dict[str, str] = {}
    for field in fields:
        for entry in getattr(textual.widgets, field).BINDINGS:
            binding = entry if isinstance(entry, Binding) else Binding(*entry)
            for key in binding.key.split(","):
                taken.setdefault(key.strip(), binding.description or binding.action)
    return taken


def _refuse_collisions(table: KeyTable, scope: str, index: int, source: str) -> None:
    row = table[scope][index]
    mine = set(row.keys.split(","))
    for other_scope in sorted(_heard_with(scope)):
        for other_index, other in enumerate(table[other_scope]):
            if (other_scope, other_index) == (scope, index) or other.name == row.name:
                continue  # the same action, bound at two levels (the screen's / and the list's)
            clash = mine & set(other.keys.split(","))
            if clash:
                raise ConfigError(
                    f"{source}: [keys] {binding_id(scope, row)} = {row.keys!r}: {', '.join(sorted(clash))} is "
                    f"already {binding_id(other_scope, other)} ({other.title}); give that one another key too, "
                    "or choose a free one."
                )
    if scope in _BESIDE_TEXT_FIELDS and not row.priority:
        # The row's own default keys were chosen with the field in mind (search's enter is the field's).
        field_keys = _text_field_keys(_BESIDE_TEXT_FIELDS[scope])
        taken = sorted(mine - set(KEYMAP[scope][index].keys.split(",")) & field_keys.keys())
        if taken:
            raise ConfigError(
                f"{source}: [keys] {binding_id(scope, row)} = {row.keys!r}: {taken[0]} is the text field's own key "
                f"there ({field_keys[taken[0]]}), so it would never reach {row.title!r}; choose another key."
            )


def display_keys(keys: str) -> str:
    """'r,f2' -> 'r / f2', with Textual's key names made readable."""
    names = {
        "slash": "/",
        "question_mark": "?",
        "delete": "del",
        "up": "↑",
        "down": "↓",
        "left_square_bracket": "[",
        "right_square_bracket": "]",
    }
    return " / ".join(names.get(part, part) for part in keys.split(","))
