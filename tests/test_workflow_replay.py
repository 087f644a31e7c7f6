"""`WorkOrderWorkflow` replayed against histories recorded from real runs (tests/replay/).

Temporal replays a workflow's history whenever a worker picks it up again (a restart, a lost
cache), so workflows in flight during an upgrade run the new code against the old history. A
change to the workflow that schedules something else, or in another order, breaks them; replaying
the recorded histories here fails the suite first. When such a change is intended, see
tests/replay/README.md.
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

from jangar_tui.models import WorkOrderStatus
from jangar_tui.orchestration.payloads import (
    DELIVER,
    MARK_ACCEPTED,
    PREPARE_WORKSPACE,
    RECORD_OUTCOME,
    RUN_AGENT,
    WORKFLOW_NAME,
    Outcome,
    WorkOrderInput,
)
from jangar_tui.orchestration.workflow import WorkOrderWorkflow

HISTORIES = Path(__file__).resolve().parent / "replay" / "histories"
# Each recorded path: how the workflow closed and the activities it scheduled, in order.
RECORDED = {
    "success": ("COMPLETED", [MARK_ACCEPTED, RUN_AGENT, RECORD_OUTCOME]),
    "failure": ("COMPLETED", [MARK_ACCEPTED, RUN_AGENT, RECORD_OUTCOME]),
    "cancel": ("CANCELED", [MARK_ACCEPTED, RUN_AGENT, RECORD_OUTCOME]),
    "retry": ("COMPLETED", [MARK_ACCEPTED, PREPARE_WORKSPACE, RUN_AGENT, RECORD_OUTCOME]),
    "timeout": ("COMPLETED", [MARK_ACCEPTED, RUN_AGENT, RECORD_OUTCOME]),
    "deliver": ("COMPLETED", [MARK_ACCEPTED, PREPARE_WORKSPACE, RUN_AGENT, DELIVER, RECORD_OUTCOME]),
    "handback": ("COMPLETED", [MARK_ACCEPTED, RUN_AGENT, RECORD_OUTCOME]),
    "setup_cancel": ("CANCELED", [MARK_ACCEPTED, PREPARE_WORKSPACE, RECORD_OUTCOME]),
}
# Paths with an activity that ran a second attempt.
RETRIED = {"retry", "handback"}
# Recorded before the deliver step existed: they replay through `workflow.patched`'s old branch.
BEFORE_DELIVERY = {"success", "failure", "cancel", "retry", "timeout"}
# Recorded since agents have a task queue of their own (the others replay its old branch).
AGENTS_QUEUE = {"handback"}
# Recorded since the workspace step heartbeats and is waited for when canceled (patch
# "prepare-heartbeats"); the other paths with that step replay its old branch.
PREPARE_HEARTBEATS = {"setup_cancel"}


def _history(name: str) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"replay-{name}", (HISTORIES / f"{name}.json").read_text())


def _events(name: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads((HISTORIES / f"{name}.json").read_text())["events"]
    return events


def test_every_recorded_history_is_replayed() -> None:
    assert sorted(p.stem for p in HISTORIES.glob("*.json")) == sorted(RECORDED)


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_history_is_the_path_it_is_named_after(name: str) -> None:
    closed, activities = RECORDED[name]
    events = _events(name)
    assert events[-1]["eventType"] == f"EVENT_TYPE_WORKFLOW_EXECUTION_{closed}"
    scheduled = [
        e["activityTaskScheduledEventAttributes"]["activityType"]["name"]
        for e in events
        if e["eventType"] == "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"
    ]
    assert scheduled == activities
    attempts = [
        e["activityTaskStartedEventAttributes"]["attempt"]
        for e in events
        if e["eventType"] == "EVENT_TYPE_ACTIVITY_TASK_STARTED"
    ]
    assert (max(attempts) > 1) == (name in RETRIED)
    markers = [e for e in events if e["eventType"] == "EVENT_TYPE_MARKER_RECORDED"]
    assert (not markers) == (name in BEFORE_DELIVERY)
    # Since the agents-queue patch, the agent runs on the agents' own queue.
    agent_queues = {
        e["activityTaskScheduledEventAttributes"]["taskQueue"]["name"].endswith("-agents")
        for e in events
        if e["eventType"] == "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"
        and e["activityTaskScheduledEventAttributes"]["activityType"]["name"] == RUN_AGENT
    }
    if RUN_AGENT in activities:
        assert agent_queues == {name in AGENTS_QUEUE}
    # Since the prepare-heartbeats patch, the workspace step has a heartbeat timeout, and a cancel
    # waits for it to stop before the outcome is recorded.
    prepares = [
        e["activityTaskScheduledEventAttributes"]
        for e in events
        if e["eventType"] == "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"
        and e["activityTaskScheduledEventAttributes"]["activityType"]["name"] == PREPARE_WORKSPACE
    ]
    if prepares:
        assert {p["heartbeatTimeout"] != "0s" for p in prepares} == {name in PREPARE_HEARTBEATS}
    if name in PREPARE_HEARTBEATS and closed == "CANCELED":
        kinds = [e["eventType"] for e in events]
        assert kinds.index("EVENT_TYPE_ACTIVITY_TASK_CANCELED") < max(
            i for i, e in enumerate(events) if e["eventType"] == "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"
        ), "the outcome is scheduled once the workspace step has stopped"


@pytest.mark.parametrize("name", sorted(RECORDED))
async def test_the_current_workflow_replays_the_recorded_history(name: str) -> None:
    replayer = Replayer(workflows=[WorkOrderWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(_history(name))
    assert result.replay_failure is None


@workflow.defn(name=WORKFLOW_NAME)
class _WorkflowThatSkipsAcceptance:
    """A plausible-looking change (no `accepted` step) that would break workflows in flight."""

    @workflow.run
    async def run(self, inp: WorkOrderInput) -> Outcome:
        outcome = Outcome(
            workOrderId=inp.workOrderId, sessionId=inp.sessionId, status=WorkOrderStatus.FAILED, message="-"
        )
        await workflow.execute_activity(RECORD_OUTCOME, outcome, start_to_close_timeout=timedelta(seconds=30))
        return outcome


async def test_a_workflow_that_schedules_other_steps_fails_the_replay() -> None:
    replayer = Replayer(
        workflows=[_WorkflowThatSkipsAcceptance],
        data_converter=pydantic_data_converter,
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(_history("success"))
