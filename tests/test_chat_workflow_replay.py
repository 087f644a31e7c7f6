"""`ChatWorkflow` replayed against histories recorded from real runs (tests/replay/record_chat.py).

A chat workflow lives as long as its session is talked to (ten minutes after the last message),
so a worker upgraded meanwhile replays its history with the new code. A change that schedules
something else, or in another order, fails here first; see tests/replay/README.md for what to do.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner
from temporalio.workflow import NondeterminismError

from jangar_tui.orchestration.chat_workflow import ChatWorkflow
from jangar_tui.orchestration.payloads import (
    CHAT_ENQUEUE_SIGNAL,
    CHAT_WORKFLOW_NAME,
    RUN_CHAT_TURN,
    SETTLE_CHAT_TURN,
    ChatInput,
    ChatTurnRequest,
)

HISTORIES = Path(__file__).resolve().parent / "replay" / "histories" / "chat"
# Each recorded path: the activities scheduled in order, and how the turns' activities ended.
RECORDED = {
    "turn": ([RUN_CHAT_TURN], ["COMPLETED"]),
    "queued": ([RUN_CHAT_TURN, RUN_CHAT_TURN], ["COMPLETED", "COMPLETED"]),
    "interrupt": ([RUN_CHAT_TURN], ["COMPLETED"]),  # the turn handles the cancel, keeping its text
    "failure": ([RUN_CHAT_TURN, SETTLE_CHAT_TURN], ["TIMED_OUT", "COMPLETED"]),
}


def _history(name: str) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"replay-chat-{name}", (HISTORIES / f"{name}.json").read_text())


def _events(name: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads((HISTORIES / f"{name}.json").read_text())["events"]
    return events


def _types(name: str) -> list[str]:
    return [e["eventType"].removeprefix("EVENT_TYPE_") for e in _events(name)]


def test_every_recorded_history_is_replayed() -> None:
    assert sorted(p.stem for p in HISTORIES.glob("*.json")) == sorted(RECORDED)


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_history_is_the_path_it_is_named_after(name: str) -> None:
    activities, endings = RECORDED[name]
    events = _events(name)
    scheduled = [
        e["activityTaskScheduledEventAttributes"]["activityType"]["name"]
        for e in events
        if e["eventType"] == "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"
    ]
    assert scheduled == activities
    ended = [
        t.removeprefix("ACTIVITY_TASK_")
        for t in _types(name)
        if t in {"ACTIVITY_TASK_COMPLETED", "ACTIVITY_TASK_TIMED_OUT"}
    ]
    assert ended == endings
    assert _types(name)[-1] == "TIMER_STARTED", "taken while the workflow waits for the next message"
    types = _types(name)
    if name == "queued":  # the second message arrived while the first turn ran
        assert types.count("WORKFLOW_EXECUTION_SIGNALED") == 2
        assert types.index("WORKFLOW_EXECUTION_SIGNALED", 2) < types.index("ACTIVITY_TASK_COMPLETED")
    if name == "interrupt":
        assert "ACTIVITY_TASK_CANCEL_REQUESTED" in types
    if name == "failure":  # the settle step is behind a patch: its marker is in the history
        assert "MARKER_RECORDED" in types


@pytest.mark.parametrize("name", sorted(RECORDED))
async def test_the_current_workflow_replays_the_recorded_history(name: str) -> None:
    replayer = Replayer(workflows=[ChatWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(_history(name))
    assert result.replay_failure is None


@workflow.defn(name=CHAT_WORKFLOW_NAME)
class _ChatThatAnswersAtOnce:
    """A plausible-looking change (each message answered in its signal's own task, no queue)
    that would break chats in flight."""

    def __init__(self) -> None:
        self._pending: list[str] = []

    @workflow.run
    async def run(self, inp: ChatInput) -> None:
        await workflow.wait_condition(lambda: bool(self._pending))
        message_id = self._pending.pop(0)
        await workflow.execute_activity(
            RUN_CHAT_TURN,
            ChatTurnRequest(sessionId=inp.sessionId, userMessageId=message_id),
            start_to_close_timeout=timedelta(seconds=30),
            heartbeat_timeout=timedelta(seconds=1),
        )
        await workflow.wait_condition(lambda: False, timeout=timedelta(minutes=10))

    @workflow.signal(name=CHAT_ENQUEUE_SIGNAL)
    def enqueue(self, message_id: str) -> None:
        self._pending.append(message_id)


@pytest.mark.parametrize("name", ["queued", "failure"])
async def test_a_workflow_that_schedules_other_steps_fails_the_replay(name: str) -> None:
    replayer = Replayer(
        workflows=[_ChatThatAnswersAtOnce],
        data_converter=pydantic_data_converter,
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(_history(name))
