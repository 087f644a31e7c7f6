"""`WorkOrderWorkflow`: accept, prepare the workspace, run the agent, deliver its work (commit,
push, pull request), record how it ended.

Deterministic and side-effect free (it runs in Temporal's sandbox): every effect is an activity,
scheduled by name so this module never imports the activity implementations. Whatever happens
(agent failure, timeout, cancel, a refused store call), the workflow ends by recording exactly
one outcome; a cancel still records `canceled` before the workflow reports itself canceled.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    TimeoutError,
    TimeoutType,
)

with workflow.unsafe.imports_passed_through():
    from jangar_tui.models import WorkOrderStatus
    from jangar_tui.orchestration.payloads import (
        DELIVER,
        HANDED_BACK,
        MARK_ACCEPTED,
        OUTPUT_TAIL_CHARS,
        PREPARE_WORKSPACE,
        RECORD_OUTCOME,
        RUN_AGENT,
        WORKFLOW_NAME,
        AgentRequest,
        AgentResult,
        DeliverRequest,
        DeliverResult,
        Outcome,
        WorkOrderInput,
        agent_task_queue,
    )

S = WorkOrderStatus

_STORE_CALL = timedelta(seconds=30)
_STORE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
_WORKSPACE_TIMEOUT = timedelta(minutes=15)
_WORKSPACE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_attempts=3)
# The version marker of the step after a successful run that commits, pushes and opens the PR.
_DELIVER_PATCH = "deliver-after-run"
# One more attempt when the worker running the agent dies (heartbeat timeout); the agent's own
# failures are results, not errors, so they are never retried.
_AGENT_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=2)
# The version marker of PREPARE_WORKSPACE with a heartbeat timeout, waited for when canceled (its
# git or setup command stopped before the work order says `canceled`).
_PREPARE_HEARTBEAT_PATCH = "prepare-heartbeats"
# The version marker of RUN_AGENT on the agents' own task queue (payloads.agent_task_queue).
_AGENT_QUEUE_PATCH = "agents-queue"
# An agent whose retries were all handed back by draining workers is scheduled again this often.
_MAX_HAND_BACKS = 3


@workflow.defn(name=WORKFLOW_NAME)
class WorkOrderWorkflow:
    @workflow.run
    async def run(self, inp: WorkOrderInput) -> Outcome:
        try:
            outcome = await self._execute(inp)
        except asyncio.CancelledError:
            await self._record(_canceled(inp, ""))
            raise
        if outcome.status == S.CANCELED:
            await self._record(outcome)
            raise asyncio.CancelledError()
        await self._record(outcome)
        return outcome

    async def _execute(self, inp: WorkOrderInput) -> Outcome:
        try:
            await workflow.execute_activity(
                MARK_ACCEPTED, inp.workOrderId, start_to_close_timeout=_STORE_CALL, retry_policy=_STORE_RETRY
            )
            heartbeat = timedelta(seconds=inp.heartbeatTimeoutS) if inp.heartbeatTimeoutS is not None else None
            workspace: str | None = None
            if inp.targetRepo:
                # Workflows started before the step heartbeated schedule it as they did.
                watched = workflow.patched(_PREPARE_HEARTBEAT_PATCH)
                workspace = await workflow.execute_activity(
                    PREPARE_WORKSPACE,
                    inp,
                    result_type=str,
                    start_to_close_timeout=_WORKSPACE_TIMEOUT,
                    heartbeat_timeout=heartbeat if watched else None,
                    retry_policy=_WORKSPACE_RETRY,
                    cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
                    if watched
                    else workflow.ActivityCancellationType.TRY_CANCEL,
                )
            prompt = _prompt(inp)
            if prompt is None:
                return _failed(inp, "The work order has no prompt, title or GitHub issue to give the agent.")
            agent_timeout = timedelta(seconds=inp.agentTimeoutS)
            # Workflows started before agents had a queue of their own run them on the workflow's.
            agent_queue = agent_task_queue(workflow.info().task_queue) if workflow.patched(_AGENT_QUEUE_PATCH) else None
            hand_backs = 0
            while True:
                try:
                    result: AgentResult = await workflow.execute_activity(
                        RUN_AGENT,
                        AgentRequest(workOrderId=inp.workOrderId, prompt=prompt, workspace=workspace),
                        result_type=AgentResult,
                        task_queue=agent_queue,
                        start_to_close_timeout=agent_timeout,
                        # The whole budget, retries included: a timed-out agent is not started again.
                        schedule_to_close_timeout=agent_timeout,
                        heartbeat_timeout=heartbeat,
                        retry_policy=_AGENT_RETRY,
                        cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                    )
                    break
                except ActivityError as exc:
                    # Workers draining one after another (a rolling restart) each handed the agent
                    # back, using up the retries: that is no failure of the work order.
                    if not _handed_back(exc) or hand_backs >= _MAX_HAND_BACKS:
                        raise
                    hand_backs += 1
            delivery: DeliverResult | None = None
            deliverable = workspace is not None and inp.targetRepo and result.exitCode == 0 and not result.canceled
            # Workflows started before Jangar opened PRs itself end without this step.
            if deliverable and workflow.patched(_DELIVER_PATCH):
                assert workspace is not None and inp.targetRepo is not None
                delivery = await workflow.execute_activity(
                    DELIVER,
                    DeliverRequest(
                        workOrderId=inp.workOrderId,
                        workspace=workspace,
                        targetRepo=inp.targetRepo,
                        title=_title(inp, prompt),
                        prompt=inp.prompt,
                        githubIssueUrl=inp.githubIssueUrl,
                        agentPrUrl=result.prUrl,
                        startCommit=result.startCommit,
                    ),
                    result_type=DeliverResult,
                    start_to_close_timeout=_WORKSPACE_TIMEOUT,
                    retry_policy=_WORKSPACE_RETRY,
                )
        except ActivityError as exc:
            if isinstance(exc.cause, CancelledError):
                return _canceled(inp, "")
            failed = _failed(inp, _activity_failure(inp, exc))
            if isinstance(exc.cause, TimeoutError) and exc.cause.last_heartbeat_details:
                mark = exc.cause.last_heartbeat_details[0]
                failed = failed.model_copy(update={"abandonedAgent": mark if isinstance(mark, dict) else None})
            return failed
        tail = "\n".join(p for p in (result.output.strip(), result.errorOutput.strip()) if p)
        if result.canceled:
            return _canceled(inp, tail)
        if result.exitCode == 0:
            message = result.output.strip() or result.errorOutput.strip() or "The agent finished without output."
            return Outcome(
                workOrderId=inp.workOrderId,
                sessionId=inp.sessionId,
                status=S.SUCCEEDED,
                message=message if delivery is None else f"{message}\n\n{delivery.note}",
                prUrl=result.prUrl if delivery is None else delivery.prUrl,
                exitCode=0,
                worker=result.worker,
            )
        reason = f"The agent exited with code {result.exitCode}."
        failed = _failed(inp, f"{reason}\n\n{tail[-OUTPUT_TAIL_CHARS:]}" if tail else reason, result.exitCode)
        return failed.model_copy(update={"worker": result.worker})

    async def _record(self, outcome: Outcome) -> None:
        await workflow.execute_activity(
            RECORD_OUTCOME, outcome, start_to_close_timeout=_STORE_CALL, retry_policy=_STORE_RETRY
        )


def _prompt(inp: WorkOrderInput) -> str | None:
    """What the agent is asked: the prompt exactly as written, else what the work order names."""
    if inp.prompt:
        return inp.prompt
    if inp.githubIssueUrl:
        return f"Resolve the GitHub issue {inp.githubIssueUrl}" + (f": {inp.title}" if inp.title else "")
    return inp.title or None


def _title(inp: WorkOrderInput, prompt: str) -> str:
    """The commit's and the PR's title: the work order's, else the prompt's first line."""
    first = inp.title or next((line.strip() for line in prompt.splitlines() if line.strip()), "Jangar work order")
    return first if len(first) <= 120 else first[:119].rstrip() + "…"


def _failed(inp: WorkOrderInput, message: str, exit_code: int | None = None) -> Outcome:
    return Outcome(
        workOrderId=inp.workOrderId, sessionId=inp.sessionId, status=S.FAILED, message=message, exitCode=exit_code
    )


def _canceled(inp: WorkOrderInput, tail: str) -> Outcome:
    message = "The work order was canceled; the agent was stopped."
    if tail:
        message += f"\n\nLast output:\n{tail[-OUTPUT_TAIL_CHARS:]}"
    return Outcome(workOrderId=inp.workOrderId, sessionId=inp.sessionId, status=S.CANCELED, message=message)


def _handed_back(exc: ActivityError) -> bool:
    return isinstance(exc.cause, ApplicationError) and exc.cause.type == HANDED_BACK


def _activity_failure(inp: WorkOrderInput, exc: ActivityError) -> str:
    """A sentence for the operator from a failed activity."""
    cause = exc.cause
    if isinstance(cause, TimeoutError):
        if cause.type == TimeoutType.HEARTBEAT and exc.activity_type == PREPARE_WORKSPACE:
            return (
                f"The worker preparing the worktree stopped responding (no heartbeat for "
                f"{inp.heartbeatTimeoutS:g} s), and its retries did not finish either."
            )
        if cause.type == TimeoutType.HEARTBEAT:
            return (
                f"The worker running the agent stopped responding (no heartbeat for "
                f"{inp.heartbeatTimeoutS:g} s), and the retry did not finish either."
            )
        if exc.activity_type == RUN_AGENT:
            return f"The agent did not finish within {inp.agentTimeoutS:g} s (JANGAR_AGENT_TIMEOUT)."
        return f"{exc.activity_type} timed out."
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause or exc)
