"""Argument checks of the contract (tests/contract/README.md), for the Python stores.

Each function takes a raw argument (it may come from JSON, so anything) and returns the clean
value or raises `JangarError(INVALID_ARGUMENT)` with a sentence naming the argument. The limits
come from `jangar_tui.models`, which mirrors `convex/lib/limits.ts`; the text rules (trimming,
URLs, repositories, branches, lone surrogates) are explicit character classes and patterns
written identically in `convex/lib/text.ts`, never Python's own idea of whitespace or of a URL.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from jangar_tui.models import (
    CONTENT_MAX_BYTES,
    EVENT_METADATA_MAX_BYTES,
    EVENT_TEXT_MAX_BYTES,
    EVENTS_PER_APPEND_MAX,
    METADATA_MAX_ARRAY_ITEMS,
    METADATA_MAX_BYTES,
    METADATA_MAX_DEPTH,
    METADATA_MAX_FIELD_NAME_CHARS,
    METADATA_MAX_OBJECT_FIELDS,
    PAGE_SIZE_MAX,
    PROMPT_MAX_BYTES,
    SEARCH_LIMIT_MAX,
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
TARGET_REPO_MAX_CHARS = 500
TARGET_BRANCH_MAX_CHARS = 200
WORKFLOW_ID = re.compile(r"[A-Za-z0-9._:-]{1,200}")
CREATE_STATUSES = frozenset({WorkOrderStatus.DRAFT, WorkOrderStatus.SUBMITTED})

# --- text: the same classes and patterns as convex/lib/text.ts --------------------------------

# Whitespace: Unicode White_Space, plus U+FEFF (a byte-order mark pasted with a title).
_SPACE = "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
_TRIM = re.compile(f"^[{_SPACE}]+|[{_SPACE}]+$")
# Never in a URL, repository or branch: whitespace, C0 and C1 controls, DEL.
_SPACE_OR_CONTROL = re.compile(f"[{_SPACE}\\u0000-\\u001f\\u007f-\\u009f]")
_LONE_SURROGATE = re.compile("[\\ud800-\\udfff]")
# A host: a DNS name (labels of letters, digits and inner "-") or an IPv6 literal in brackets.
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = f"(?:{_LABEL}(?:\\.{_LABEL})*|\\[[0-9A-Fa-f:.]+\\])"
_PORT = "(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?"
# A path segment of a repository: not "." or "..", not starting with "-".
_SEGMENT = "(?!\\.\\.?(?:/|$))[A-Za-z0-9._~][A-Za-z0-9._~-]*"
_REPO_PATH = f"{_SEGMENT}(?:/{_SEGMENT})*/?"
_USER = "[A-Za-z0-9._][A-Za-z0-9._-]*"
# A GitHub owner or repository name.
_NAME = "(?!\\.\\.?(?:/|$))[A-Za-z0-9._][A-Za-z0-9._-]*"
HTTP_URL = re.compile(f"^[Hh][Tt][Tt][Pp][Ss]?://{_HOST}{_PORT}(?:[/?#].*)?$", re.DOTALL)
# What a remote repository can be: https, ssh://, scp-like user@host:path, or GitHub's owner/repo.
REMOTE_REPO = (
    re.compile(f"^[Hh][Tt][Tt][Pp][Ss]://{_HOST}{_PORT}/{_REPO_PATH}$"),
    re.compile(f"^[Ss][Ss][Hh]://(?:{_USER}@)?{_HOST}{_PORT}/{_REPO_PATH}$"),
    re.compile(f"^{_USER}@{_HOST}:/?{_REPO_PATH}$"),
    re.compile(f"^{_NAME}/{_NAME}$"),
)
GITHUB_SHORTHAND = REMOTE_REPO[3]
# A repository on this machine, allowed only with JANGAR_ALLOW_LOCAL_REPOS (development).
_LOCAL_REPO = re.compile("^(?:file://)?/")
# A metadata field name: printable ASCII, not starting with "$" or "_" (Convex reserves them).
_FIELD_NAME = re.compile("^[\\x20-\\x23\\x25-\\x5e\\x60-\\x7e][\\x20-\\x7e]*$")
# A Python int is sent to Convex as a float64; beyond this it would not stay exact.
_MAX_SAFE_INT = 2**53


def trim(value: str) -> str:
    return _TRIM.sub("", value)


def is_blank(value: str) -> bool:
    return trim(value) == ""


def has_space_or_control(value: str) -> bool:
    return _SPACE_OR_CONTROL.search(value) is not None


def is_git_branch_name(branch: str) -> bool:
    """git check-ref-format's rules for a branch name, plus no leading "-" (it would read as an option)."""
    return not (
        branch.startswith(("-", "/"))
        or branch.endswith(("/", "."))
        or any(part in branch for part in ("//", "..", "@{"))
        or branch in ("@", "HEAD")
        or any(c in "~^:?*[\\" for c in branch)
        or any(part.startswith(".") or part.endswith(".lock") for part in branch.split("/"))
    )


def invalid(message: str) -> JangarError:
    return JangarError(ErrorCode.INVALID_ARGUMENT, message)


def string(name: str, value: object) -> str:
    """A string argument; one holding a lone surrogate is not Unicode text (production Convex
    refuses it when it decodes the arguments), so it is refused here, before anything else."""
    if not isinstance(value, str):
        raise invalid(f"{name} must be a string.")
    if _LONE_SURROGATE.search(value):
        raise invalid(f"{name} holds a lone surrogate (U+D800–U+DFFF): it is not valid Unicode text.")
    return value


def well_formed(name: str, value: object) -> None:
    """Refuses a lone surrogate anywhere in `value` (strings, and the keys and items of dicts and
    lists), as production Convex refuses it while decoding the arguments."""
    if isinstance(value, str):
        string(name, value)
    elif isinstance(value, dict):
        for key, item in value.items():
            well_formed(name, key)
            well_formed(name, item)
    elif isinstance(value, list | tuple):
        for item in value:
            well_formed(name, item)


def user_id(value: object) -> str:
    value = string("userId", value)
    if is_blank(value) or len(value) > USER_ID_MAX_CHARS:
        raise invalid(f"userId must be 1-{USER_ID_MAX_CHARS} characters.")
    return value


def title(value: object, name: str = "title") -> str:
    """Trimmed; 1..TITLE_MAX_CHARS characters after trimming."""
    value = trim(string(name, value))
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


def prompt(value: object, name: str = "prompt") -> str:
    """`name`: what the caller's operator calls it ("note" for a follow-up's)."""
    value = string(name, value)
    if _utf8_size(name, value) > PROMPT_MAX_BYTES:
        raise invalid(f"The {name} is larger than {PROMPT_MAX_BYTES // 1024} KiB.")
    return value


def metadata_json(value: Any, limit: int = METADATA_MAX_BYTES, name: str = "metadata") -> str | None:
    """The metadata as compact JSON text (None stays None), if it is plain JSON within what
    production Convex stores (tests/contract/README.md, "Metadata"), at most `limit` bytes."""
    if value is None:
        return None
    problem = _metadata_problem(value, 1)
    if problem is not None:
        raise invalid(f"{name} must be plain JSON: {problem}.")
    text = json.dumps(value, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    if _utf8_size(name, text) > limit:
        raise invalid(f"{name} is larger than {limit // 1024} KiB.")
    return text


def _metadata_problem(value: Any, depth: int) -> str | None:
    """What makes `value` (at nesting `depth`, the outermost value being 1) not allowed, or None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if abs(value) <= _MAX_SAFE_INT else f"the integer {value} is beyond 2^53"
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value} is not a finite number"
    if isinstance(value, str):
        return "a string holds a lone surrogate" if _LONE_SURROGATE.search(value) else None
    if not isinstance(value, list | dict):
        return f"{type(value).__name__} values are not allowed"
    if depth > METADATA_MAX_DEPTH:
        return f"it nests deeper than {METADATA_MAX_DEPTH} levels"
    if isinstance(value, list):
        if len(value) > METADATA_MAX_ARRAY_ITEMS:
            return f"an array has more than {METADATA_MAX_ARRAY_ITEMS} items"
        items = value
    else:
        if len(value) > METADATA_MAX_OBJECT_FIELDS:
            return f"an object has more than {METADATA_MAX_OBJECT_FIELDS} fields"
        for name in value:
            if not isinstance(name, str) or len(name) > METADATA_MAX_FIELD_NAME_CHARS or not _FIELD_NAME.match(name):
                return (
                    f"the field name {name!r} is not 1 to {METADATA_MAX_FIELD_NAME_CHARS} printable ASCII "
                    'characters not starting with "$" or "_"'
                )
        items = list(value.values())
    for item in items:
        problem = _metadata_problem(item, depth + 1)
        if problem is not None:
            return problem
    return None


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
    if len(value) > URL_MAX_CHARS or has_space_or_control(value) or not HTTP_URL.match(value):
        raise invalid(f"{name} must be an http(s) URL.")
    return value


def target_repo(value: object, allow_local: bool = False, name: str = "targetRepo") -> str:
    """A remote repository; a path on this machine (or file://) only when `allow_local`. `name`,
    here and below: the argument as the caller's operator knows it (a form's label, a flag)."""
    value = string(name, value)
    if (
        1 <= len(value) <= TARGET_REPO_MAX_CHARS
        and not has_space_or_control(value)
        and (any(form.match(value) for form in REMOTE_REPO) or (allow_local and _LOCAL_REPO.match(value)))
    ):
        return value
    forms = (
        "https://…, ssh://…, user@host:path, owner/repo or a local path"
        if allow_local
        else ("https://…, ssh://…, user@host:path or owner/repo")
    )
    raise invalid(f"{name} must be {forms}.")


def target_branch(value: object, name: str = "targetBranch") -> str:
    value = string(name, value)
    if not (1 <= len(value) <= TARGET_BRANCH_MAX_CHARS) or has_space_or_control(value) or not is_git_branch_name(value):
        raise invalid(f"{name} must be a git branch name, not starting with '-'.")
    return value


def requested_by(value: object) -> str:
    value = string("requestedBy", value)
    if is_blank(value) or len(value) > USER_ID_MAX_CHARS:
        raise invalid(f"requestedBy must be 1-{USER_ID_MAX_CHARS} characters.")
    return value


def page_size(value: Any, name: str = "numItems") -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON clients may send 50.0
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= PAGE_SIZE_MAX:
        raise invalid(f"{name} must be a whole number from 1 to {PAGE_SIZE_MAX}.")
    return value


def search_limit(value: Any, name: str = "limit") -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= SEARCH_LIMIT_MAX:
        raise invalid(f"{name} must be a whole number from 1 to {SEARCH_LIMIT_MAX}.")
    return value


def watch_limit(value: Any, maximum: int = 10_000) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= maximum:
        raise invalid(f"limit must be a whole number from 1 to {maximum}.")
    return value
