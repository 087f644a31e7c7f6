"""Test doubles for UI-state tests only, built over the REAL LocalStore.

- `FlakyStore`: the real LocalStore, plus a switch that makes it behave like an unreachable
  backend (appends refused with UNAVAILABLE, connection state offline), which the embedded store
  can never be. Used for the offline-send test and the offline snapshot.
- `SimulatedLauncher`: the `Launcher` protocol over the real store, with Temporal "up" or "down"
  at will and a fixed workflow description and history. Used only where the real Temporal would
  make the picture non-deterministic (the detail-view snapshot: run ids and event times change on
  every run). Launch/cancel behaviour against the real Temporal is covered in test_temporal_ui.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from jangar_tui.models import (
    ChatMessage,
    ConnectionState,
    ErrorCode,
    HistoryEvent,
    JangarError,
    Role,
    TemporalState,
    WorkflowDescription,
    WorkOrder,
    WorkOrderStatus,
    new_workflow_id,
)
from jangar_tui.store.sqlite.store import LocalStore

OFFLINE_REASON = "Convex at demo.convex.cloud is not reachable: connection refused."


class FlakyStore(LocalStore):
    def __init__(self, path: Path, *, offline: bool = False) -> None:
        super().__init__(path)
        self.offline = offline

    async def append_message(self, sessionId: str, role: Role | str, content: str, metadata: Any = None) -> ChatMessage:
        if self.offline:
            raise JangarError(ErrorCode.UNAVAILABLE, OFFLINE_REASON)
        return await super().append_message(sessionId, role, content, metadata)

    async def watch_connection(self) -> AsyncIterator[ConnectionState]:  # type: ignore[override]
        yield ConnectionState.OFFLINE if self.offline else ConnectionState.LIVE
        await asyncio.Event().wait()

    @property
    def description(self) -> str:
        return "demo.convex.cloud" if self.offline else "embedded"


class SimulatedLauncher:
    def __init__(self, store: LocalStore, *, up: bool = True, address: str = "127.0.0.1:7233") -> None:
        self.store = store
        self.up = up
        self.address = address
        self.history_events = [
            HistoryEvent(
                eventId=1,
                eventType="WorkflowExecutionStarted",
                eventTime=1_767_225_600_000,
                details="jangar-work-order",
            ),
            HistoryEvent(eventId=2, eventType="WorkflowTaskScheduled", eventTime=1_767_225_600_010),
            HistoryEvent(eventId=3, eventType="WorkflowTaskStarted", eventTime=1_767_225_600_020),
            HistoryEvent(eventId=4, eventType="WorkflowTaskCompleted", eventTime=1_767_225_600_030),
            HistoryEvent(
                eventId=5, eventType="ActivityTaskScheduled", eventTime=1_767_225_600_040, details="run_agent"
            ),
        ]

    def _require_up(self) -> None:
        if not self.up:
            raise JangarError(ErrorCode.UNAVAILABLE, f"Temporal at {self.address} is not reachable: connection refused")

    async def launch(self, work_order: WorkOrder) -> WorkOrder:
        self._require_up()
        return await self.store.update_work_order_status(
            work_order.id, WorkOrderStatus.SUBMITTED, WorkOrderStatus.DRAFT
        )

    async def cancel(self, work_order: WorkOrder) -> WorkOrder:
        self._require_up()
        return await self.store.update_work_order_status(work_order.id, WorkOrderStatus.CANCELED)

    async def retry(self, work_order: WorkOrder) -> WorkOrder:
        return await self.store.create_work_order(
            work_order.sessionId, new_workflow_id(), title=work_order.title, prompt=work_order.prompt
        )

    async def describe(self, work_order: WorkOrder) -> WorkflowDescription | None:
        self._require_up()
        if work_order.status == WorkOrderStatus.DRAFT:
            return None
        return WorkflowDescription(
            workflowId=work_order.workflowId,
            runId="0193f5a2-run-fixed",
            status="RUNNING",
            taskQueue="jangar",
            startTime=1_767_225_600_000,
            historyLength=len(self.history_events),
        )

    async def history(self, work_order: WorkOrder) -> list[HistoryEvent]:
        self._require_up()
        return list(self.history_events)

    async def watch_state(self) -> AsyncIterator[TemporalState]:
        yield TemporalState(
            address=self.address, embedded=True, up=self.up, detail=None if self.up else "connection refused"
        )
        await asyncio.Event().wait()


class ChattingLauncher(SimulatedLauncher):
    """A launcher whose agent answers the chat (a `ChatRunner`), for scenes of replies to come;
    the messages it is given stay unanswered."""

    def __init__(self, store: LocalStore, **kwargs: Any) -> None:
        super().__init__(store, **kwargs)
        self.sent: list[str] = []

    async def send_chat(self, session_id: str, message_id: str) -> None:
        self._require_up()
        self.sent.append(message_id)

    async def interrupt_chat(self, session_id: str) -> None:
        self._require_up()
