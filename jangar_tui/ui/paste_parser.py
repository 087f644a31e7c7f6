"""Terminal input where a bracketed paste stays text, whatever it holds.

Textual's parser reads an ESC inside a bracketed paste as the start of an escape sequence and,
not recognising one, replays the rest as key presses: a pasted coloured log (`ESC[31m…`) then
sends the message at each pasted CR and runs the action of any control character in it (BEL is
ctrl+g, the board; DC1 is ctrl+q, quit). Here everything between the paste's start and end
markers becomes one Paste event; only input outside a paste goes through Textual's parser.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable

from textual import constants, events
from textual._xterm_parser import XTermParser
from textual.message import Message

PASTE_START = "\x1b[200~"
PASTE_END = "\x1b[201~"


def _partial_suffix(data: str, marker: str) -> int:
    """Length of the longest end of `data` that is a proper beginning of `marker`."""
    for size in range(min(len(marker) - 1, len(data)), 0, -1):
        if data.endswith(marker[:size]):
            return size
    return 0


class PasteSafeParser(XTermParser):
    """XTermParser that takes bracketed pastes out of the input before parsing the rest."""

    def __init__(self, debug: bool = False) -> None:
        super().__init__(debug)
        self._paste: list[str] | None = None  # the paste being read, between its markers
        self._held = ""  # input that may be the beginning of a marker split across reads
        self._held_since = 0.0

    def feed(self, data: str) -> Iterable[Message]:
        if not data:
            yield from self._release()
            yield from super().feed(data)
            return
        data, self._held = self._held + data, ""
        while data:
            if self._paste is None:
                start = data.find(PASTE_START)
                if start == -1:
                    held = _partial_suffix(data, PASTE_START)
                    if held:
                        data, self._held = data[:-held], data[-held:]
                        self._held_since = time.monotonic()
                    if data:
                        yield from super().feed(data)
                    return
                if start:
                    yield from super().feed(data[:start])
                self._paste = []
                data = data[start + len(PASTE_START) :]
            else:
                end = data.find(PASTE_END)
                if end == -1:
                    held = _partial_suffix(data, PASTE_END)
                    self._paste.append(data[: len(data) - held])
                    self._held = data[len(data) - held :]
                    self._held_since = time.monotonic()
                    return
                self._paste.append(data[:end])
                # NULs are dropped as Textual does (they end C strings in the text widgets).
                yield events.Paste("".join(self._paste).replace("\x00", ""))
                self._paste = None
                data = data[end + len(PASTE_END) :]

    def tick(self) -> Iterable[Message]:
        # Held input that no more input completed into a marker within the escape delay was typed
        # (the escape key, alt+[): parse it, the delay already spent, so escape is as quick as ever.
        if self._held and self._paste is None and time.monotonic() - self._held_since >= constants.ESCAPE_DELAY:
            held, self._held = self._held, ""
            yield from super().feed(held)
            if self._timeout_time is not None:
                self._timeout_time = 0.0
        yield from super().tick()

    def _release(self) -> Iterable[Message]:
        """At the end of input: a paste cut short is still a paste, held input still input."""
        held, self._held = self._held, ""
        if self._paste is not None:
            text = "".join(self._paste) + held
            self._paste = None
            yield events.Paste(text.replace("\x00", ""))
        elif held:
            yield from super().feed(held)


def install() -> None:
    """Make Textual's terminal driver read input with PasteSafeParser (it has no option for it)."""
    if sys.platform == "win32":
        return
    from textual.drivers import linux_driver

    linux_driver.XTermParser = PasteSafeParser  # type: ignore[attr-defined]
    # In a browser (`jangar serve`) xterm.js brackets pastes too; the app chose that driver already.
    web_driver = sys.modules.get("textual.drivers.web_driver")
    if web_driver is not None:
        web_driver.XTermParser = PasteSafeParser  # type: ignore[attr-defined]
