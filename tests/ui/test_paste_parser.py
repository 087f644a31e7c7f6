"""A bracketed paste is text, whatever it holds: no key of it reaches the app as a key press."""

from __future__ import annotations

import time

import pytest
from textual import constants, events
from textual.drivers import linux_driver
from textual.message import Message

from jangar_tui.ui import paste_parser
from jangar_tui.ui.paste_parser import PASTE_END, PASTE_START, PasteSafeParser

# A coloured log line, a CR (enter: sends), BEL (ctrl+g: the board), DC1 (ctrl+q: quit).
HOSTILE = "log \x1b[31mred\x1b[0m line\rsecond\x07 board\x11 quit\x1b]0;title\x07 end"


def feed_all(parser: PasteSafeParser, *chunks: str) -> list[Message]:
    tokens: list[Message] = []
    for chunk in chunks:
        tokens.extend(parser.feed(chunk))
    return tokens


def test_a_paste_with_escapes_and_controls_is_one_paste_and_no_key() -> None:
    tokens = feed_all(PasteSafeParser(), f"a{PASTE_START}{HOSTILE}{PASTE_END}b")
    assert [type(t) for t in tokens] == [events.Key, events.Paste, events.Key]
    assert [t.key for t in tokens if isinstance(t, events.Key)] == ["a", "b"]
    assert tokens[1].text == HOSTILE  # type: ignore[attr-defined]


@pytest.mark.parametrize("cut", range(1, len(PASTE_START) + len(HOSTILE) + len(PASTE_END)))
def test_a_paste_split_anywhere_across_reads_is_the_same_paste(cut: int) -> None:
    data = f"{PASTE_START}{HOSTILE}{PASTE_END}"
    tokens = feed_all(PasteSafeParser(), data[:cut], data[cut:])
    assert len(tokens) == 1 and isinstance(tokens[0], events.Paste)
    assert tokens[0].text == HOSTILE


def test_nul_is_dropped_as_textual_does() -> None:
    tokens = feed_all(PasteSafeParser(), f"{PASTE_START}a\x00b{PASTE_END}")
    assert isinstance(tokens[0], events.Paste) and tokens[0].text == "ab"


def test_keys_outside_a_paste_are_parsed_as_before() -> None:
    tokens = feed_all(PasteSafeParser(), "x\x1b[A\x07")
    assert [t.key for t in tokens if isinstance(t, events.Key)] == ["x", "up", "ctrl+g"]


def test_input_held_as_a_possible_marker_is_parsed_once_no_marker_follows() -> None:
    parser = PasteSafeParser()
    assert feed_all(parser, "\x1b[2") == []  # could be the start of a paste
    time.sleep(constants.ESCAPE_DELAY * 2)
    keys = [t for t in parser.tick() if isinstance(t, events.Key)]
    assert keys, "the held input never reached the app"


def test_the_app_installs_the_parser_in_the_terminal_driver() -> None:
    paste_parser.install()
    assert linux_driver.XTermParser is PasteSafeParser


def test_in_a_browser_the_web_driver_reads_pastes_the_same_way() -> None:
    """`jangar serve`: the app runs on textual's web driver (loaded before the app installs)."""
    from textual.drivers import web_driver

    paste_parser.install()
    assert web_driver.XTermParser is PasteSafeParser


def test_the_escape_key_still_arrives_after_one_escape_delay() -> None:
    parser = PasteSafeParser()
    assert feed_all(parser, "\x1b") == []
    time.sleep(constants.ESCAPE_DELAY * 2)
    assert [t.key for t in parser.tick() if isinstance(t, events.Key)] == ["escape"]
