"""Which agent runs for which work order, kept in the data dir: at most one agent per work order.

`data_dir/runtime/agents/<work order>.json` holds, while an agent attempt runs: the worker process
(pid, start time, host), the agent's process group leader, every descendant seen so far (Codex
runs its commands in their own session, outside the agent's group, so the group alone cannot
find them), and the activity's task token.

- Before an attempt starts its agent it stops whatever the record names (`stop_recorded`), so a
  first run is always gone before a second begins.
- `sweep_orphans` (run by every attached instance) finds records whose worker is gone (kill -9 of
  a TUI or of `jangar worker`): it stops their agent and fails the orphaned activity through its
  task token, so Temporal retries it at once instead of after the 30 s heartbeat timeout.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from jangar_tui.orchestration.procs import ProcessId, descendants, stop_processes

log = logging.getLogger(__name__)

AGENTS_DIR = Path("runtime") / "agents"
WORKER_GONE = "WorkerGone"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass
class AgentRecord:
    workOrderId: str
    worker: ProcessId
    leader: ProcessId
    taskToken: str  # base64
    descendants: list[ProcessId] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "workOrderId": self.workOrderId,
            "worker": self.worker.as_dict(),
            "leader": self.leader.as_dict(),
            "taskToken": self.taskToken,
            "descendants": [d.as_dict() for d in self.descendants],
        }

    @classmethod
    def from_dict(cls, data: Any) -> AgentRecord | None:
        try:
            worker = ProcessId.from_dict(data["worker"])
            leader = ProcessId.from_dict(data["leader"])
            found = [ProcessId.from_dict(d) for d in data.get("descendants", [])]
            if worker is None or leader is None:
                return None
            return cls(
                workOrderId=str(data["workOrderId"]),
                worker=worker,
                leader=leader,
                taskToken=str(data["taskToken"]),
                descendants=[d for d in found if d is not None],
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


async def stop_recorded(record: AgentRecord) -> None:
    """Stop the recorded agent's group and every recorded descendant still alive (never a process
    whose pid was reused: start times must match)."""
    await stop_processes([record.leader], group=True)
    await stop_processes(record.descendants, group=False)


async def sweep_orphans(records: AgentRecords, client: Client) -> int:
    """Stop the agents of workers that are gone and fail their activities for a prompt retry.

    Returns how many were settled. A record of another host, or of a live worker, is left alone;
    one whose activity Temporal cannot be told about now (server down) is kept for the next sweep.
    """
    settled = 0
    for record in records.all():
        if not record.worker.local or record.worker.alive():
            continue
        await stop_recorded(record)
        handle = client.get_async_activity_handle(task_token=base64.b64decode(record.taskToken))
        try:
            await handle.fail(
                ApplicationError(
                    f"The worker running the agent (pid {record.worker.pid}) is gone; its agent was stopped.",
                    type=WORKER_GONE,
                )
            )
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:  # NOT_FOUND: the attempt is already over
                log.info("could not fail the orphaned activity of %s: %s", record.workOrderId, exc.message)
                continue
        records.remove(record)
        settled += 1
    return settled


def current_descendants(record: AgentRecord) -> list[ProcessId]:
    """The record's descendants still alive plus those the leader has now (merged, no duplicates)."""
    seen = {(d.pid, d.created): d for d in record.descendants if d.alive()}
    if record.leader.alive():  # else its pid may be someone else's by now
        for d in descendants(record.leader.pid):
            seen.setdefault((d.pid, d.created), d)
    return list(seen.values())
