"""The key bar at the bottom of every screen: the keys of the focused pane and of the screen.

One widget drawing one line. Textual's `Footer` mounts a widget per key and recomposes itself on
every focus change: 15–27 ms each time, measured inside ctrl+l → `submitted`, where closing the
form moves the focus twice. Here a focus change recomputes a short list and, only when it differs,
redraws the line. Keys sharing a `Binding.Group` show as one entry ("↑↓ Select"); a disabled key
is dimmed; clicking an entry presses its key. A node whose keys apply only sometimes (a work-order
list: "l Launch" only on a draft) defines `key_applies(action) -> bool` and calls
`refresh_bindings()` when the answer may have changed. When the keys are wider than the bar (the
detail of an ended work order at 80 columns), whole keys are left out from the end, "…" says so,
and the help key stays last: it lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.widget import Widget

from jangar_tui.ui.keymap import KEYMAP, binding_id, joined_keys

if TYPE_CHECKING:
    from textual.screen import Screen

SEPARATOR = "  "  # two spaces: entries stay apart with NO_COLOR too
MORE = "…"  # in place of the keys left out
HELP_ACTIONS = frozenset({"help", "app.help"})  # kept when keys are left out: help shows them all
# Each row's place in the key table. Textual moves a binding that [keys] rebinds to the end of its
# node's bindings; the bar keeps the table's order (the detail's "L Launch" stays before "c Cancel").
ROW_ORDER = {
    binding_id(scope, key): index
    for index, (scope, key) in enumerate((scope, key) for scope, keys in KEYMAP.items() for key in keys)
}


@dataclass(frozen=True)
class KeyEntry:
    key: str  # what a click presses
    display: str  # "^o", "↑↓"
    description: str
    enabled: bool
    help: bool = False  # the key that opens the help

    @property
    def width(self) -> int:
        return cell_len(self.display) + 1 + cell_len(self.description)


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .key-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .key-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-bar--key", "key-bar--description"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._entries: tuple[KeyEntry, ...] = ()
        self._spans: list[tuple[int, int, str]] = []  # (start, end, key) of each entry on the line

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if screen is not self.screen:
            return
        entries = self._collect(screen)
        if entries != self._entries:
            self._entries = entries
            self.refresh()

    def _collect(self, screen: Screen[object]) -> tuple[KeyEntry, ...]:
        entries: list[KeyEntry] = []
        displays: list[list[str]] = []  # each entry's keys: a group's are named together
        seen_actions: set[str] = set()
        grouped: dict[str, int] = {}  # group description -> index of its entry
        # The focused widget's keys first, then those of each node around it, the app's last; each
        # node's in the key table's order.
        active = sorted(
            screen.active_bindings.values(),
            key=lambda item: (-len(item[0].ancestors_with_self), ROW_ORDER.get(item[1].id or "", len(ROW_ORDER))),
        )
        for node, binding, enabled, _tooltip in active:
            if not binding.show or binding.action in seen_actions:
                continue  # one entry per action ("r,f2" arrive as two bindings)
            applies = getattr(node, "key_applies", None)
            if applies is not None and not applies(binding.action):
                continue
            seen_actions.add(binding.action)
            display = self.app.get_key_display(binding)
            group = binding.group
            if group is not None and group.description in grouped:
                displays[grouped[group.description]].append(display)
                continue
            if group is not None:
                grouped[group.description] = len(entries)
            description = group.description if group is not None else binding.description
            entries.append(KeyEntry(binding.key, display, description, enabled, binding.action in HELP_ACTIONS))
            displays.append([display])
        return tuple(replace(entry, display=joined_keys(keys)) for entry, keys in zip(entries, displays, strict=True))

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key")
        description_style = self.get_component_rich_style("key-bar--description")
        line = Text(" ", no_wrap=True, overflow="crop", end="")
        self._spans = []
        shown, after_more = fitting(self._entries, self.size.width)
        parts = shown if after_more is None else [*shown, None, *after_more]  # None: "…"
        for index, entry in enumerate(parts):
            if index:
                line.append(SEPARATOR)
            if entry is None:
                line.append(MORE, description_style)
                continue
            start = len(line)
            dim = Style(dim=True) if not entry.enabled else Style()
            line.append(entry.display, key_style + dim)
            line.append(f" {entry.description}", description_style + dim)
            self._spans.append((start, len(line), entry.key))
        return line

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                self.app.simulate_key(key)
                return


def fitting(entries: tuple[KeyEntry, ...], width: int) -> tuple[list[KeyEntry], list[KeyEntry] | None]:
    """What a bar `width` cells wide shows: every entry (and None) when they fit; else whole
    entries from the start, while they fit, and the help key, which lists the rest, with "…"
    between the two lists."""

    def used(shown: list[KeyEntry], more: bool) -> int:
        separators = len(SEPARATOR) * (len(shown) - 1 + more)
        return 1 + sum(entry.width for entry in shown) + separators + (cell_len(MORE) if more else 0)

    if used(list(entries), False) <= width:
        return list(entries), None
    helps = [entry for entry in entries if entry.help]
    kept: list[KeyEntry] = []
    for entry in entries:
        if entry.help:
            continue
        if used([*kept, entry, *helps], True) > width:
            break
        kept.append(entry)
    return kept, helps
