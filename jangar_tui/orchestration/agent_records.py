"""Which agent runs for which work order, kept in the data dir: at most one agent per work order.

`data_dir/runtime/agents/<work order>.json` holds, while an agent attempt runs: the worker process
(pid, start time, host), the agent's process group leader, every descendant seen so far (Codex
runs its commands in their own session, outside the agent's group, so the group alone cannot
find them), and the activity's task token. It is written before the agent is spawned (without a
leader) and again once it runs, so a worker killed in between still leaves a record. The step
before the agent (fetch and setup command, `prepare_workspace`) keeps one too, without a leader.

- Before an attempt starts its agent it stops whatever the record names, and every process whose
  environment carries the work order's `JANGAR_WORK_ORDER_ID` (an agent and its commands inherit
  it wherever they went), so a first run is always gone before a second begins (`stop_earlier`).
- `sweep_orphans` (run by every attached instance) finds records whose worker is gone (kill -9 of
  a TUI or of `jangar worker`): it stops their agent and fails the orphaned activity through its
  task token, so Temporal retries it at once instead of after the 30 s heartbeat timeout (or,
  when a cancel was requested, reports it canceled, so the work order ends at once), and
  resets the workflow's sticky queue, so its next task does not wait for the dead worker either.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import ResetStickyTaskQueueRequest
from temporalio.client import AsyncActivityCancelledError, Client
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from jangar_tui.orchestration.procs import ProcessId, descendants, stop_processes

log = logging.getLogger(__name__)

AGENTS_DIR = Path("runtime") / "agents"
# Every agent runs with this variable set to its work order's id (activities.py).
WORK_ORDER_ENV = "JANGAR_WORK_ORDER_ID"
WORKER_GONE = "WorkerGone"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass
class AgentRecord:
    workOrderId: str
    worker: ProcessId
    leader: ProcessId | None  # None until the agent is spawned
    taskToken: str  # base64
    descendants: list[ProcessId] = field(default_factory=list)
    workflowId: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "workOrderId": self.workOrderId,
            "worker": self.worker.as_dict(),
            "leader": self.leader.as_dict() if self.leader is not None else None,
            "taskToken": self.taskToken,
            "descendants": [d.as_dict() for d in self.descendants],
            "workflowId": self.workflowId,
        }

    @classmethod
    def from_dict(cls, data: Any) -> AgentRecord | None:
        try:
            worker = ProcessId.from_dict(data["worker"])
            leader = ProcessId.from_dict(data["leader"]) if data.get("leader") is not None else None
            found = [ProcessId.from_dict(d) for d in data.get("descendants", [])]
            if worker is None:
                return None
            return cls(
                workOrderId=str(data["workOrderId"]),
                worker=worker,
                leader=leader,
                taskToken=str(data["taskToken"]),
                descendants=[d for d in found if d is not None],
                workflowId=str(data["workflowId"]) if data.get("workflowId") else None,
            )
        except (KeyError, TypeError, AttributeError):
            return None


class AgentRecords:
    """The records of one data dir."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir / AGENTS_DIR

    def path(self, work_order_id: str) -> Path:
        return self.dir / f"{_SAFE_NAME.sub('_', work_order_id)}.json"

    def read(self, work_order_id: str) -> AgentRecord | None:
        return self._load(self.path(work_order_id))

    def write(self, record: AgentRecord) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.path(record.workOrderId)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record.as_dict()))
        os.replace(tmp, path)

    def remove(self, record: AgentRecord) -> None:
        """Remove the record, unless a later attempt has replaced it meanwhile."""
        current = self.read(record.workOrderId)
        if current is not None and current.taskToken == record.taskToken:
            self.path(record.workOrderId).unlink(missing_ok=True)

    def all(self) -> list[AgentRecord]:
        if not self.dir.is_dir():
            return []
        return [r for p in sorted(self.dir.glob("*.json")) if (r := self._load(p)) is not None]

    @staticmethod
    def _load(path: Path) -> AgentRecord | None:
        try:
            return AgentRecord.from_dict(json.loads(path.read_text()))
        except (OSError, ValueError):
            return None


async def stop_earlier(work_order_id: str, record: AgentRecord | None) -> None:
    """Stop every agent process of the work order still running: the recorded group and
    descendants, and whatever carries the work order's id in its environment (never a process
    whose pid was reused: start times must match)."""
    if record is not None and record.leader is not None:
        await stop_processes([record.leader], group=True)
    marked = await asyncio.to_thread(marked_processes, work_order_id)
    await stop_processes([*(record.descendants if record else []), *marked], group=False)


def marked_processes(work_order_id: str) -> list[ProcessId]:
    """This user's processes whose environment has JANGAR_WORK_ORDER_ID=`work_order_id`."""
    me = os.getpid()
    host = socket.gethostname()
    found: list[ProcessId] = []
    for proc in psutil.process_iter():
        if proc.pid == me:
            continue
        try:
            if proc.environ().get(WORK_ORDER_ENV) == work_order_id:
                found.append(ProcessId(host=host, pid=proc.pid, created=proc.create_time()))
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
            continue
    return found


def orphaned(record: AgentRecord) -> bool:
    """Whether the record's worker is known gone: it ran on this host and its process is not alive."""
    return record.worker.local and not record.worker.alive()


async def sweep_orphans(records: AgentRecords, client: Client, work_order_id: str | None = None) -> int:
    """Stop the agents of workers that are gone and settle their activities: canceled when a
    cancel was requested (the workflow then records `canceled` at once), else failed for a prompt
    retry. Only `work_order_id`'s record, when given.

    Returns how many were settled. A record of another host, or of a live worker, is left alone;
    one whose activity Temporal cannot be told about now (server down) is kept for the next sweep.
    """
    settled = 0
    for record in records.all():
        if (work_order_id is not None and record.workOrderId != work_order_id) or not orphaned(record):
            continue
        current = records.read(record.workOrderId)
        if current is None or current.taskToken != record.taskToken:
            continue  # a new attempt took over meanwhile: it stops what is left itself
        await stop_earlier(record.workOrderId, record)
        handle = client.get_async_activity_handle(task_token=base64.b64decode(record.taskToken))
        try:
            try:
                await handle.heartbeat()  # tells whether a cancel was requested
            except AsyncActivityCancelledError as asked:
                if asked.details is None or not asked.details.cancel_requested:
                    raise
                await handle.report_cancellation()
            else:
                await handle.fail(
                    ApplicationError(
                        f"The worker running the work order (pid {record.worker.pid}) is gone; what it ran was stopped.",
                        type=WORKER_GONE,
                    )
                )
        except AsyncActivityCancelledError:  # paused or reset by an operator: looked at again next sweep
            continue
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:  # NOT_FOUND: the attempt is already over
                log.info("could not fail the orphaned activity of %s: %s", record.workOrderId, exc.message)
                continue
        if record.workflowId is not None:
            await _reset_sticky(client, record.workflowId)
        records.remove(record)
        settled += 1
    return settled


async def _reset_sticky(client: Client, workflow_id: str) -> None:
    """Send the workflow's next task to the task queue, not to the dead worker's sticky queue
    (where it would wait out the sticky timeout first)."""
    request = ResetStickyTaskQueueRequest(
        namespace=client.namespace, execution=WorkflowExecution(workflow_id=workflow_id)
    )
    try:
        await client.workflow_service.reset_sticky_task_queue(request)
    except RPCError as exc:
        log.info("could not reset the sticky queue of %s: %s", workflow_id, exc.message)


def current_descendants(record: AgentRecord) -> list[ProcessId]:
    """The record's descendants still alive plus those the leader has now (merged, no duplicates)."""
    seen = {(d.pid, d.created): d for d in record.descendants if d.alive()}
    if record.leader is not None and record.leader.alive():  # else its pid may be someone else's by now
        for d in descendants(record.leader.pid):
            seen.setdefault((d.pid, d.created), d)
    return list(seen.values())
