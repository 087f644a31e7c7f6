"""The Store protocol: the contract's operations (docs/architecture.md) as async methods, plus watchers.

Method names map one-to-one onto the Convex functions (see `CONTRACT_FUNCTIONS`), argument names
follow the contract columns. Every backend raises `JangarError` with a contract code; a refused
call changes nothing.

Watchers are async iterators that yield a full fresh snapshot at once and again whenever the
result changes (as a Convex subscription does). They end when the consumer stops iterating.
Their `limit` is a whole number from 1 to 10,000 on every backend (`validation.watch_limit`; not
bound by the 200-item page size of the list calls); any other value raises
`JangarError(INVALID_ARGUMENT)` at the call, before anything is watched.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol, runtime_checkable

from jangar_tui.models import (
    SEARCH_LIMIT_DEFAULT,
    ChatMessage,
    ChatSession,
    ConnectionState,
    EventsAppended,
    NewEvent,
    Page,
    Role,
    SearchResults,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderStatus,
)

DEFAULT_PAGE_SIZE = 50


@runtime_checkable
class Store(Protocol):
    """What every backend offers. See tests/contract/README.md for the rules behind each call."""

    # -- lifecycle ------------------------------------------------------------------------
    async def close(self) -> None: ...

    # -- chatSessions ---------------------------------------------------------------------
    async def create_session(self, userId: str, title: str) -> ChatSession: ...

    async def list_sessions(
        self, userId: str, numItems: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[ChatSession]: ...

    async def get_session(self, sessionId: str) -> ChatSession | None: ...

    async def update_last_message(self, sessionId: str) -> ChatSession: ...

    async def rename_session(self, sessionId: str, title: str) -> ChatSession: ...

    async def remove_session(self, sessionId: str) -> None: ...

    async def restore_session(self, sessionId: str) -> ChatSession: ...

    # -- chatMessages ---------------------------------------------------------------------
    async def append_message(
        self, sessionId: str, role: Role | str, content: str, metadata: Any = None
    ) -> ChatMessage: ...

    async def update_message(self, messageId: str, content: str | None = None, metadata: Any = None) -> ChatMessage:
        """Replace a live message's content and/or metadata (None leaves it); bumps its session."""
        ...

    async def list_messages(
        self, sessionId: str, numItems: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[ChatMessage]: ...

    async def remove_message(self, messageId: str) -> None: ...

    async def restore_message(self, messageId: str) -> ChatMessage: ...

    # -- workOrders -----------------------------------------------------------------------
    async def create_work_order(
        self,
        sessionId: str,
        workflowId: str,
        *,
        title: str | None = None,
        prompt: str | None = None,
        githubIssueUrl: str | None = None,
        requestedBy: str | None = None,
        targetRepo: str | None = None,
        targetBranch: str | None = None,
        followUpOf: str | None = None,
        status: WorkOrderStatus | str = WorkOrderStatus.DRAFT,
    ) -> WorkOrder: ...

    async def update_work_order_status(
        self,
        workOrderId: str,
        status: WorkOrderStatus | str,
        expectedStatus: WorkOrderStatus | str | None = None,
    ) -> WorkOrder: ...

    async def update_work_order_result(self, workOrderId: str, prUrl: str | None) -> WorkOrder: ...

    async def list_work_orders_by_session(
        self, sessionId: str, numItems: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[WorkOrder]: ...

    async def list_work_orders_by_status(
        self,
        status: WorkOrderStatus | str,
        numItems: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        userId: str | None = None,
    ) -> Page[WorkOrder]:
        """Every user's work orders in a status (the reconciler's view), or with `userId` only
        those on that user's sessions: one index range either way."""
        ...

    async def get_work_order(self, workOrderId: str) -> WorkOrder | None: ...

    async def remove_work_order(self, workOrderId: str) -> None: ...

    async def restore_work_order(self, workOrderId: str) -> WorkOrder: ...

    # -- workOrderEvents (the event log of a work order's run) -------------------------------
    async def append_work_order_events(
        self, workOrderId: str, events: list[NewEvent] | list[dict[str, Any]]
    ) -> EventsAppended:
        """Append a batch (1..EVENTS_PER_APPEND_MAX) numbered after the work order's last event."""
        ...

    async def list_work_order_events(
        self,
        workOrderId: str,
        numItems: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        afterSeq: int | None = None,
    ) -> Page[WorkOrderEvent]:
        """A page of events by seq, newest first; only those after `afterSeq` when given."""
        ...

    # -- search (tests/contract/README.md, "Search") -----------------------------------------
    async def search(self, userId: str, text: str, limit: int = SEARCH_LIMIT_DEFAULT) -> SearchResults:
        """The user's sessions (by title), messages (by text) and work orders (by title, prompt or
        repo) that hold every word of `text`, the last as a prefix: at most `limit` (1..50) of
        each kind, newest first, deleted rows and rows of deleted sessions left out."""
        ...

    # -- live -----------------------------------------------------------------------------
    def watch_sessions(self, userId: str, limit: int = 200) -> AsyncIterator[list[ChatSession]]:
        """Newest-first sessions of a user (at most `limit`)."""
        ...

    def watch_messages(self, sessionId: str, limit: int = DEFAULT_PAGE_SIZE) -> AsyncIterator[list[ChatMessage]]:
        """The newest `limit` messages of a session, oldest first (ready to render)."""
        ...

    def watch_work_orders(self, sessionId: str, limit: int = 100) -> AsyncIterator[list[WorkOrder]]:
        """A session's work orders, newest first."""
        ...

    def watch_work_order_events(self, workOrderId: str, limit: int = 200) -> AsyncIterator[list[WorkOrderEvent]]:
        """The newest `limit` events of a work order, oldest first (ready to render)."""
        ...

    def watch_work_orders_by_status(
        self, status: WorkOrderStatus | str, limit: int = 100, userId: str | None = None
    ) -> AsyncIterator[list[WorkOrder]]:
        """Work orders in a status, most recently updated first (at most `limit`), as
        `workOrders:listByStatus` lists them (with `userId`: that user's): the board's view."""
        ...

    def watch_connection(self) -> AsyncIterator[ConnectionState]:
        """The connection state now, then each change. The embedded store is always live."""
        ...

    @property
    def connection_detail(self) -> str | None:
        """Why the backend is not answering, while it is not ("connection refused" at once, or
        "no answer within 5 s"); None when live or not known."""
        ...

    @property
    def description(self) -> str:
        """Where the data lives, for the status line ("embedded" or the Convex host): no secrets."""
        ...

    @property
    def allows_local_repos(self) -> bool:
        """Whether `create_work_order` takes a path on this machine (or file://) as `targetRepo`:
        the embedded store with JANGAR_ALLOW_LOCAL_REPOS (development), never Convex."""
        ...


# Convex function name -> Store method name. Contract scenarios and the Convex adapter use it.
CONTRACT_FUNCTIONS: dict[str, str] = {
    "chatSessions:create": "create_session",
    "chatSessions:list": "list_sessions",
    "chatSessions:get": "get_session",
    "chatSessions:updateLastMessage": "update_last_message",
    "chatSessions:rename": "rename_session",
    "chatSessions:remove": "remove_session",
    "chatSessions:restore": "restore_session",
    "chatMessages:append": "append_message",
    "chatMessages:update": "update_message",
    "chatMessages:listBySession": "list_messages",
    "chatMessages:remove": "remove_message",
    "chatMessages:restore": "restore_message",
    "workOrders:create": "create_work_order",
    "workOrders:updateStatus": "update_work_order_status",
    "workOrders:updateResult": "update_work_order_result",
    "workOrders:listBySession": "list_work_orders_by_session",
    "workOrders:listByStatus": "list_work_orders_by_status",
    "workOrders:get": "get_work_order",
    "workOrders:remove": "remove_work_order",
    "workOrders:restore": "restore_work_order",
    "workOrderEvents:append": "append_work_order_events",
    "workOrderEvents:list": "list_work_order_events",
    "search:all": "search",
}
