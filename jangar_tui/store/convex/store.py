"""`ConvexStore`: the Store protocol over a Convex deployment.

Each Store method calls the Convex function `CONTRACT_FUNCTIONS` maps it to, with the argument
shapes of tests/contract/README.md (unset optionals left out, as Convex refuses `null` for them),
and decodes the result into the models. The rules live in the Convex functions; this adapter only
translates, including errors:

- a `ConvexError` with data `{code, message}`  ->  `JangarError(code, message)`;
- an argument validator failure                ->  `JangarError(INVALID_ARGUMENT, ...)`;
- an argument Convex's wire encoding cannot carry (an int beyond 2^53, a "$" field name, a
  nesting deeper than Python's recursion limit)  ->  `JangarError(INVALID_ARGUMENT, ...)`, never a
  raw ValueError, TypeError or RecursionError; metadata is checked first with the contract's own
  rule (`validation.metadata_json`), as every backend checks it before anything else;
- no answer, a timeout, a broken connection   ->  `JangarError(UNAVAILABLE, "Convex at <host> ...")`.

How calls reach Convex is the transport's business (`convex_transport`): by default the official
client in a worker process (`process.WorkerTransport`), so that a dead endpoint can never
freeze the event loop; tests inject a transport over `convex-test`. Watchers may cover more rows
than a page holds: `convex_pages` follows a chain of page subscriptions.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from jangar_tui.config import Settings
from jangar_tui.models import (
    SEARCH_LIMIT_DEFAULT,
    ChatMessage,
    ChatSession,
    ConnectionState,
    ErrorCode,
    EventsAppended,
    JangarError,
    NewEvent,
    Page,
    Role,
    SearchResults,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderStatus,
)
from jangar_tui.store import validation as v
from jangar_tui.store.base import DEFAULT_PAGE_SIZE
from jangar_tui.store.convex.pages import watch_pages
from jangar_tui.store.convex.process import WorkerTransport
from jangar_tui.store.convex.transport import ConvexFunctionError, ConvexTransport, ConvexUnavailable, encode_args

R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)

# Texts by which Convex (and convex-test) report an argument that fails its validator.
_VALIDATOR_ERROR = re.compile(r"ArgumentValidationError|Validator error|does not match validator", re.IGNORECASE)
_REQUEST_ID = re.compile(r"^\[Request ID: [^\]]*\]\s*")
_MESSAGE_MAX_CHARS = 400


def _value(item: Any) -> Any:
    """An enum's value, anything else as given (scenarios pass raw, possibly invalid, values)."""
    return getattr(item, "value", item)


def _present(**args: Any) -> dict[str, Any]:
    """Arguments without the unset optionals: Convex's `v.optional` refuses `null`."""
    return {key: value for key, value in args.items() if value is not None}


def _pagination(numItems: int, cursor: str | None) -> dict[str, Any]:
    return {"numItems": numItems, "cursor": cursor}


def _readable(message: str) -> str:
    """The useful sentence of a server error: no request id, no "Server Error" banner, bounded."""
    lines = [line.strip() for line in _REQUEST_ID.sub("", message.strip()).splitlines()]
    lines = [line for line in lines if line and line != "Server Error" and not line.startswith("Called by client")]
    text = " ".join(lines) or "no details"
    return text if len(text) <= _MESSAGE_MAX_CHARS else text[: _MESSAGE_MAX_CHARS - 1] + "…"


def map_error(function: str, error: ConvexFunctionError) -> JangarError:
    """The `JangarError` an operator sees for a failed Convex function call."""
    data = error.data
    if isinstance(data, dict) and data.get("code") in ErrorCode.__members__:
        message = data.get("message")
        return JangarError(data["code"], message if isinstance(message, str) and message else _readable(error.message))
    if _VALIDATOR_ERROR.search(error.message):
        return JangarError(
            ErrorCode.INVALID_ARGUMENT, f"Convex refused the arguments of {function}: {_readable(error.message)}"
        )
    # Anything else is the deployment failing (e.g. functions not deployed): not the caller's input.
    return JangarError(ErrorCode.UNAVAILABLE, f"Convex could not run {function}: {_readable(error.message)}")


class ConvexStore:
    """The Store protocol over Convex (see module docstring)."""

    def __init__(self, settings: Settings, transport: ConvexTransport | None = None) -> None:
        if transport is None:
            if not settings.convex_url:
                raise JangarError(ErrorCode.INVALID_ARGUMENT, "No Convex URL is configured (set CONVEX_URL).")
            transport = WorkerTransport(
                settings.convex_url,
                admin_key=settings.convex_admin_key,
                auth_token=settings.convex_auth_token,
                timeout_s=settings.convex_timeout_s,
            )
        self._transport = transport

    def __repr__(self) -> str:
        return f"ConvexStore({self.description!r})"

    @property
    def description(self) -> str:
        return f"convex ({self._transport.host})"

    @property
    def allows_local_repos(self) -> bool:
        return False  # the deployment's checks (convex/lib/checks.ts) take remote repositories only

    @property
    def connection_detail(self) -> str | None:
        return self._transport.connection_detail

    async def close(self) -> None:
        await self._transport.close()

    # -- plumbing ------------------------------------------------------------------------------
    async def _run(self, kind: str, function: str, args: dict[str, Any]) -> Any:
        call = self._transport.query if kind == "query" else self._transport.mutation
        try:
            for name, value in args.items():
                v.well_formed(name, value)  # the deployment refuses it too; the client could not even send it
            encode_args(args)  # what the transport will do: fail here, as the caller's error
        except (ValueError, TypeError, RecursionError) as exc:
            raise JangarError(
                ErrorCode.INVALID_ARGUMENT, f"The arguments of {function} cannot be sent to Convex: {exc}"
            ) from None
        try:
            return await call(function, args)
        except ConvexFunctionError as exc:
            raise map_error(function, exc) from None
        except ConvexUnavailable as exc:
            raise JangarError(ErrorCode.UNAVAILABLE, str(exc)) from None

    async def _query(self, function: str, decode: Callable[[Any], R], **args: Any) -> R:
        return decode(await self._run("query", function, args))

    async def _mutation(self, function: str, decode: Callable[[Any], R], **args: Any) -> R:
        return decode(await self._run("mutation", function, args))

    async def _watch(
        self, function: str, args: dict[str, Any], limit: int, decode: Callable[[list[Any]], R]
    ) -> AsyncIterator[R]:
        """Fresh snapshots of the first `limit` rows of a paginated query, never one twice in a row."""
        try:
            # aclosing: stopping this watcher ends the subscriptions now, not at garbage collection.
            async with contextlib.aclosing(watch_pages(self._transport, function, args, limit)) as snapshots:  # type: ignore[type-var]
                async for rows in snapshots:
                    yield decode(rows)
        except ConvexFunctionError as exc:
            raise map_error(function, exc) from None

    # -- chatSessions ----------------------------------------------------------------------------
    async def create_session(self, userId: str, title: str) -> ChatSession:
        return await self._mutation("chatSessions:create", _session, userId=userId, title=title)

    async def list_sessions(
        self, userId: str, numItems: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[ChatSession]:
        return await self._query(
            "chatSessions:list", _page(ChatSession), userId=userId, paginationOpts=_pagination(numItems, cursor)
        )

    async def get_session(self, sessionId: str) -> ChatSession | None:
        return await self._query("chatSessions:get", _optional(_session), sessionId=sessionId)

    async def update_last_message(self, sessionId: str) -> ChatSession:
        return await self._mutation("chatSessions:updateLastMessage", _session, sessionId=sessionId)

    async def rename_session(self, sessionId: str, title: str) -> ChatSession:
        return await self._mutation("chatSessions:rename", _session, sessionId=sessionId, title=title)

    async def remove_session(self, sessionId: str) -> None:
        await self._run("mutation", "chatSessions:remove", {"sessionId": sessionId})

    async def restore_session(self, sessionId: str) -> ChatSession:
        return await self._mutation("chatSessions:restore", _session, sessionId=sessionId)

    # -- chatMessages ----------------------------------------------------------------------------
    async def append_message(self, sessionId: str, role: Role | str, content: str, metadata: Any = None) -> ChatMessage:
        # The deployment checks metadata too, but some of what it refuses (an int beyond 2^53, bytes)
        # would reach it changed, or not at all: the shared rule decides here, before sending.
        v.metadata_json(metadata)
        args = _present(sessionId=sessionId, role=_value(role), content=content, metadata=metadata)
        return _message(await self._run("mutation", "chatMessages:append", args))

    async def update_message(self, messageId: str, content: str | None = None, metadata: Any = None) -> ChatMessage:
        v.metadata_json(metadata)  # as in append_message: the shared rule decides before sending
        args = _present(messageId=messageId, content=content, metadata=metadata)
        return _message(await self._run("mutation", "chatMessages:update", args))

    async def list_messages(
        self, sessionId: str, numItems: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[ChatMessage]:
        return await self._query(
            "chatMessages:listBySession",
            _page(ChatMessage),
            sessionId=sessionId,
            paginationOpts=_pagination(numItems, cursor),
        )

    async def remove_message(self, messageId: str) -> None:
        await self._run("mutation", "chatMessages:remove", {"messageId": messageId})

    async def restore_message(self, messageId: str) -> ChatMessage:
        return await self._mutation("chatMessages:restore", _message, messageId=messageId)

    # -- workOrders ------------------------------------------------------------------------------
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
    ) -> WorkOrder:
        args = _present(
            sessionId=sessionId,
            workflowId=workflowId,
            title=title,
            prompt=prompt,
            githubIssueUrl=githubIssueUrl,
            requestedBy=requestedBy,
            targetRepo=targetRepo,
            targetBranch=targetBranch,
            followUpOf=followUpOf,
            status=_value(status),
        )
        return _work_order(await self._run("mutation", "workOrders:create", args))

    async def update_work_order_status(
        self,
        workOrderId: str,
        status: WorkOrderStatus | str,
        expectedStatus: WorkOrderStatus | str | None = None,
    ) -> WorkOrder:
        args = _present(workOrderId=workOrderId, status=_value(status), expectedStatus=_value(expectedStatus))
        return _work_order(await self._run("mutation", "workOrders:updateStatus", args))

    async def update_work_order_result(self, workOrderId: str, prUrl: str | None) -> WorkOrder:
        args = _present(workOrderId=workOrderId, prUrl=prUrl)
        return _work_order(await self._run("mutation", "workOrders:updateResult", args))

    async def list_work_orders_by_session(
        self, sessionId: str, numItems: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[WorkOrder]:
        return await self._query(
            "workOrders:listBySession",
            _page(WorkOrder),
            sessionId=sessionId,
            paginationOpts=_pagination(numItems, cursor),
        )

    async def list_work_orders_by_status(
        self,
        status: WorkOrderStatus | str,
        numItems: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        userId: str | None = None,
    ) -> Page[WorkOrder]:
        user = {} if userId is None else {"userId": userId}
        return await self._query(
            "workOrders:listByStatus",
            _page(WorkOrder),
            status=_value(status),
            **user,
            paginationOpts=_pagination(numItems, cursor),
        )

    async def get_work_order(self, workOrderId: str) -> WorkOrder | None:
        return await self._query("workOrders:get", _optional(_work_order), workOrderId=workOrderId)

    async def remove_work_order(self, workOrderId: str) -> None:
        await self._run("mutation", "workOrders:remove", {"workOrderId": workOrderId})

    async def restore_work_order(self, workOrderId: str) -> WorkOrder:
        return await self._mutation("workOrders:restore", _work_order, workOrderId=workOrderId)

    # -- workOrderEvents -------------------------------------------------------------------------
    async def append_work_order_events(
        self, workOrderId: str, events: list[NewEvent] | list[dict[str, Any]]
    ) -> EventsAppended:
        # Anything but a list goes as given: Convex's validator refuses it.
        batch = [_new_event(event) for event in events] if isinstance(events, list) else events
        args = {"workOrderId": workOrderId, "events": batch}
        return EventsAppended.model_validate(await self._run("mutation", "workOrderEvents:append", args))

    async def list_work_order_events(
        self,
        workOrderId: str,
        numItems: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        afterSeq: int | None = None,
    ) -> Page[WorkOrderEvent]:
        args = _present(workOrderId=workOrderId, paginationOpts=_pagination(numItems, cursor), afterSeq=afterSeq)
        return _page(WorkOrderEvent)(await self._run("query", "workOrderEvents:list", args))

    # -- search ----------------------------------------------------------------------------------
    async def search(self, userId: str, text: str, limit: int = SEARCH_LIMIT_DEFAULT) -> SearchResults:
        return await self._query("search:all", SearchResults.model_validate, userId=userId, text=text, limit=limit)

    # -- live ------------------------------------------------------------------------------------
    # The limit is checked here, at the call, exactly as the embedded store checks it.
    def watch_sessions(self, userId: str, limit: int = 200) -> AsyncIterator[list[ChatSession]]:
        return self._watch("chatSessions:list", {"userId": userId}, v.watch_limit(limit), _rows(ChatSession))

    def watch_messages(self, sessionId: str, limit: int = DEFAULT_PAGE_SIZE) -> AsyncIterator[list[ChatMessage]]:
        decode = _rows(ChatMessage)
        # The query pages newest first; the conversation reads oldest first.
        return self._watch(
            "chatMessages:listBySession",
            {"sessionId": sessionId},
            v.watch_limit(limit),
            lambda rows: decode(rows)[::-1],
        )

    def watch_work_orders(self, sessionId: str, limit: int = 100) -> AsyncIterator[list[WorkOrder]]:
        return self._watch("workOrders:listBySession", {"sessionId": sessionId}, v.watch_limit(limit), _rows(WorkOrder))

    def watch_work_order_events(self, workOrderId: str, limit: int = 200) -> AsyncIterator[list[WorkOrderEvent]]:
        decode = _rows(WorkOrderEvent)
        # The query pages newest first; the log reads oldest first.
        return self._watch(
            "workOrderEvents:list", {"workOrderId": workOrderId}, v.watch_limit(limit), lambda rows: decode(rows)[::-1]
        )

    def watch_work_orders_by_status(
        self, status: WorkOrderStatus | str, limit: int = 100, userId: str | None = None
    ) -> AsyncIterator[list[WorkOrder]]:
        args: dict[str, Any] = {"status": v.status(status).value}
        if userId is not None:
            args["userId"] = v.user_id(userId)
        return self._watch("workOrders:listByStatus", args, v.watch_limit(limit), _rows(WorkOrder))

    def watch_connection(self) -> AsyncIterator[ConnectionState]:
        return self._transport.watch_connection()


# -- decoding ------------------------------------------------------------------------------------


def _session(value: Any) -> ChatSession:
    return ChatSession.model_validate(value)


def _message(value: Any) -> ChatMessage:
    return ChatMessage.model_validate(value)


def _work_order(value: Any) -> WorkOrder:
    return WorkOrder.model_validate(value)


def _new_event(event: Any) -> Any:
    """An event in Convex's argument shape: a model as a dict, an unset metadata left out."""
    if isinstance(event, NewEvent):
        event = {"kind": event.kind.value, "text": event.text, "metadata": event.metadata}
    if isinstance(event, dict) and event.get("metadata", 0) is None:
        event = {key: value for key, value in event.items() if key != "metadata"}
    return event


def _optional(decode: Callable[[Any], R]) -> Callable[[Any], R | None]:
    return lambda value: None if value is None else decode(value)


def _rows(model: type[M]) -> Callable[[list[Any]], list[M]]:
    def decode(rows: list[Any]) -> list[M]:
        return [model.model_validate(row) for row in rows]

    return decode


def _page(model: type[R]) -> Callable[[Any], Page[R]]:
    def decode(value: Any) -> Page[R]:
        return Page[model].model_validate(value)  # type: ignore[valid-type]

    return decode
