"""Hostile strings for the terminal-safety tests: each kind of sequence a terminal obeys, with a
unique payload, so that the test can tell data's bytes from the app's own escape sequences."""

from __future__ import annotations

import re

# name -> the hostile text. Each starts with a marker ("ZQ" + name) that is plain text, so the
# test can wait for the string to be drawn; what follows must never reach the terminal raw.
PAYLOADS: dict[str, str] = {
    "csi": "\x1b[4242;4242H\x1b[2J\x1b[?4242h\x1b[31;4242m",  # cursor move, clear, a mode, colour
    "osc52": "\x1b]52;c;WlFPU0M1Mg==\x07",  # write the clipboard
    "osc8": "\x1b]8;;file:///zq-osc8\x1b\\click me\x1b]8;;\x1b\\",  # a hyperlink
    "dcs": "\x1bPzq-dcs\x1b\\",  # device control string
    "wintitle": "\x1b]2;ZQpwned\x07",  # set the window title
    "c1": "\x9b4242;4242H\x9d52;c;QzE=\x9c\x90zq\x9c",  # the 8-bit forms of CSI, OSC, ST, DCS
    "c0": "a\x00b\x07c\x08d\x7fe\x0bf\x0cg\rh",  # NUL, BEL, BS, DEL, VT, FF, CR
    "markup": "[/] [link=file:///zq-link]L[/link] [@click=app.quit]Q[/] list[int] [b]bold[/b]",
    "unicode": "日本語👩\u200d💻e\u0301\u0301\u0301\u0301\u0301\u202eRTL\u202c\u200bzw\ufeff❤\ufe0f",
    "long": "W" * 3000,
}


def hostile(name: str, limit: int | None = None) -> str:
    text = f"ZQ{name} {PAYLOADS[name]}"
    return text[:limit] if limit else text


ALL = " ".join(hostile(name, 40) for name in PAYLOADS)  # short enough for three messages on screen


def _utf8_alternatives(codes: list[int]) -> re.Pattern[bytes]:
    return re.compile(b"|".join(re.escape(chr(code).encode()) for code in codes))


# Bytes that must never appear in what the app writes to its terminal: the payloads' own
# sequences (unique parameters, so never Textual's), any C1 control or DEL, bidi and zero-width
# format characters, and OSC 52 / OSC 8 / window titles at all (Jangar writes none of them unless
# the operator copies something, which these tests do not).
FORBIDDEN: dict[str, re.Pattern[bytes]] = {
    "CSI from data": re.compile(rb"\x1b\[4242|\x1b\[\?4242|\x1b\[31;4242"),
    "OSC 52 (clipboard)": re.compile(rb"\x1b\]52"),
    "OSC 8 (hyperlink)": re.compile(rb"\x1b\]8;"),
    "OSC 0/2 (window title)": re.compile(rb"\x1b\][012];"),
    "DCS from data": re.compile(rb"\x1bPzq"),
    "C1 control": re.compile(rb"\xc2[\x80-\x9f]"),
    "DEL": re.compile(rb"\x7f"),
    "NUL": re.compile(rb"\x00"),
    "bidi control": _utf8_alternatives([*range(0x202A, 0x202F), *range(0x2066, 0x206A)]),
    "zero-width / BOM": _utf8_alternatives([0x200B, 0x200C, 0x200D, 0xFEFF]),
}


def forbidden_in(raw: bytes) -> dict[str, list[bytes]]:
    """Each forbidden kind found in `raw`, with a little context around the first few hits."""
    found: dict[str, list[bytes]] = {}
    for what, pattern in FORBIDDEN.items():
        hits = [raw[max(0, m.start() - 30) : m.end() + 30] for m in pattern.finditer(raw)][:3]
        if hits:
            found[what] = hits
    return found
