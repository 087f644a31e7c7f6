"""The vocabulary of Jangar: records, enums, the work-order status machine and the error type.

Everything below the UI speaks in these types. The status machine lives here and nowhere else in
Python (its TypeScript twin is `convex/lib/statusMachine.ts`); the limits mirror
`convex/lib/limits.ts` and are checked against it by a test.
"""

from __future__ import annotations

import enum
import uuid
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

# --- limits (same numbers as convex/lib/limits.ts) -------------------------------------------

TITLE_MAX_CHARS = 200
CONTENT_MAX_BYTES = 256 * 1024
METADATA_MAX_BYTES = 64 * 1024
PROMPT_MAX_BYTES = 64 * 1024
PAGE_SIZE_MAX = 200
EVENT_TEXT_MAX_BYTES = 16 * 1024
EVENT_METADATA_MAX_BYTES = 4 * 1024
EVENTS_PER_APPEND_MAX = 100
METADATA_MAX_DEPTH = 15
METADATA_MAX_ARRAY_ITEMS = 8192
METADATA_MAX_OBJECT_FIELDS = 1024
METADATA_MAX_FIELD_NAME_CHARS = 1024
SEARCH_TEXT_MAX_CHARS = 200
SEARCH_TERMS_MAX = 16
SEARCH_LIMIT_MAX = 50
SEARCH_LIMIT_DEFAULT = 20
SEARCH_CANDIDATES = 64
SEARCH_EXCERPT_CHARS = 160
# A follow-up chain (`followUpOf` links) is followed this far back, at most (a loop cannot be made:
# each link names an older row).
FOLLOW_UP_CHAIN_MAX = 1000
WORKFLOW_ID_PREFIX = "jangar-wo-"


def new_workflow_id() -> str:
    """Chosen when a work order is created, so that launching it twice can never start two workflows."""
    return f"{WORKFLOW_ID_PREFIX}{uuid.uuid4()}"


# --- errors ---------------------------------------------------------------------------------


class ErrorCode(str, enum.Enum):
    NOT_FOUND = "NOT_FOUND"
    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    CONFLICT = "CONFLICT"
    FORBIDDEN = "FORBIDDEN"
    # Not a contract code: the backend could not be reached or did not answer in time.
    UNAVAILABLE = "UNAVAILABLE"


class JangarError(Exception):
    """An error with a contract code and a sentence a person can act on."""

    def __init__(self, code: ErrorCode | str, message: str) -> None:
        self.code = ErrorCode(code)
        self.message = message
        super().__init__(f"{self.code.value}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across processes / Temporal
        return (JangarError, (self.code.value, self.message))


# --- enums and the status machine -----------------------------------------------------------


class Role(str, enum.Enum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"


class WorkOrderStatus(str, enum.Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


S = WorkOrderStatus

# The one Python table of transitions (docs/architecture.md): status -> statuses it may move to.
TRANSITIONS: dict[WorkOrderStatus, frozenset[WorkOrderStatus]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.CANCELED}),
    S.SUBMITTED: frozenset({S.ACCEPTED, S.FAILED, S.CANCELED}),
    S.ACCEPTED: frozenset({S.RUNNING, S.FAILED, S.CANCELED}),
    S.RUNNING: frozenset({S.SUCCEEDED, S.FAILED, S.CANCELED}),
    S.SUCCEEDED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELED: frozenset(),
}

# The status sets, each defined here once (their TypeScript twins are in convex/lib/statusMachine.ts;
# tests/test_parity.py holds the two equal).
# Terminal: the work order moves nowhere any more.
TERMINAL_STATUSES = frozenset(s for s, targets in TRANSITIONS.items() if not targets)
# Active: the work order still has something to do (draft included); its session cannot be removed.
ACTIVE_STATUSES = frozenset(WorkOrderStatus) - TERMINAL_STATUSES
# Launched: a workflow may be running for it, so it cannot be removed and the reconciler watches it.
LAUNCHED_STATUSES = frozenset({S.SUBMITTED, S.ACCEPTED, S.RUNNING})
# Retryable: a retry makes a new draft from it.
RETRYABLE_STATUSES = frozenset({S.FAILED, S.CANCELED})


def can_transition(current: WorkOrderStatus, target: WorkOrderStatus) -> bool:
    """True when `current -> target` is allowed; setting the current status again is a no-op."""
    return current == target or target in TRANSITIONS[current]


def check_transition(current: WorkOrderStatus, target: WorkOrderStatus) -> None:
    if not can_transition(current, target):
        raise JangarError(
            ErrorCode.INVALID_TRANSITION,
            f"A work order cannot move from {current.value} to {target.value}.",
        )


class EventKind(str, enum.Enum):
    """What a work-order event records (its TypeScript twin is EVENT_KINDS in convex/lib/validators.ts)."""

    COMMAND = "command"
    FILE_CHANGE = "file_change"
    AGENT_MESSAGE = "agent_message"
    REASONING = "reasoning"
    ERROR = "error"
    USAGE = "usage"
    OUTPUT = "output"
    SETUP = "setup"
    GIT = "git"
    PR = "pr"


class ConnectionState(str, enum.Enum):
    """How a store's live connection is doing, as shown in the status line."""

    LIVE = "live"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"


# --- records --------------------------------------------------------------------------------


# Every model here is `defer_build`: its validator is built on first use, not at import. Built
# eagerly, they (and pydantic's machinery with the first one) cost ~35 ms before the UI's first
# frame, which needs none of them validated (see `store.sqlite.db._session`).


class _Record(BaseModel):
    """Backend rows. Convex's `_id` becomes `id`; timestamps are int ms (Convex sends floats)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore", defer_build=True)

    id: str = Field(alias="_id")
    createdAt: int
    updatedAt: int
    deletedAt: int | None = None

    @field_validator("createdAt", "updatedAt", "deletedAt", mode="before", check_fields=False)
    @classmethod
    def _ms(cls, value: Any) -> Any:
        return int(value) if isinstance(value, float) else value


class ChatSession(_Record):
    userId: str
    title: str
    lastMessageAt: int

    @field_validator("lastMessageAt", mode="before")
    @classmethod
    def _ms_last(cls, value: Any) -> Any:
        return int(value) if isinstance(value, float) else value


class ChatMessage(_Record):
    sessionId: str
    role: Role
    content: str
    metadata: Any = None


class WorkOrder(_Record):
    sessionId: str
    workflowId: str
    status: WorkOrderStatus
    githubIssueUrl: str | None = None
    prompt: str | None = None
    title: str | None = None
    requestedBy: str | None = None
    targetRepo: str | None = None
    targetBranch: str | None = None
    prUrl: str | None = None
    # A follow-up: the ended work order whose branch, workspace and Codex thread this one continues.
    followUpOf: str | None = None


class WorkOrderEvent(_Record):
    """One entry of a work order's event log; `seq` is 1, 2, 3, ... per work order."""

    workOrderId: str
    seq: int
    kind: EventKind
    text: str
    metadata: Any = None

    @field_validator("seq", mode="before")
    @classmethod
    def _whole(cls, value: Any) -> Any:
        return int(value) if isinstance(value, float) else value


class NewEvent(BaseModel):
    """An event as a client appends it; the backend numbers and dates it."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    kind: EventKind
    text: str
    metadata: Any = None


class EventsAppended(BaseModel):
    """The sequence numbers an append gave its batch (both ends included)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    firstSeq: int
    lastSeq: int

    @field_validator("firstSeq", "lastSeq", mode="before")
    @classmethod
    def _whole(cls, value: Any) -> Any:
        return int(value) if isinstance(value, float) else value


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list, newest first, as Convex's paginate() returns it."""

    model_config = ConfigDict(defer_build=True)

    page: list[T]
    isDone: bool
    continueCursor: str | None = None


class SearchKind(str, enum.Enum):
    SESSION = "session"
    MESSAGE = "message"
    WORK_ORDER = "workOrder"


class SearchHit(BaseModel):
    """One search result: where it is (its session, and the message or work order), which field
    matched and an excerpt of it (tests/contract/README.md, "Search")."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    kind: SearchKind
    sessionId: str
    sessionTitle: str
    messageId: str | None = None
    workOrderId: str | None = None
    workOrderTitle: str | None = None  # a work order's own title (its hit may be found by another field)
    field: str  # title, content, prompt or targetRepo
    excerpt: str
    at: int  # what the hits of a kind are sorted by: lastMessageAt, createdAt, updatedAt
    role: Role | None = None
    status: WorkOrderStatus | None = None

    @field_validator("at", mode="before")
    @classmethod
    def _ms(cls, value: Any) -> Any:
        return int(value) if isinstance(value, float) else value


class SearchIndexing(BaseModel):
    """How far the embedded store has indexed the messages a file held before it had search: the
    newest `indexed` of `total` are found, the older ones once the build (after start-up) ends."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    indexed: int
    total: int

    @property
    def note(self) -> str:
        """What search cannot find yet and how far the build is (the UI and the CLI say it)."""
        percent = min(99, self.indexed * 100 // max(1, self.total))
        return (
            f"search index being built: {percent} % of {self.total:,} older messages, newest first; "
            "the others are found once it is done"
        )


class SearchResults(BaseModel):
    """Hits per kind, each list newest first and at most the search's limit long. `indexing`, only
    while the embedded store still builds its message index: how far it is."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    sessions: list[SearchHit]
    messages: list[SearchHit]
    workOrders: list[SearchHit]
    indexing: SearchIndexing | None = None

    def all(self) -> list[SearchHit]:
        return [*self.sessions, *self.messages, *self.workOrders]


# --- Temporal views (what the detail view and status line show) ----------------------------


class TemporalState(BaseModel):
    """Where Temporal is and whether it answers, for the status line."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    address: str
    namespace: str = "default"
    embedded: bool = False
    up: bool = False
    detail: str | None = None


class WorkflowDescription(BaseModel):
    """A workflow's state as Temporal reports it."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    workflowId: str
    runId: str | None = None
    status: str  # RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, TIMED_OUT, ...
    taskQueue: str | None = None
    startTime: int | None = None
    closeTime: int | None = None
    historyLength: int | None = None

    @property
    def is_open(self) -> bool:
        """Temporal still runs it (every other status is a close)."""
        return self.status == "RUNNING"


class HistoryEvent(BaseModel):
    """One event of a workflow's history, flattened for display."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    eventId: int
    eventType: str
    eventTime: int | None = None
    details: str = ""
