"""What a command prints: one JSON document per result with `--json`, else text for a person.

JSON is written with `ensure_ascii` and DEL escaped too, so it holds no byte a terminal acts on
whatever the data says. Text shows data only through `jangar_tui.text_safety`: control characters
and invisible formatting characters become visible escapes, so stored text can never reach the
terminal as an escape sequence.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from pydantic import BaseModel

from jangar_tui.models import ChatMessage, ChatSession, JangarError, Page, WorkOrder
from jangar_tui.text_safety import one_line, visible


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
            err_stream.write(f"jangar: {error.code.value}: {one_line(error.message)}\n")
            err_stream.flush()


# -- text forms of the records -------------------------------------------------------------------


def session_line(session: ChatSession) -> str:
    return f"{session.id}  {timestamp(session.lastMessageAt)}  {one_line(session.title)}"


def message_lines(message: ChatMessage) -> list[str]:
    head = f"{message.id}  {timestamp(message.createdAt)}  {message.role.value}"
    return [head, *("    " + line for line in visible(message.content).split("\n"))]


def work_order_line(work_order: WorkOrder) -> str:
    target = one_line(work_order.targetRepo or "-")
    if work_order.targetBranch:
        target += "@" + one_line(work_order.targetBranch)
    title = one_line(work_order.title or "(untitled)")
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
        ("follow-up of", work_order.followUpOf),
        ("requested by", work_order.requestedBy),
        ("created", timestamp(work_order.createdAt)),
        ("updated", timestamp(work_order.updatedAt)),
    ]
    lines = [f"{name + ':':<14}{one_line(value)}" for name, value in fields if value]
    if work_order.prompt:
        lines.append("prompt:")
        lines.extend("    " + line for line in visible(work_order.prompt).split("\n"))
    return lines


def page_document(page: Page[Any]) -> dict[str, Any]:
    return {"page": [record(item) for item in page.page], "isDone": page.isDone, "continueCursor": page.continueCursor}


def page_lines(page: Page[Any], lines: list[str]) -> list[str]:
    """The rows of a page, and how to ask for the next one when there is one."""
    if not page.isDone and page.continueCursor:
        return [*lines, f"(more: --cursor {one_line(page.continueCursor)})"]
    return lines
