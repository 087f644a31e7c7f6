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
    METADATA_MAX_BYTES,
    PAGE_SIZE_MAX,
    PROMPT_MAX_BYTES,
    TITLE_MAX_CHARS,
    ErrorCode,
    JangarError,
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


def metadata_json(value: Any) -> str | None:
    """The metadata as compact JSON text (None stays None), at most METADATA_MAX_BYTES."""
    if value is None:
        return None
    try:
        text = json.dumps(value, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        raise invalid(
            "metadata must be plain JSON (objects, arrays, strings, finite numbers, booleans, null)."
        ) from None
    if _utf8_size("metadata", text) > METADATA_MAX_BYTES:
        raise invalid(f"metadata is larger than {METADATA_MAX_BYTES // 1024} KiB.")
    return text


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
