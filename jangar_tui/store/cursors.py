"""Page cursors of the contract: valid only for the list they came from (tests/contract/README.md).

A cursor is the base64url (unpadded) encoding of the UTF-8 JSON envelope
`{"v":1,"fn":<contract function>,"key":<the value it lists by>,"inner":<string|null>}`, the same
format as `convex/lib/pagination.ts`. `inner` is the backend's own position (the embedded store's
`<sort key>:<seq>`, Convex's cursor); null is the end of a list that had nothing to page. A cursor
of another function or key, an empty string or anything malformed is `INVALID_ARGUMENT`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from jangar_tui.models import ErrorCode, JangarError

CURSOR_VERSION = 1
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class ListIdentity:
    """Which list a cursor belongs to: the contract function and the value it lists by."""

    fn: str
    key: str


def encode_cursor(list_: ListIdentity, inner: str | None) -> str:
    envelope = {"v": CURSOR_VERSION, "fn": list_.fn, "key": list_.key, "inner": inner}
    text = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def invalid_cursor() -> JangarError:
    return JangarError(
        ErrorCode.INVALID_ARGUMENT, "That page cursor is not valid for this list; start again from the first page."
    )


def open_cursor(list_: ListIdentity, cursor: Any) -> str | None:
    """The backend position inside `cursor` (None: the list's end); INVALID_ARGUMENT unless `list_` made it."""
    if not isinstance(cursor, str):
        raise JangarError(ErrorCode.INVALID_ARGUMENT, "cursor must be a string or null.")
    if not _BASE64URL.fullmatch(cursor):
        raise invalid_cursor()
    try:
        envelope = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (ValueError, binascii.Error):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise invalid_cursor() from None
    if not isinstance(envelope, dict) or set(envelope) != {"v", "fn", "key", "inner"}:
        raise invalid_cursor()
    version, inner = envelope["v"], envelope["inner"]
    if (
        isinstance(version, bool)
        or version != CURSOR_VERSION
        or envelope["fn"] != list_.fn
        or envelope["key"] != list_.key
        or not (inner is None or (isinstance(inner, str) and inner))
    ):
        raise invalid_cursor()
    return inner
