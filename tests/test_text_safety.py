"""The sanitizer every shown string goes through (jangar_tui.text_safety), on its own."""

from __future__ import annotations

import unicodedata

import pytest

from jangar_tui.text_safety import DOTTED_CIRCLE, MAX_MARKS, TAB_SPACES, one_line, visible


def terminal_would_act_on(text: str) -> list[str]:
    """Characters a terminal interprets or that make widths unpredictable."""
    return [
        c
        for c in text
        if (unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") and c != "\n") or 0xFE00 <= ord(c) <= 0xFE0F
    ]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text, [b]markup[/b] stays as written", "plain text, [b]markup[/b] stays as written"),
        ("\x1b[2J\x1b[H", "␛[2J␛[H"),  # clear screen, cursor home
        ("\x1b]52;c;SGVsbG8=\x07", "␛]52;c;SGVsbG8=␇"),  # OSC 52: write the clipboard
        ("\x1b]8;;file:///etc/passwd\x1b\\x\x1b]8;;\x1b\\", "␛]8;;file:///etc/passwd␛\\x␛]8;;␛\\"),  # OSC 8
        ("\x1bP1$r\x1b\\", "␛P1$r␛\\"),  # DCS
        ("\x1b[?1049l", "␛[?1049l"),  # leave the alternate screen
        ("a\x9b2Jb\x9d52;c;x\x9c", "a\\x9b2Jb\\x9d52;c;x\\x9c"),  # C1 CSI, OSC, ST
        ("\x00\x07\x08\x7f", "␀␇␈␡"),
        ("one\r\ntwo\rthree", "one\ntwo␍three"),
        ("a\tb", "a" + " " * TAB_SPACES + "b"),
        ("\u202eevil\u202c", "\\u202eevil\\u202c"),  # bidi override
        ("\u2066iso\u2069", "\\u2066iso\\u2069"),  # bidi isolate
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        ("line\u2028sep", "line\\u2028sep"),
        ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
        ("❤\ufe0f", "❤"),  # a variation selector is not drawn
        ("\u0301start", DOTTED_CIRCLE + "\u0301start"),  # a mark without a base gets one
        ("x\n\u0301", "x\n" + DOTTED_CIRCLE + "\u0301"),
        ("e" + "\u0301" * 20, "e" + "\u0301" * MAX_MARKS),  # no tower of marks
        ("日本語 café", "日本語 café"),  # wide and precomposed text is untouched
        ("👩\u200d💻", "👩\\u200d💻"),  # ZWJ: shown, so the width is what Rich counts
    ],
)
def test_visible_makes_every_control_visible(raw: str, shown: str) -> None:
    assert visible(raw) == shown
    assert terminal_would_act_on(visible(raw)) == []


def test_safe_text_is_returned_as_is() -> None:
    text = "nothing to do here " * 100
    assert visible(text) is text
    wide = "日本語のテキスト"
    assert visible(wide) == wide


def test_every_code_point_comes_out_printable() -> None:
    # The whole Basic Multilingual Plane and the C1/format-heavy start of plane 1 and 14.
    for start, end in ((0, 0x10000), (0xE0000, 0xE0080)):
        text = "".join(chr(code) for code in range(start, end))
        assert terminal_would_act_on(visible(text)) == []


def test_one_line_keeps_a_row_on_one_line() -> None:
    assert one_line("title\nsecond\x1b[31m") == "title⏎second␛[31m"


def test_an_editor_keeps_its_tabs() -> None:
    assert visible("a\tb\x1b", keep_tabs=True) == "a\tb␛"
    assert visible("é\tb", keep_tabs=True) == "é\tb"
