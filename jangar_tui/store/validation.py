"""Argument checks of the contract (tests/contract/README.md), for the Python stores.

Each function takes a raw argument (it may come from JSON, so anything) and returns the clean
value or raises `JangarError(INVALID_ARGUMENT)` with a sentence naming the argument. The limits
come from `jangar_tui.models`, which mirrors `convex/lib/limits.ts`.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from jangar_tui.models import (
    CONTENT_MAX_BYTES,
    EVENT_METADATA_MAX_BYTES,
    EVENT_TEXT_MAX_BYTES,
    EVENTS_PER_APPEND_MAX,
    METADATA_MAX_BYTES,
    PAGE_SIZE_MAX,
    PROMPT_MAX_BYTES,
    TITLE_MAX_CHARS,
    ErrorCode,
    EventKind,
    JangarError,
    NewEvent,
    Role,
    WorkOrderStatus,
)

USER_ID_MAX_CHARS = 200
URL_MAX_CHARS = 2048
WORKFLOW_ID = re.compile(r"[A-Za-z0-9._:-]{1,200}")
_NO_SPACE_OR_CONTROL = re.compile(r"[^\s\x00-\x1f\x7f]+")
CREATE_STATUSES = frozenset({WorkOrderStatus.DRAFT, WorkOrderStatus.SUBMITTED})


def invalid(message: str) -> JangarError:
    return JangarError(ErrorCode.INVALID_ARGUMENT, message)


def string(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise invalid(f"{name} must be a string.")
    return value


def user_id(value: object) -> str:
    value = string("userId", value)
    if not value.strip() or len(value) > USER_ID_MAX_CHARS:
        raise invalid(f"userId must be 1-{USER_ID_MAX_CHARS} characters.")
    return value


def title(value: object, name: str = "title") -> str:
    """Trimmed; 1..TITLE_MAX_CHARS characters after trimming."""
    value = string(name, value).strip()
    if not value:
        raise invalid(f"The {name} cannot be empty.")
    if len(value) > TITLE_MAX_CHARS:
        raise invalid(f"The {name} is longer than {TITLE_MAX_CHARS} characters.")
    return value


def _utf8_size(name: str, value: str) -> int:
    try:
        return len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise invalid(f"{name} is not valid Unicode text.") from None


def content(value: object) -> str:
    value = string("content", value)
    if not value:
        raise invalid("The message cannot be empty.")
    if _utf8_size("content", value) > CONTENT_MAX_BYTES:
        raise invalid(f"The message is larger than {CONTENT_MAX_BYTES // 1024} KiB.")
    return value


def prompt(value: object) -> str:
    value = string("prompt", value)
    if _utf8_size("prompt", value) > PROMPT_MAX_BYTES:
        raise invalid(f"The prompt is larger than {PROMPT_MAX_BYTES // 1024} KiB.")
    return value


def metadata_json(value: Any, limit: int = METADATA_MAX_BYTES, name: str = "metadata") -> str | None:
    """The metadata as compact JSON text (None stays None), at most `limit` bytes."""
    if value is None:
        return None
    try:
        text = json.dumps(value, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        raise invalid(
            f"{name} must be plain JSON (objects, arrays, strings, finite numbers, booleans, null)."
        ) from None
    if _utf8_size(name, text) > limit:
        raise invalid(f"{name} is larger than {limit // 1024} KiB.")
    return text


_EVENT_KEYS = frozenset({"kind", "text", "metadata"})


def event_shapes(value: Any) -> list[NewEvent]:
    """The types of an event batch (what Convex's validators check before anything else)."""
    if not isinstance(value, list):
        raise invalid("events must be a list of {kind, text, metadata?}.")
    batch: list[NewEvent] = []
    for index, item in enumerate(value):
        raw = item.model_dump() if isinstance(item, NewEvent) else item
        if not isinstance(raw, dict) or not raw.keys() <= _EVENT_KEYS:
            raise invalid(f"events[{index}] must be an object with kind, text and an optional metadata.")
        try:
            kind = EventKind(string(f"events[{index}].kind", raw.get("kind")))
        except ValueError:
            raise invalid(f"events[{index}].kind must be one of {', '.join(k.value for k in EventKind)}.") from None
        text = string(f"events[{index}].text", raw.get("text"))
        batch.append(NewEvent.model_construct(kind=kind, text=text, metadata=raw.get("metadata")))
    return batch


def event_batch(batch: list[NewEvent]) -> list[tuple[EventKind, str, str | None]]:
    """The sizes of a typed batch: 1..EVENTS_PER_APPEND_MAX events, bounded text and metadata."""
    if not 1 <= len(batch) <= EVENTS_PER_APPEND_MAX:
        raise invalid(f"events must hold 1 to {EVENTS_PER_APPEND_MAX} events; got {len(batch)}.")
    clean = []
    for index, event in enumerate(batch):
        if _utf8_size(f"events[{index}].text", event.text) > EVENT_TEXT_MAX_BYTES:
            raise invalid(f"events[{index}].text is larger than {EVENT_TEXT_MAX_BYTES // 1024} KiB: shorten it.")
        metadata = metadata_json(event.metadata, EVENT_METADATA_MAX_BYTES, f"events[{index}].metadata")
        clean.append((event.kind, event.text, metadata))
    return clean


def seq(value: Any, name: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise invalid(f"{name} must be a whole number, 0 or more.")
    return value


def role(value: Any) -> Role:
    try:
        return Role(string("role", value))
    except ValueError:
        raise invalid(f"role must be one of {', '.join(r.value for r in Role)}.") from None


def status(value: Any, name: str = "status") -> WorkOrderStatus:
    try:
        return WorkOrderStatus(string(name, value))
    except ValueError:
        raise invalid(f"{name} must be one of {', '.join(s.value for s in WorkOrderStatus)}.") from None


def create_status(value: Any) -> WorkOrderStatus:
    result = status(value)
    if result not in CREATE_STATUSES:
        raise invalid("A new work order starts as draft or submitted.")
    return result


def workflow_id(value: object) -> str:
    value = string("workflowId", value)
    if not WORKFLOW_ID.fullmatch(value):
        raise invalid("workflowId must be 1-200 characters of letters, digits and . _ : -")
    return value


def http_url(name: str, value: object) -> str:
    value = string(name, value)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise invalid(f"{name} must be an http(s) URL.") from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or len(value) > URL_MAX_CHARS
        or not _NO_SPACE_OR_CONTROL.fullmatch(value)
    ):
        raise invalid(f"{name} must be an http(s) URL.")
    return value


def target_repo(value: object) -> str:
    value = string("targetRepo", value)
    if not (1 <= len(value) <= 500) or not _NO_SPACE_OR_CONTROL.fullmatch(value):
        raise invalid("targetRepo must be 1-500 characters without spaces or control characters.")
    return value


def target_branch(value: object) -> str:
    value = string("targetBranch", value)
    if not (1 <= len(value) <= 200) or not _NO_SPACE_OR_CONTROL.fullmatch(value) or value.startswith("-"):
        raise invalid("targetBranch must be 1-200 characters without spaces, not starting with '-'.")
    return value


def requested_by(value: object) -> str:
    value = string("requestedBy", value)
    if not value.strip() or len(value) > USER_ID_MAX_CHARS:
        raise invalid(f"requestedBy must be 1-{USER_ID_MAX_CHARS} characters.")
    return value


def page_size(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON clients may send 50.0
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= PAGE_SIZE_MAX:
        raise invalid(f"numItems must be a whole number from 1 to {PAGE_SIZE_MAX}.")
    return value


def watch_limit(value: Any, maximum: int = 10_000) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= maximum:
        raise invalid(f"limit must be a whole number from 1 to {maximum}.")
    return value
