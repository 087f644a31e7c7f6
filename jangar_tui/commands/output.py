"""What a command prints: one JSON document per result with `--json`, else text for a person.

JSON is written with `ensure_ascii` and DEL escaped too, so it holds no byte a terminal acts on
whatever the data says. Text shows data only through `shown`/`shown_line`: control characters
and invisible formatting characters become visible escapes, so stored text can never reach the
terminal as an escape sequence.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from pydantic import BaseModel

from jangar_tui.models import ChatMessage, ChatSession, JangarError, Page, WorkOrder


def shown(text: str) -> str:
    """`text` with every character a terminal could obey (or that hides itself) made visible."""
    out: list[str] = []
    for char in text.replace("\r\n", "\n"):
        code = ord(char)
        if char == "\n" or 0x20 <= code < 0x7F:
            out.append(char)
        elif char == "\t":
            out.append("    ")
        elif code < 0x20 or code == 0x7F:
            out.append(chr(0x2400 + code) if code < 0x20 else "␡")
        elif code < 0xA0 or unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(char)
    return "".join(out)


def shown_line(text: str) -> str:
    """`shown(text)` for one line of a table: newlines as ⏎."""
    return shown(text).replace("\n", "⏎")


def to_json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), sort_keys=False)
    return text.replace("\x7f", "\\u007f")


def record(model: BaseModel) -> dict[str, Any]:
    """A row as its contract columns (`_id` and all), absent optional columns as null."""
    return model.model_dump(mode="json", by_alias=True)


def timestamp(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


class Printer:
    """Writes each result either as one line of JSON or as the text lines given with it."""

    def __init__(self, stream: TextIO, *, as_json: bool) -> None:
        self.stream = stream
        self.as_json = as_json

    def emit(self, document: Any, text: Iterable[str]) -> None:
        if self.as_json:
            self.stream.write(to_json(document) + "\n")
        else:
            for line in text:
                self.stream.write(line + "\n")
        self.stream.flush()

    def error(self, error: JangarError, err_stream: TextIO) -> None:
        if self.as_json:
            self.emit({"error": {"code": error.code.value, "message": error.message}}, ())
        else:
            err_stream.write(f"jangar: {error.code.value}: {shown_line(error.message)}\n")
            err_stream.flush()


# -- text forms of the records -------------------------------------------------------------------


def session_line(session: ChatSession) -> str:
    return f"{session.id}  {timestamp(session.lastMessageAt)}  {shown_line(session.title)}"


def message_lines(message: ChatMessage) -> list[str]:
    head = f"{message.id}  {timestamp(message.createdAt)}  {message.role.value}"
    return [head, *("    " + line for line in shown(message.content).split("\n"))]


def work_order_line(work_order: WorkOrder) -> str:
    target = shown_line(work_order.targetRepo or "-")
    if work_order.targetBranch:
        target += "@" + shown_line(work_order.targetBranch)
    title = shown_line(work_order.title or "(untitled)")
    return f"{work_order.id}  {work_order.status.value:<10} {timestamp(work_order.updatedAt)}  {title}  {target}"


def work_order_fields(work_order: WorkOrder) -> list[str]:
    fields: list[tuple[str, str | None]] = [
        ("id", work_order.id),
        ("status", work_order.status.value),
        ("title", work_order.title),
        ("session", work_order.sessionId),
        ("workflow", work_order.workflowId),
        ("repo", work_order.targetRepo),
        ("branch", work_order.targetBranch),
        ("issue", work_order.githubIssueUrl),
        ("pr", work_order.prUrl),
        ("requested by", work_order.requestedBy),
        ("created", timestamp(work_order.createdAt)),
        ("updated", timestamp(work_order.updatedAt)),
    ]
    lines = [f"{name + ':':<14}{shown_line(value)}" for name, value in fields if value]
    if work_order.prompt:
        lines.append("prompt:")
        lines.extend("    " + line for line in shown(work_order.prompt).split("\n"))
    return lines


def page_document(page: Page[Any]) -> dict[str, Any]:
    return {"page": [record(item) for item in page.page], "isDone": page.isDone, "continueCursor": page.continueCursor}


def page_lines(page: Page[Any], lines: list[str]) -> list[str]:
    """The rows of a page, and how to ask for the next one when there is one."""
    if not page.isDone and page.continueCursor:
        return [*lines, f"(more: --cursor {shown_line(page.continueCursor)})"]
    return lines
