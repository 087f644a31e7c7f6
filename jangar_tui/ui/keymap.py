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

from dataclasses import dataclass

from textual.binding import Binding, BindingType


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

    @property
    def title(self) -> str:
        return self.help or self.description


# Scope titles, in the order the help screen lists them.
SCOPES: dict[str, str] = {
    "app": "Anywhere",
    "main": "Main screen",
    "sessions": "Session list",
    "transcript": "Chat transcript",
    "composer": "Message input",
    "work_orders": "Work-order panel",
    "detail": "Work-order detail",
    "run_log": "Run log (in the detail)",
    "diff": "Diff (in the detail)",
    "form": "Work-order form",
    "follow_up": "Follow-up note",
    "confirm": "A question (delete, cancel)",
    "board": "Board (work orders across sessions)",
}

KEYMAP: dict[str, list[Key]] = {
    "app": [
        Key("f1", "help", "Help", "All the keys (? too, outside a text field)", priority=True, palette=False),
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
        Key("1", "show_view('attention')", "Attention", "Work orders that ended since you last looked", group="View"),
        Key("2", "show_view('running')", "Running", "Submitted, accepted and running work orders", group="View"),
        Key("3", "show_view('drafts')", "Drafts", "Draft work orders", group="View"),
        Key("4", "show_view('done')", "Done", "Ended work orders", group="View"),
        Key("right", "next_view(1)", "Next view", show=False, palette=False),
        Key("left", "next_view(-1)", "Previous view", show=False, palette=False),
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
        Key("ctrl+y", "answer(True)", "Yes", "Yes (or tab to the yes button, enter)", palette=False),
        Key("n,escape", "answer(False)", "No", "No (enter too: No is the default)", palette=False),
        Key("left,right", "app.focus_next", "Move", "Move between the buttons", show=False, palette=False),
    ],
}


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
        )
        for key in KEYMAP[scope]
    ]


def keys_of(scope: str, action: str) -> tuple[str, ...]:
    """The keys bound to `action` in `scope`, for a widget that handles them itself."""
    return tuple(part for key in KEYMAP[scope] if key.action == action for part in key.keys.split(","))


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
