"""The JSON every command prints with `--json`: one JSON Schema per command (the stable interface).

Records are the contract rows with the columns docs/architecture.md names (`_id` included, timestamps in epoch
milliseconds, an absent optional column as null). Lists are one page, as Convex paginates:
`{"page": [...], "isDone", "continueCursor"}`. A refused command prints `ERROR` instead (and exits
with its code). tests/test_commands.py validates every command's output against these; adding a
field is compatible, renaming or removing one is not.
"""

from __future__ import annotations

from typing import Any

from jangar_tui.models import ErrorCode, EventKind, Role, SearchKind, WorkOrderStatus

_MS = {"type": "integer"}
_TEXT = {"type": "string"}
_OPTIONAL_TEXT = {"type": ["string", "null"]}


def _row(**columns: Any) -> dict[str, Any]:
    properties = {"_id": _TEXT, "createdAt": _MS, "updatedAt": _MS, "deletedAt": {"type": ["integer", "null"]}}
    properties.update(columns)
    return {"type": "object", "properties": properties, "required": sorted(properties), "additionalProperties": False}


SESSION = _row(userId=_TEXT, title=_TEXT, lastMessageAt=_MS)
MESSAGE = _row(sessionId=_TEXT, role={"enum": [r.value for r in Role]}, content=_TEXT, metadata={})
WORK_ORDER = _row(
    sessionId=_TEXT,
    workflowId=_TEXT,
    status={"enum": [s.value for s in WorkOrderStatus]},
    githubIssueUrl=_OPTIONAL_TEXT,
    prompt=_OPTIONAL_TEXT,
    title=_OPTIONAL_TEXT,
    requestedBy=_OPTIONAL_TEXT,
    targetRepo=_OPTIONAL_TEXT,
    targetBranch=_OPTIONAL_TEXT,
    prUrl=_OPTIONAL_TEXT,
    followUpOf=_OPTIONAL_TEXT,
)
EVENT = _row(
    workOrderId=_TEXT, seq={"type": "integer"}, kind={"enum": [k.value for k in EventKind]}, text=_TEXT, metadata={}
)


def _object(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": sorted(properties), "additionalProperties": False}


def _page(item: dict[str, Any]) -> dict[str, Any]:
    return _object(page={"type": "array", "items": item}, isDone={"type": "boolean"}, continueCursor=_OPTIONAL_TEXT)


_MAYBE_MESSAGE = {"anyOf": [MESSAGE, {"type": "null"}]}

ERROR = _object(error=_object(code={"enum": [c.value for c in ErrorCode]}, message=_TEXT))

# Each line `wo logs` prints is one of these, told apart by "type".
LOG_LINE = {
    "oneOf": [
        _object(type={"const": "workOrder"}, workOrder=WORK_ORDER),
        _object(type={"const": "event"}, event=EVENT),
        _object(type={"const": "result"}, result=_MAYBE_MESSAGE),
    ]
}

SEARCH_HIT = {
    "type": "object",
    "properties": {
        "kind": {"enum": [k.value for k in SearchKind]},
        "sessionId": _TEXT,
        "sessionTitle": _TEXT,
        "messageId": _OPTIONAL_TEXT,
        "workOrderId": _OPTIONAL_TEXT,
        "workOrderTitle": _OPTIONAL_TEXT,
        "field": {"enum": ["title", "content", "prompt", "targetRepo"]},
        "excerpt": _TEXT,
        "at": _MS,
        "role": {"enum": [*(r.value for r in Role), None]},
        "status": {"enum": [*(s.value for s in WorkOrderStatus), None]},
    },
    "required": [
        "kind",
        "sessionId",
        "sessionTitle",
        "messageId",
        "workOrderId",
        "workOrderTitle",
        "field",
        "excerpt",
        "at",
        "role",
        "status",
    ],
    "additionalProperties": False,
}
_HITS = {"type": "array", "items": SEARCH_HIT}

WORKSPACE = _object(
    workOrderId=_TEXT,
    lastUsedBy=_OPTIONAL_TEXT,
    targetRepo=_TEXT,
    path=_TEXT,
    exists={"type": "boolean"},
    bytes={"type": "integer"},
)

# "noun verb" (or the one word of a command without verbs) -> the schema of each JSON line it prints.
COMMAND_SCHEMAS: dict[str, dict[str, Any]] = {
    "session list": _page(SESSION),
    "session new": SESSION,
    "session rename": SESSION,
    "session rm": _object(_id=_TEXT, removed={"const": True}),
    "session restore": SESSION,
    "message list": _page(MESSAGE),
    "message send": MESSAGE,
    "wo list": _page(WORK_ORDER),
    # worker: the name of the worker that ran its agent (JANGAR_WORKER_NAME), when known.
    "wo show": _object(workOrder=WORK_ORDER, result=_MAYBE_MESSAGE, worker=_OPTIONAL_TEXT),
    "wo new": WORK_ORDER,
    "wo launch": WORK_ORDER,
    "wo cancel": WORK_ORDER,
    "wo retry": WORK_ORDER,
    "wo follow-up": WORK_ORDER,
    "wo logs": LOG_LINE,
    "search": {
        **_object(sessions=_HITS, messages=_HITS, workOrders=_HITS),
        # Only while the embedded store still indexes the messages of a file from before search.
        "properties": {
            "sessions": _HITS,
            "messages": _HITS,
            "workOrders": _HITS,
            "indexing": _object(indexed={"type": "integer"}, total={"type": "integer"}),
        },
    },
    "workspace list": _object(
        workspaces={"type": "array", "items": WORKSPACE},
        caches={"type": "array", "items": _object(path=_TEXT, bytes={"type": "integer"})},
        totalBytes={"type": "integer"},
    ),
    "workspace rm": {
        "oneOf": [
            _object(workOrderId=_TEXT, removed={"const": False}),
            _object(workOrderId=_TEXT, removed={"const": True}, path=_TEXT, freedBytes={"type": "integer"}),
        ]
    },
    "config": _object(
        configFile=_TEXT,
        exists={"type": "boolean"},
        variables={
            "type": "object",
            "additionalProperties": _object(
                value=_OPTIONAL_TEXT, source={"enum": ["environment", "config file", "default"]}
            ),
        },
        settings={"type": "object"},
        # config.toml's [keys] as written (action id -> keys), checked as the app checks them at start.
        keys={"type": "object", "additionalProperties": _TEXT},
        # Every key binding the app would make: binding id -> Textual's key names, and whether [keys] set it.
        bindings={"type": "object", "additionalProperties": _object(keys=_TEXT, fromConfig={"type": "boolean"})},
        agents={"type": "array", "items": _TEXT},
    ),
}
