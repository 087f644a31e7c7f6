"""`TemporalLauncher`: the service's `Launcher` on Temporal.

It connects lazily and drops the connection when Temporal stops answering, so a launch after
Temporal is back simply works. A launch starts the workflow under the work order's own
`workflowId` (a second launch finds it started and never creates another), then marks it
`submitted`; when Temporal cannot be reached the work order stays `draft` and the error says why.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from google.protobuf.json_format import MessageToDict
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent as ProtoHistoryEvent
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from jangar_tui.aio import within
from jangar_tui.config import Settings
from jangar_tui.models import (
    RETRYABLE_STATUSES,
    ErrorCode,
    EventKind,
    HistoryEvent,
    JangarError,
    NewEvent,
    TemporalState,
    WorkflowDescription,
    WorkOrder,
    WorkOrderStatus,
    new_workflow_id,
)
from jangar_tui.orchestration.agent_records import AgentRecords, orphaned, sweep_orphans
from jangar_tui.orchestration.client import connect, is_unreachable, temporal_target
from jangar_tui.orchestration.payloads import (
    CHAT_ENQUEUE_SIGNAL,
    CHAT_INTERRUPT_SIGNAL,
    CHAT_WORKFLOW_NAME,
    DEFAULT_HEARTBEAT_TIMEOUT_S,
    WORKFLOW_NAME,
    ChatInput,
    WorkOrderInput,
)
from jangar_tui.store.base import Store

log = logging.getLogger(__name__)
S = WorkOrderStatus
RPC_TIMEOUT = timedelta(seconds=5)
STATE_POLL_S = 2.0
T = TypeVar("T")


class TemporalLauncher:
    """Launch, cancel, retry and inspect work orders on Temporal."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        address: str | None = None,
        embedded: bool | None = None,
        client: Client | None = None,
        connect_timeout_s: float = 2.0,
        poll_interval_s: float = STATE_POLL_S,
        heartbeat_timeout_s: float | None = DEFAULT_HEARTBEAT_TIMEOUT_S,
    ) -> None:
        default_address, default_embedded = temporal_target(settings)
        self.settings = settings
        self.store = store
        self.address = address or default_address
        self.namespace = settings.temporal_namespace
        self.task_queue = settings.task_queue
        self.embedded = default_embedded if embedded is None else embedded
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self._client = client
        self._connect_timeout_s = connect_timeout_s
        self._poll_interval_s = poll_interval_s
        self._connect_lock = asyncio.Lock()
        self._connect_attempts = 0
        self._connect_error: ConnectionError | None = None
        self._last_error: str | None = None
        # Why Temporal may be down, when we know more than the connection error (set by the runtime).
        self.hint: str | None = None

    # -- connection ----------------------------------------------------------------------------
    async def client(self) -> Client:
        """The connected client, connecting now when there is none; `JangarError(UNAVAILABLE)` if down."""
        if self._client is not None:
            return self._client
        attempts_before = self._connect_attempts
        async with self._connect_lock:
            if self._client is not None:
                return self._client
            if self._connect_attempts != attempts_before and self._connect_error is not None:
                # Someone tried while we waited for the lock and failed: do not wait again.
                raise self._unavailable(self._connect_error)
            self._connect_attempts += 1
            try:
                self._client = await connect(self.address, self.namespace, timeout_s=self._connect_timeout_s)
            except ConnectionError as exc:
                self._connect_error = exc
                raise self._unavailable(exc) from None
            self._connect_error = None
            self._last_error = None
            return self._client

    def _unavailable(self, exc: BaseException) -> JangarError:
        reason = exc.message if isinstance(exc, RPCError) else str(exc) or type(exc).__name__
        self._last_error = reason
        hint = f" ({self.hint})" if self.hint else ""
        return JangarError(ErrorCode.UNAVAILABLE, f"Temporal at {self.address} is not reachable: {reason}{hint}")

    def forget_client(self) -> None:
        # The next call connects afresh (the server may come back on another process).
        self._client = None

    async def _call(self, make_call: Callable[[Client], Awaitable[T]]) -> T:
        """Run one Temporal call; an unreachable server becomes `JangarError(UNAVAILABLE)`."""
        client = await self.client()
        # A quick probe without retries runs beside the call: the SDK retries an unreachable
        # server for as long as the call's timeout allows, and the operator should not wait that
        # long. Beside, not before: a server that answers is not asked twice in a row (the probe
        # was a whole round trip in front of every send).
        probe = asyncio.ensure_future(
            client.workflow_service.get_system_info(
                GetSystemInfoRequest(), retry=False, timeout=timedelta(seconds=self._connect_timeout_s)
            )
        )
        call = asyncio.ensure_future(within(make_call(client), RPC_TIMEOUT.total_seconds() + 1))
        try:
            done, _ = await asyncio.wait({probe, call}, return_when=asyncio.FIRST_COMPLETED)
            if call not in done:
                failure = probe.exception()
                if failure is not None and is_unreachable(failure):
                    raise failure
            return await call
        except Exception as exc:
            if is_unreachable(exc):
                self.forget_client()
                raise self._unavailable(exc) from None
            raise
        finally:
            for task in (probe, call):
                task.cancel()
                # Retrieved when it ends, so a probe that fails after the call is not logged as unhandled.
                task.add_done_callback(_retrieve)

    # -- Launcher ------------------------------------------------------------------------------
    async def launch(self, work_order: WorkOrder) -> WorkOrder:
        if work_order.status != S.DRAFT:
            current = await self._current(work_order)
            if current.status == S.DRAFT:
                return await self.launch(current)
            return current  # already launched (or closed): launching again changes nothing
        inp = WorkOrderInput(
            workOrderId=work_order.id,
            sessionId=work_order.sessionId,
            prompt=work_order.prompt,
            title=work_order.title,
            targetRepo=work_order.targetRepo,
            targetBranch=work_order.targetBranch,
            githubIssueUrl=work_order.githubIssueUrl,
            requestedBy=work_order.requestedBy,
            agentTimeoutS=self.settings.agent_timeout_s,
            heartbeatTimeoutS=self.heartbeat_timeout_s,
        )

        async def start(client: Client) -> None:
            try:
                await client.start_workflow(
                    WORKFLOW_NAME,
                    inp,
                    id=work_order.workflowId,
                    task_queue=self.task_queue,
                    # A workflow withdrawn from a refused launch (below) leaves the work order a
                    # draft: launching it later starts the workflow again. A running or completed
                    # one is never started twice.
                    id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                    id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                    rpc_timeout=RPC_TIMEOUT,
                )
            except WorkflowAlreadyStartedError:
                pass  # started by an earlier launch: one workflow per work order, never two

        await self._call(start)
        try:
            return await self.store.update_work_order_status(work_order.id, S.SUBMITTED, expectedStatus=S.DRAFT)
        except JangarError as exc:
            if exc.code != ErrorCode.CONFLICT:
                raise
            current = await self._current(work_order)
            if current.status != S.DRAFT:
                return current  # the worker got there first (it marks `submitted` itself when it sees a draft)
            # Still a draft: the store refused the launch itself (a follow-up while another run works
            # in its worktree, checked in the store's own transaction). The workflow goes.
            await self._withdraw(current, exc.message)
            raise

    async def _withdraw(self, work_order: WorkOrder, reason: str) -> None:
        """Terminate the workflow of a launch the store refused (its worker, waiting in
        `mark_accepted`, never runs it). Best effort: the refusal is what the operator hears."""

        async def terminate(client: Client) -> None:
            await client.get_workflow_handle(work_order.workflowId).terminate(
                reason=f"Launch refused: {reason}", rpc_timeout=RPC_TIMEOUT
            )

        try:
            await self._call(terminate)
        except (JangarError, RPCError) as exc:
            log.info("could not withdraw the workflow of %s: %s", work_order.id, exc)

    # -- ChatRunner ----------------------------------------------------------------------------
    async def send_chat(self, session_id: str, message_id: str) -> None:
        """Queue `message_id` on the session's chat workflow, starting it when it is not running."""
        inp = ChatInput(sessionId=session_id, turnTimeoutS=self.settings.chat_turn_timeout_s)

        async def signal_with_start(client: Client) -> None:
            await client.start_workflow(
                CHAT_WORKFLOW_NAME,
                inp,
                id=chat_workflow_id(session_id),
                task_queue=self.task_queue,
                start_signal=CHAT_ENQUEUE_SIGNAL,
                start_signal_args=[message_id],
                rpc_timeout=RPC_TIMEOUT,
            )

        await self._call(signal_with_start)

    async def interrupt_chat(self, session_id: str) -> None:
        """Stop the reply being written in the session (nothing happens when none is)."""

        async def signal(client: Client) -> None:
            await client.get_workflow_handle(chat_workflow_id(session_id)).signal(
                CHAT_INTERRUPT_SIGNAL, rpc_timeout=RPC_TIMEOUT
            )

        try:
            await self._call(signal)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise

    async def cancel(self, work_order: WorkOrder) -> WorkOrder:
        current = await self._current(work_order)
        if current.status == S.DRAFT:
            return await self.store.update_work_order_status(current.id, S.CANCELED, expectedStatus=S.DRAFT)
        if current.status.is_terminal:
            return current

        async def request_cancel(client: Client) -> None:
            await client.get_workflow_handle(current.workflowId).cancel(rpc_timeout=RPC_TIMEOUT)

        try:
            await self._call(request_cancel)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            # No workflow behind it (it never started or was deleted): close it in the store.
            return await self.store.update_work_order_status(current.id, S.CANCELED, expectedStatus=current.status)
        # The workflow marks `canceled` once the agent's process group is gone: say so now, and
        # why it may take a while (or, its worker known gone, settle the attempt at once).
        await self._cancel_requested(current)
        return await self._current(current)

    async def _cancel_requested(self, work_order: WorkOrder) -> None:
        records = AgentRecords(self.settings.data_dir)
        record = records.read(work_order.id)
        if record is not None and orphaned(record):
            note = (
                f"Cancel requested. The worker running it (pid {record.worker.pid}) is gone: what it left "
                "running is stopped and the work order ends as canceled now."
            )
        else:
            wait = f" (up to {self.heartbeat_timeout_s:g} s)" if self.heartbeat_timeout_s is not None else ""
            note = (
                "Cancel requested. The worker stops the agent, or the setup, and everything they started; "
                f"then the work order ends as canceled. A worker that died unseen is noticed at its heartbeat "
                f"timeout{wait}."
            )
        try:
            await self.store.append_work_order_events(work_order.id, [NewEvent(kind=EventKind.SETUP, text=note)])
        except JangarError as exc:  # the cancel is requested either way; the note is a courtesy
            log.info("could not note the cancel of %s: %s", work_order.id, exc.message)
        if record is not None and orphaned(record):
            try:
                await sweep_orphans(records, await self.client(), work_order.id)
            except Exception as exc:  # noqa: BLE001 - the attached instances' sweep settles it later
                log.info("could not settle the orphaned attempt of %s: %s", work_order.id, exc)

    async def retry(self, work_order: WorkOrder) -> WorkOrder:
        current = await self._current(work_order)
        if current.status not in RETRYABLE_STATUSES:
            raise JangarError(
                ErrorCode.INVALID_TRANSITION,
                f"Only a failed or canceled work order can be retried; this one is {current.status.value}.",
            )
        # A follow-up's retry follows up the same work order: same worktree, branch, pull request and
        # Codex thread (`orchestration.follow_up`). A deleted one ends the chain, as it does there.
        follows = current.followUpOf
        if follows is not None and await self.store.get_work_order(follows) is None:
            follows = None
        return await self.store.create_work_order(
            current.sessionId,
            new_workflow_id(),
            title=current.title,
            prompt=current.prompt,
            githubIssueUrl=current.githubIssueUrl,
            requestedBy=current.requestedBy,
            targetRepo=current.targetRepo,
            targetBranch=current.targetBranch,
            followUpOf=follows,
        )

    async def describe(self, work_order: WorkOrder) -> WorkflowDescription | None:
        async def call(client: Client) -> WorkflowDescription | None:
            try:
                desc = await client.get_workflow_handle(work_order.workflowId).describe(rpc_timeout=RPC_TIMEOUT)
            except RPCError as exc:
                if exc.status == RPCStatusCode.NOT_FOUND:
                    return None
                raise
            return WorkflowDescription(
                workflowId=desc.id,
                runId=desc.run_id,
                status=desc.status.name if desc.status is not None else "UNKNOWN",
                taskQueue=desc.task_queue,
                startTime=_ms(desc.start_time),
                closeTime=_ms(desc.close_time),
                historyLength=desc.history_length,
            )

        return await self._call(call)

    async def history(self, work_order: WorkOrder) -> list[HistoryEvent]:
        async def call(client: Client) -> list[HistoryEvent]:
            handle = client.get_workflow_handle(work_order.workflowId)
            try:
                return [_event(e) async for e in handle.fetch_history_events(rpc_timeout=RPC_TIMEOUT)]
            except RPCError as exc:
                if exc.status == RPCStatusCode.NOT_FOUND:
                    return []
                raise

        return await self._call(call)

    async def watch_state(self) -> AsyncIterator[TemporalState]:
        """The state now, then on every change (reachability is checked every `poll_interval_s`)."""
        last: TemporalState | None = None
        while True:
            state = await self.check_state()
            if state != last:
                last = state
                yield state
            await asyncio.sleep(self._poll_interval_s)

    async def check_state(self) -> TemporalState:
        try:
            client = await self.client()
            await within(
                client.workflow_service.get_system_info(GetSystemInfoRequest(), timeout=RPC_TIMEOUT),
                RPC_TIMEOUT.total_seconds() + 1,
            )
        except JangarError:
            return self.state(up=False)
        except Exception as exc:  # noqa: BLE001 - any failure means "down", with its reason
            self.forget_client()
            self._last_error = str(exc)[:200] or type(exc).__name__
            return self.state(up=False)
        return self.state(up=True)

    def state(self, *, up: bool) -> TemporalState:
        return TemporalState(
            address=self.address,
            namespace=self.namespace,
            embedded=self.embedded,
            up=up,
            detail=None if up else "; ".join(d for d in (self._last_error, self.hint) if d) or None,
        )

    async def aclose(self) -> None:
        self._client = None  # the SDK closes its connection when the client is dropped

    async def _current(self, work_order: WorkOrder) -> WorkOrder:
        current = await self.store.get_work_order(work_order.id)
        if current is None:
            raise JangarError(ErrorCode.NOT_FOUND, "That work order no longer exists.")
        return current


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


def _ms(value: datetime | None) -> int | None:
    return int(value.timestamp() * 1000) if value is not None else None


def _event(event: ProtoHistoryEvent) -> HistoryEvent:
    name = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
    event_type = "".join(part.capitalize() for part in name.split("_"))
    return HistoryEvent(
        eventId=event.event_id,
        eventType=event_type,
        eventTime=int(event.event_time.ToMilliseconds()) if event.HasField("event_time") else None,
        details=_event_details(event),
    )


def _event_details(event: ProtoHistoryEvent) -> str:
    """One line worth showing: the activity name, the failure message, the timeout kind."""
    attrs_field = event.WhichOneof("attributes")
    if attrs_field is None:
        return ""
    attrs = MessageToDict(getattr(event, attrs_field), preserving_proto_field_name=False)
    parts: list[str] = []
    if activity := attrs.get("activityType", {}).get("name"):
        parts.append(str(activity))
    if (attempt := attrs.get("attempt")) and int(attempt) > 1:
        parts.append(f"attempt {attempt}")
    for key in ("failure", "reason", "timeoutType", "cause"):
        value = attrs.get(key)
        if isinstance(value, dict):
            value = value.get("message")
        if value:
            parts.append(f"{key}: {value}")
            break
    return "; ".join(parts)[:500]


def chat_workflow_id(session_id: str) -> str:
    return f"jangar-chat-{session_id}"
