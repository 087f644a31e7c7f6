"""The worker's side effects, as Temporal activities: store updates, the workspace, the agent.

Every activity is safe to run again (Temporal retries them, and a crashed worker's activity runs
again elsewhere): status moves are idempotent in the store, the workspace is fetched when it
exists, a new agent attempt first kills the group an earlier attempt left running, and the
completion message is appended only when the session does not have it yet.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from jangar_tui.agents.codex_app_server import CodexAppServer
from jangar_tui.aio import cancel_and_wait
from jangar_tui.config import Settings, SetupCommand
from jangar_tui.models import ErrorCode, EventKind, JangarError, Role, WorkOrder, WorkOrderStatus
from jangar_tui.orchestration.agent import AgentCannotStart, AgentProcess, kill_stale_group, mark_of
from jangar_tui.orchestration.agent_records import (
    WORK_ORDER_ENV,
    AgentRecord,
    AgentRecords,
    current_descendants,
    stop_earlier,
)
from jangar_tui.orchestration.codex_run import run_codex
from jangar_tui.orchestration.delivery import DeliveryFailed, PullRequestSpec, deliver
from jangar_tui.orchestration.diff_review import START_COMMIT_KEY, head_commit
from jangar_tui.orchestration.event_log import EventLogWriter
from jangar_tui.orchestration.follow_up import pull_request_of, seeded_prompt, thread_of, workspace_owner
from jangar_tui.orchestration.heartbeat import HEARTBEAT_EVERY_S, heartbeating
from jangar_tui.orchestration.payloads import (
    DELIVER,
    DELIVERY_FAILED,
    HANDED_BACK,
    MARK_ACCEPTED,
    PREPARE_WORKSPACE,
    RECORD_OUTCOME,
    RUN_AGENT,
    AgentRequest,
    AgentResult,
    DeliverRequest,
    DeliverResult,
    Outcome,
    WorkOrderInput,
)
from jangar_tui.orchestration.procs import ProcessId, stop_processes
from jangar_tui.orchestration.run_start import begin_agent_attempt, record_run_start, reset_to_run_start, run_start
from jangar_tui.orchestration.setup_command import SetupFailed, run_setup, setup_command_for
from jangar_tui.orchestration.workspace import (
    GitError,
    WorkspaceBusy,
    in_use_by,
    mark_setup_done,
    prepare_workspace,
    setup_done,
    sweep_workspaces,
)
from jangar_tui.outcome import COMPLETION_KIND, find_completion_message
from jangar_tui.store.base import Store

S = WorkOrderStatus
P = ParamSpec("P")
R = TypeVar("R")

# Error types the workflow reads (ApplicationError.type).
WORK_ORDER_GONE = "WorkOrderGone"
AGENT_CANNOT_START = "AgentCannotStart"
WORKSPACE_FAILED = "WorkspaceFailed"
SETUP_FAILED = "SetupFailed"
LAUNCH_REFUSED = "LaunchRefused"


def _store_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Store refusals are final (retrying cannot help); an unreachable store is retried."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except JangarError as exc:
            raise ApplicationError(
                exc.message, type=f"JangarError.{exc.code.value}", non_retryable=exc.code != ErrorCode.UNAVAILABLE
            ) from exc

    return wrapper


class HandBack:
    """Set by a worker that stops: its running agents are stopped, and their attempts fail with a
    retryable `HANDED_BACK` error, which Temporal runs again on a worker that polls.

    (A cancel from the SDK's own graceful-shutdown timeout would not do: Temporal ignores a
    cancellation it did not ask for, so the attempt would only move on at its heartbeat timeout.)
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    async def unless_set(self, work: Awaitable[R]) -> R:
        """`work`'s result; if the hand-back comes first, `work` is cancelled (and awaited, so its
        own cleanup runs) and `HandedBackError` is raised."""
        task = asyncio.ensure_future(work)
        waiter = asyncio.create_task(self._event.wait())
        try:
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            await cancel_and_wait(task)
            raise
        finally:
            waiter.cancel()
        if task.done():
            return task.result()
        await cancel_and_wait(task)
        raise HandedBackError()


class HandedBackError(Exception):
    """The worker is stopping and stopped the agent: see `HandBack`."""


class WorkOrderActivities:
    """Holds the store and settings the activities work with; register `all()` on a worker."""

    def __init__(self, settings: Settings, store: Store, hand_back: HandBack | None = None) -> None:
        self.settings = settings
        self.store = store
        self.hand_back = hand_back or HandBack()

    def all(self) -> list[Callable[..., Any]]:
        return [self.mark_accepted, self.prepare_workspace, self.run_agent, self.deliver, self.record_outcome]

    @activity.defn(name=MARK_ACCEPTED)
    @_store_errors
    async def mark_accepted(self, workOrderId: str) -> None:
        """Move the work order to `accepted` (a launch may not have marked it `submitted` yet)."""
        work_order = await self._get(workOrderId)
        if work_order.status == S.DRAFT:
            # The workflow exists, so the launch happened; the launcher's own update may be late.
            try:
                work_order = await self.store.update_work_order_status(
                    work_order.id, S.SUBMITTED, expectedStatus=S.DRAFT
                )
            except JangarError as exc:
                if exc.code != ErrorCode.CONFLICT:
                    raise
                work_order = await self._get(workOrderId)
                if work_order.status == S.DRAFT:
                    # The store refused the launch (another run works in the worktree); the launcher
                    # withdraws this workflow. Until it does, or if it never can, this waits (retried).
                    raise ApplicationError(exc.message, type=LAUNCH_REFUSED) from None
        if work_order.status == S.SUBMITTED:
            work_order = await self._move(work_order, S.ACCEPTED)
        if work_order.status.is_terminal:
            raise ApplicationError(
                f"The work order is already {work_order.status.value}.", type=WORK_ORDER_GONE, non_retryable=True
            )

    @activity.defn(name=PREPARE_WORKSPACE)
    @_store_errors
    async def prepare_workspace(self, inp: WorkOrderInput) -> str | None:
        """The work order's worktree, set up. Heartbeats throughout (a fetch and a setup command
        can each take long): a cancel reaches git or the setup within about a second and stops
        its process group, and a worker that dies here is seen at the heartbeat timeout."""
        if not inp.targetRepo:
            return None
        async with heartbeating(), _recorded(AgentRecords(self.settings.data_dir), inp.workOrderId):
            return await self._prepare_workspace(inp, inp.targetRepo)

    async def _prepare_workspace(self, inp: WorkOrderInput, target_repo: str) -> str:
        owner = await workspace_owner(await self._get(inp.workOrderId), self.store.get_work_order)
        try:
            path = await prepare_workspace(
                self.settings.data_dir,
                target_repo,
                inp.targetBranch,
                inp.workOrderId,
                allow_local=self.settings.allow_local_repos,
                workspace_of=owner.id,
                in_use=in_use_by(self.store.get_work_order),
            )
        except WorkspaceBusy as exc:
            raise ApplicationError(str(exc), type=WORKSPACE_FAILED, non_retryable=True) from None
        except GitError as exc:
            raise ApplicationError(str(exc), type=WORKSPACE_FAILED) from exc
        setup = setup_command_for(self.settings.setup_commands, target_repo)
        if setup is not None and not setup_done(path):
            await self._set_up(setup, path, inp.workOrderId)
        try:
            await record_run_start(path, inp.workOrderId)
        except GitError as exc:
            raise ApplicationError(str(exc), type=WORKSPACE_FAILED) from exc
        return str(path)

    async def _set_up(self, setup: SetupCommand, path: Path, work_order_id: str) -> None:
        """The repository's setup command in a new worktree (once: a retry or a follow-up finds it done)."""
        log = EventLogWriter(self.store, work_order_id)
        env = {**os.environ, WORK_ORDER_ENV: work_order_id}
        try:
            await run_setup(setup, path, env, self.settings.setup_timeout_s, log)
        except SetupFailed as exc:
            raise ApplicationError(str(exc), type=SETUP_FAILED, non_retryable=True) from None
        finally:
            await log.close()
        mark_setup_done(path)

    @activity.defn(name=RUN_AGENT)
    @_store_errors
    async def run_agent(self, req: AgentRequest) -> AgentResult:
        """Run the agent to its end; marks `running` once the process exists.

        At most one agent per work order: whatever an earlier attempt left running (found in the
        data dir's record, or in the heartbeat details on another data dir of this host) is
        stopped before this attempt starts its own.
        """
        info = activity.info()
        records = AgentRecords(self.settings.data_dir)
        stale = records.read(req.workOrderId)
        if stale is not None or info.attempt > 1:
            await stop_earlier(req.workOrderId, stale)
        if info.heartbeat_details:
            await kill_stale_group(info.heartbeat_details[0])
        work_order = await self._get(req.workOrderId)
        if work_order.status.is_terminal:
            raise ApplicationError(
                f"The work order is already {work_order.status.value}.", type=WORK_ORDER_GONE, non_retryable=True
            )
        env = {**os.environ, WORK_ORDER_ENV: req.workOrderId}
        # Recorded before the spawn: a worker killed right after it still leaves its task token
        # (and the agent is found by WORK_ORDER_ENV); `_tracked` adds the agent once it runs.
        record = AgentRecord(
            workOrderId=req.workOrderId,
            worker=ProcessId.me(),
            leader=None,
            taskToken=base64.b64encode(info.task_token).decode(),
            workflowId=info.workflow_id,
        )
        records.write(record)
        log = EventLogWriter(self.store, req.workOrderId)
        worker = self.settings.worker_name
        start = await _start_commit(req.workspace, req.workOrderId)
        started: dict[str, Any] = {"worker": worker, "attempt": info.attempt}
        if start:
            started[START_COMMIT_KEY] = start  # where this run's own change begins (the diff's range)
        log.add(EventKind.SETUP, f"Running on worker {worker} (attempt {info.attempt}).", started)
        try:
            continued = await self._continued(work_order, req.prompt)
            start_over = await self._start_over(req, log)
            command = self.settings.agent_command
            if command is None:
                result = await self._run_codex(req, work_order, continued, env, log, records, record, start_over)
            else:
                await start_over()  # another agent has no thread to continue the earlier attempt's work in
                if continued.seeded_prompt is not None:  # another agent has no thread: it reads the story so far
                    req = req.model_copy(update={"prompt": continued.seeded_prompt})
                result = await self._run_command(command, req, work_order, env, log, records, record)
            return result.model_copy(update={"worker": worker, "startCommit": start})
        except HandedBackError:
            if record.leader is None:
                records.remove(record)
            self._handed_back(log)
        except BaseException:
            if record.leader is None:  # nothing was started: nothing to find later
                records.remove(record)
            raise
        finally:
            await log.close()

    async def _continued(self, work_order: WorkOrder, note: str) -> _Continued:
        """What a follow-up continues (nothing for a work order that follows none), and the thread
        an earlier attempt of this run worked in (its worker stopped or died mid-run)."""
        owner = await workspace_owner(work_order, self.store.get_work_order)
        earlier = await thread_of(self.store, work_order.id)
        previous = await self.store.get_work_order(work_order.followUpOf) if work_order.followUpOf else None
        if previous is None:
            return _Continued(owner.id, None, None, earlier)
        return _Continued(
            owner.id,
            await thread_of(self.store, previous.id),
            await seeded_prompt(self.store, previous, note),
            earlier,
        )

    async def _start_over(self, req: AgentRequest, log: EventLogWriter) -> Callable[[], Awaitable[None]]:
        """What puts the worktree back where the run started, for an attempt that cannot continue an
        earlier attempt's work (`run_start`); it does nothing for the first attempt."""
        workspace = Path(req.workspace) if req.workspace else None
        earlier = workspace is not None and await asyncio.to_thread(begin_agent_attempt, workspace, req.workOrderId)

        async def start_over() -> None:
            if workspace is None or not earlier:
                return
            try:
                reset = await reset_to_run_start(workspace, req.workOrderId)
            except GitError as exc:
                raise ApplicationError(
                    f"Resetting the worktree for a new attempt failed: {exc}", type=WORKSPACE_FAILED
                ) from exc
            if reset:
                log.add(
                    EventKind.SETUP,
                    "The earlier attempt's work cannot be continued, so the worktree was reset to where the run "
                    "started (its changes dropped) and the work starts again.",
                )

        return start_over

    async def _run_command(
        self,
        command: list[str],
        req: AgentRequest,
        work_order: WorkOrder,
        env: dict[str, str],
        log: EventLogWriter,
        records: AgentRecords,
        record: AgentRecord,
    ) -> AgentResult:
        """Any agent command: its stdout and stderr lines become plain output events."""

        def on_line(stream: str, line: str) -> None:
            log.add(EventKind.OUTPUT, line, {"stream": stream} if stream == "stderr" else None)

        try:
            agent = await AgentProcess.start(
                command,
                req.prompt,
                prompt_via=self.settings.agent_prompt_via,
                cwd=req.workspace,
                env=env,
                on_line=on_line,
            )
        except AgentCannotStart as exc:
            log.add(EventKind.ERROR, str(exc))
            raise ApplicationError(str(exc), type=AGENT_CANNOT_START, non_retryable=True) from None
        async with _tracked(records, record, agent.pid):
            try:
                await self._mark_running(work_order)
                return await self.hand_back.unless_set(agent.wait())
            except HandedBackError:
                await agent.stop()
                raise
            except asyncio.CancelledError:
                # Cancel, timeout, worker shutdown, or the workflow went away: stop the whole group.
                await agent.stop()
                if not _cancel_requested():
                    raise  # not a cancel from the workflow: Temporal retries or times it out
                # A requested cancel ends as a result, so the agent's last words reach the workflow
                # (Temporal drops the details of a cancelled activity).
                return AgentResult(
                    exitCode=agent.returncode if agent.returncode is not None else -1,
                    output=agent.stdout.text(),
                    errorOutput=agent.stderr.text(),
                    canceled=True,
                )
            except BaseException:
                await agent.stop()
                raise

    async def _run_codex(
        self,
        req: AgentRequest,
        work_order: WorkOrder,
        continued: _Continued,
        env: dict[str, str],
        log: EventLogWriter,
        records: AgentRecords,
        record: AgentRecord,
        start_over: Callable[[], Awaitable[None]],
    ) -> AgentResult:
        """Codex through its app-server: its items become the event log (see `codex_run`)."""
        if req.workspace:
            cwd = Path(req.workspace)
        else:
            # No target repository: a scratch directory of its own, never the worker's own cwd.
            cwd = self.settings.data_dir / "workspaces" / f"scratch-{continued.workspace_of}"
            cwd.mkdir(parents=True, exist_ok=True)
        async with contextlib.AsyncExitStack() as tracking:

            async def started(server: CodexAppServer) -> None:
                await tracking.enter_async_context(_tracked(records, record, server.proc.pid))
                await self._mark_running(work_order)

            try:
                # A hand-back cancels run_codex, which closes codex and its process group.
                return await self.hand_back.unless_set(
                    run_codex(
                        self.settings.codex_bin,
                        req.prompt,
                        cwd,
                        env,
                        log,
                        started,
                        continued.thread_id,
                        continued.seeded_prompt,
                        client_id=req.workOrderId,
                        earlier_thread=continued.earlier_thread,
                        start_over=start_over,
                    )
                )
            except asyncio.CancelledError:
                # run_codex closed codex and its process group on the way out.
                if not _cancel_requested():
                    raise
                log.add(EventKind.ERROR, "Canceled: Codex and the commands it started were stopped.")
                return AgentResult(exitCode=-1, errorOutput="Canceled.", canceled=True)

    def _handed_back(self, log: EventLogWriter) -> NoReturn:
        message = (
            f"Worker {self.settings.worker_name} is shutting down: the agent was stopped and handed back "
            "to run again on another worker."
        )
        log.add(EventKind.ERROR, message)
        # BENIGN: the expected way out of a stopping worker, not a failure. The SDK logs it at
        # DEBUG instead of a WARNING with a traceback (which ctrl+q left on the operator's
        # terminal, the TUI's worker stopping after the app gave the terminal back).
        raise ApplicationError(message, type=HANDED_BACK, category=ApplicationErrorCategory.BENIGN)

    async def _mark_running(self, work_order: WorkOrder) -> None:
        current = await self._move(work_order, S.RUNNING)
        if current.status != S.RUNNING:  # closed meanwhile (canceled as a draft, reconciled)
            raise ApplicationError(
                f"The work order is already {current.status.value}.", type=WORK_ORDER_GONE, non_retryable=True
            )

    @activity.defn(name=DELIVER)
    @_store_errors
    async def deliver(self, req: DeliverRequest) -> DeliverResult:
        """Commit, push and open the PR (safe to run again: a second push is a no-op, and an
        open PR for the branch is found rather than opened twice)."""
        settings = self.settings
        spec = PullRequestSpec(
            target_repo=req.targetRepo,
            title=req.title,
            prompt=req.prompt,
            github_issue_url=req.githubIssueUrl,
            author_name=settings.git_author_name,
            author_email=settings.git_author_email,
            api_url=settings.github_api_url,
            token=settings.github_token.get_secret_value() if settings.github_token else None,
        )
        work_order = await self._get(req.workOrderId)
        existing = await pull_request_of(work_order, self.store.get_work_order) if work_order.followUpOf else None
        log = EventLogWriter(self.store, req.workOrderId)
        try:
            delivery = await deliver(
                Path(req.workspace),
                spec,
                req.agentPrUrl,
                log,
                existing_pr_url=existing,
                start_commit=req.startCommit,
            )
        except DeliveryFailed as exc:
            raise ApplicationError(str(exc), type=DELIVERY_FAILED, non_retryable=True) from None
        except GitError as exc:
            raise ApplicationError(f"Delivering the work failed: {exc}", type=DELIVERY_FAILED) from None
        finally:
            await log.close()
        return DeliverResult(prUrl=delivery.prUrl, note=delivery.note)

    @activity.defn(name=RECORD_OUTCOME)
    @_store_errors
    async def record_outcome(self, outcome: Outcome) -> None:
        """Record the result: prUrl, ONE completion message, then the terminal status.

        Idempotent: a retry (or a new worker after a crash) finds what the previous attempt wrote.
        When the work order is already closed with another status (canceled as a draft, fixed by
        the reconciler), nothing is written: that path has its own message.
        """
        if outcome.abandonedAgent:
            await kill_stale_group(outcome.abandonedAgent)
        work_order = await self._get(outcome.workOrderId)
        if work_order.status.is_terminal and work_order.status != outcome.status:
            return
        if outcome.prUrl and work_order.prUrl != outcome.prUrl and not work_order.status.is_terminal:
            work_order = await self.store.update_work_order_result(work_order.id, outcome.prUrl)
        if await find_completion_message(self.store, work_order) is None:
            metadata: dict[str, Any] = {
                "workOrderId": work_order.id,
                "workflowId": work_order.workflowId,
                "kind": COMPLETION_KIND,
                "status": outcome.status.value,
            }
            if outcome.prUrl:
                metadata["prUrl"] = outcome.prUrl
            if outcome.exitCode is not None:
                metadata["exitCode"] = outcome.exitCode
            if outcome.worker:
                metadata["worker"] = outcome.worker
            role = Role.ASSISTANT if outcome.status == S.SUCCEEDED else Role.SYSTEM
            await self.store.append_message(work_order.sessionId, role, outcome.message, metadata)
        if not work_order.status.is_terminal:
            await self._move(work_order, outcome.status)
        await self._sweep_workspaces()

    async def _sweep_workspaces(self) -> None:
        """A work order ended: remove the worktrees whose retention is over. Never fails the
        outcome (a worktree that cannot be removed now is tried again at the next end)."""
        try:
            await sweep_workspaces(
                self.settings.data_dir, self.settings.workspace_retention_s, self.store.get_work_order
            )
        except (GitError, OSError, JangarError) as exc:
            activity.logger.warning("removing old worktrees failed: %s", exc)

    async def _get(self, work_order_id: str) -> WorkOrder:
        work_order = await self.store.get_work_order(work_order_id)
        if work_order is None:
            raise ApplicationError("The work order no longer exists.", type=WORK_ORDER_GONE, non_retryable=True)
        return work_order

    async def _move(self, work_order: WorkOrder, status: WorkOrderStatus) -> WorkOrder:
        """Set `status` unless someone else moved the work order first; return the current row."""
        try:
            return await self.store.update_work_order_status(work_order.id, status, expectedStatus=work_order.status)
        except JangarError as exc:
            if exc.code != ErrorCode.CONFLICT:
                raise
        return await self._get(work_order.id)


async def _start_commit(workspace: str | None, work_order_id: str) -> str | None:
    """The commit the run started from: the one its worktree's run-start record keeps (every attempt
    of a run has the same), else the worktree's HEAD now; None without a worktree."""
    if not workspace:
        return None
    recorded = await asyncio.to_thread(run_start, Path(workspace), work_order_id)
    return recorded.head if recorded is not None else await head_commit(Path(workspace))


@dataclass(frozen=True)
class _Continued:
    """A run's worktree owner; for a follow-up, the Codex thread and the seeded prompt; and the
    thread an earlier attempt of this run logged."""

    workspace_of: str
    thread_id: str | None
    seeded_prompt: str | None
    earlier_thread: str | None


@contextlib.asynccontextmanager
async def _recorded(records: AgentRecords, work_order_id: str) -> AsyncIterator[None]:
    """While the block runs (a step with no agent yet: fetch, setup command), this worker and the
    activity's task token in the data dir's record, so that when the worker dies another instance
    stops what it left (found by WORK_ORDER_ENV) and settles the attempt (`sweep_orphans`) instead
    of the heartbeat timeout. Kept when the worker stops under the step (shutdown), as `_tracked`."""
    info = activity.info()
    record = AgentRecord(
        workOrderId=work_order_id,
        worker=ProcessId.me(),
        leader=None,
        taskToken=base64.b64encode(info.task_token).decode(),
        workflowId=info.workflow_id,
    )
    async with _kept_on_shutdown(records, record):
        yield


@contextlib.asynccontextmanager
async def _tracked(records: AgentRecords, record: AgentRecord, pid: int) -> AsyncIterator[None]:
    """While the block runs: the agent (leader `pid`) in its record in the data dir, and its
    heartbeats. After it, commands that left the agent's group and session (Codex runs them in
    their own) are stopped, so nothing of this attempt outlives it."""
    # An agent that already exited has no start time left; a zero one never matches a process.
    record.leader = ProcessId.of(pid) or ProcessId(host=socket.gethostname(), pid=pid, created=0.0)
    async with _kept_on_shutdown(records, record):
        heartbeats = asyncio.create_task(_heartbeat_forever(mark_of(pid).as_dict(), records, record))
        try:
            yield
        finally:
            await cancel_and_wait(heartbeats)
            await stop_processes(record.descendants, group=False)


@contextlib.asynccontextmanager
async def _kept_on_shutdown(records: AgentRecords, record: AgentRecord) -> AsyncIterator[None]:
    """`record` in the data dir while the block runs. Kept only when this worker stops under the
    activity (shutdown, not a requested cancel): the next instance then fails the attempt at once
    instead of waiting for the heartbeat timeout."""
    records.write(record)
    keep_record = False
    try:
        yield
    except asyncio.CancelledError:
        keep_record = not _cancel_requested()
        raise
    finally:
        if not keep_record:
            records.remove(record)


def _cancel_requested() -> bool:
    details = activity.cancellation_details()
    return details is not None and details.cancel_requested


async def _heartbeat_forever(details: dict[str, Any], records: AgentRecords, record: AgentRecord) -> None:
    # The details let a later attempt find (and kill) this agent if this worker dies; the record
    # follows the agent's descendants, so those that leave its group are found too.
    while True:
        activity.heartbeat(details)
        found = await asyncio.to_thread(current_descendants, record)
        if {(d.pid, d.created) for d in found} != {(d.pid, d.created) for d in record.descendants}:
            record.descendants = found
            records.write(record)
        await asyncio.sleep(HEARTBEAT_EVERY_S)
