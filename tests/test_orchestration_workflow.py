"""The workflow's pure parts: what the agent is asked, and the sentence a failed activity becomes."""

from __future__ import annotations

from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError, TimeoutType

from jangar_tui.orchestration.payloads import RUN_AGENT, WorkOrderInput
from jangar_tui.orchestration.workflow import _activity_failure, _prompt

INPUT = WorkOrderInput(workOrderId="wo1", sessionId="s1", agentTimeoutS=90, heartbeatTimeoutS=15)


def _failed(cause: BaseException, activity_type: str = RUN_AGENT) -> ActivityError:
    error = ActivityError(
        "activity failed",
        scheduled_event_id=5,
        started_event_id=6,
        identity="w",
        activity_type=activity_type,
        activity_id="2",
        retry_state=None,
    )
    error.__cause__ = cause
    return error


def test_prompt_is_kept_exactly_and_falls_back_to_the_issue_or_title() -> None:
    assert _prompt(INPUT.model_copy(update={"prompt": "  keep\n me  "})) == "  keep\n me  "
    issue = INPUT.model_copy(update={"githubIssueUrl": "https://github.com/a/b/issues/1", "title": "Crash"})
    assert _prompt(issue) == "Resolve the GitHub issue https://github.com/a/b/issues/1: Crash"
    assert _prompt(INPUT.model_copy(update={"title": "Only a title"})) == "Only a title"
    assert _prompt(INPUT) is None


def test_activity_failures_become_sentences() -> None:
    heartbeat = _failed(TimeoutError("t", type=TimeoutType.HEARTBEAT, last_heartbeat_details=[]))
    assert "stopped responding (no heartbeat for 15 s)" in _activity_failure(INPUT, heartbeat)
    agent = _failed(TimeoutError("t", type=TimeoutType.SCHEDULE_TO_CLOSE, last_heartbeat_details=[]))
    assert _activity_failure(INPUT, agent) == "The agent did not finish within 90 s (JANGAR_AGENT_TIMEOUT)."
    git = _failed(ApplicationError("git clone failed (exit 128): not found"), "jangar.prepare_workspace")
    assert _activity_failure(INPUT, git) == "git clone failed (exit 128): not found"
