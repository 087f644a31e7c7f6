"""Text from data made safe to show: the one place that decides how an untrusted string looks.

Everything the store, an agent or Temporal hands us may contain bytes a terminal obeys: ESC and
the sequences it starts (CSI, OSC 52 that writes the clipboard, OSC 8 links, DCS), the 8-bit C1
forms of the same (U+0080–U+009F), DEL, and Unicode that makes a line lie about what it shows or
how wide it is (bidi overrides, zero-width and other format characters, base-less combining
marks). `visible()` maps each of them to printable text, so the operator sees that it is there and
the terminal never receives it:

- C0 controls as their Control Pictures (ESC → ␛, NUL → ␀), DEL → ␡; a tab becomes spaces (its
  width would otherwise depend on the column), CR LF becomes LF, a newline stays a newline;
- C1 controls, format characters (Unicode category Cf: bidi overrides and isolates, zero-width
  space/joiner, BOM, soft hyphen…), line/paragraph separators and lone surrogates as an escape
  such as ``\\x9b`` or ``\\u202e``; variation selectors are not drawn (they switch a character
  between one and two cells, differently in every terminal);
- combining marks keep their base; one without a base (at the start of a line or after a
  control) gets ◌ as its base, and more than MAX_MARKS in a row are cut (the rest would pile up
  above the line differently in every terminal).

It has no idea of Rich or Textual: a string in, a string out, reusable by any front end. The
UI wraps the result in `rich.text.Text` / Textual `Content` (never markup; see
`jangar_tui.ui.safe_text`). Stored data is never changed by it: only what is drawn.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

TAB_SPACES = 4
MAX_MARKS = 3  # combining marks kept on one base (enough for real scripts, not for "zalgo")
DOTTED_CIRCLE = "◌"  # the base Unicode uses to show a mark on its own

# ASCII text needs a look only for C0 controls (other than LF) and DEL; most text is ASCII and
# leaves at once (the transcript runs every message through here).
_ASCII_UNSAFE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
_CONTROL_PICTURES = {code: chr(0x2400 + code) for code in range(0x20)} | {0x7F: "␡"}


@lru_cache(maxsize=4096)
def _kind(char: str) -> str:
    """'ok', 'mark' (combining, zero width), 'drop' (not drawn) or 'escape' (shown as \\xNN / \\uNNNN)."""
    category = unicodedata.category(char)
    if category in ("Cc", "Cf", "Cs", "Zl", "Zp"):
        return "escape"
    if 0xFE00 <= ord(char) <= 0xFE0F or 0xE0100 <= ord(char) <= 0xE01EF:
        return "drop"  # variation selectors: they switch some characters between 1 and 2 cells
    if category in ("Mn", "Me"):
        return "mark"
    return "ok"


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x20 or code == 0x7F:
        return _CONTROL_PICTURES[code]
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible(text: str, *, keep_tabs: bool = False) -> str:
    """`text` with every character a terminal could act on, or that would make its width
    unpredictable, replaced by printable text. Safe text is returned as it is (same object).

    `keep_tabs`: for text that goes into an editor (a paste, a form's prefill), which draws tabs
    itself; anywhere else a tab becomes spaces."""
    tab = "\t" if keep_tabs else " " * TAB_SPACES
    if text.isascii():
        if _ASCII_UNSAFE.search(text) is None:
            return text
        return _ascii(text, tab)
    return _unicode(text, tab)


def _ascii_table(tab: str) -> dict[str, str]:
    table = {chr(code): _CONTROL_PICTURES[code] for code in (*range(0x20), 0x7F)}
    del table["\n"]
    table["\t"] = tab
    return table


# The regex scans in C and calls back only at a control: an ASCII stretch costs next to nothing.
_ASCII_TABLES = {tab: _ascii_table(tab) for tab in ("\t", " " * TAB_SPACES)}
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


def _ascii_stretch(text: str, table: dict[str, str]) -> str:
    return _ASCII_UNSAFE.sub(lambda match: table[match.group()], text)


def _ascii(text: str, tab: str) -> str:
    return _ascii_stretch(text.replace("\r\n", "\n"), _ASCII_TABLES[tab])


def _unicode(text: str, tab: str) -> str:
    """ASCII stretches by regex, the non-ASCII ones a character at a time (combining marks need to
    know what came before them)."""
    text = text.replace("\r\n", "\n")
    table = _ASCII_TABLES[tab]
    out: list[str] = []
    marks = 0  # combining marks on the current base so far
    based = False  # the previous character shown can carry a combining mark
    position = 0
    for run in _NON_ASCII_RUN.finditer(text):
        if run.start() > position:
            stretch = text[position : run.start()]
            out.append(_ascii_stretch(stretch, table))
            last = stretch[-1]
            based, marks = last == "\t" or " " <= last < "\x7f", 0
        position = run.end()
        for char in run.group():
            kind = _kind(char)
            if kind == "ok":
                out.append(char)
                based, marks = True, 0
            elif kind == "mark":
                if not based:
                    out.append(DOTTED_CIRCLE)
                    based, marks = True, 0
                marks += 1
                if marks <= MAX_MARKS:
                    out.append(char)
            elif kind == "escape":
                out.append(_escape(char))
                based, marks = False, 0
            # "drop": not drawn
    if position < len(text):
        out.append(_ascii_stretch(text[position:], table))
    return "".join(out)


def one_line(text: str) -> str:
    """`visible(text)` for a place that has one line (a list row, a title): newlines as ⏎."""
    return visible(text).replace("\n", "⏎")
