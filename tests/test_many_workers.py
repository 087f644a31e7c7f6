"""Many workers: `jangar worker` processes sharing one task queue on the real Temporal dev server.

Each worker takes at most JANGAR_MAX_AGENTS agents at once, says its name (JANGAR_WORKER_NAME) in
the run log, Temporal and the result, and on SIGTERM drains: it takes no new work, lets its running
agent finish within JANGAR_DRAIN_TIMEOUT, else stops it and hands it back to another worker, and
exits 0 with no agent left behind. The agent (tests/agents/interval_agent.py) records on which
worker it ran and when.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import psutil
import pytest
from temporal_fixtures import WAIT_S, agent_command, completion_messages, make_settings, settings_env, wait_for_status
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from jangar_tui.config import Settings
from jangar_tui.models import EventKind, WorkOrder, WorkOrderStatus
from jangar_tui.orchestration.agent_records import WORK_ORDER_ENV, AgentRecords
from jangar_tui.orchestration.devserver import DevServer
from jangar_tui.orchestration.launcher import TemporalLauncher
from jangar_tui.orchestration.payloads import agent_task_queue
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore

pytestmark = pytest.mark.temporal
S = WorkOrderStatus
TERMINAL = (S.SUCCEEDED, S.FAILED, S.CANCELED)
JANGAR = Path(sys.executable).with_name("jangar")


@dataclass
class Run:
    """One start of the agent: on which worker, when, and when it ended (None: it was stopped)."""

    pid: int
    worker: str
    start: float
    end: float | None


def agent_runs(out: Path) -> list[Run]:
    runs = []
    for start in out.glob("*.start"):
        worker, at = start.read_text().split()
        end = start.with_suffix(".end")
        runs.append(Run(int(start.stem), worker, float(at), float(end.read_text()) if end.exists() else None))
    return sorted(runs, key=lambda run: run.start)


def agent_started(out: Path):  # type: ignore[no-untyped-def]
    async def started() -> bool:
        return bool(agent_runs(out))

    return started


class Workers:
    """`jangar worker` processes on the test's settings, each with its name; all stopped at the end."""

    def __init__(self, settings: Settings, log_dir: Path) -> None:
        self.env = {**os.environ, **settings_env(settings)}
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: list[IO[bytes]] = []

    def start(self, name: str, **env: str) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("ab")
        self._logs.append(log)
        proc = subprocess.Popen(
            [str(JANGAR), "worker"],
            env={**self.env, "JANGAR_WORKER_NAME": name, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text()

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.send_signal(signal.SIGTERM)  # the second one: hand back at once
        for proc in self.procs.values():
            try:
                proc.wait(WAIT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in self._logs:
            log.close()


@pytest.fixture
async def store(tmp_path: Path):
    store = LocalStore(tmp_path / "jangar.sqlite3")
    yield store
    await store.close()


async def agent_pollers(client: Client, settings: Settings) -> set[str]:
    """The identities of the workers polling the agents' queue now (Temporal's view)."""
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=agent_task_queue(settings.task_queue)),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        )
    )
    return {poller.identity for poller in response.pollers}


async def wait_until(predicate, what: str, timeout_s: float = WAIT_S) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await predicate():
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def exited(proc: subprocess.Popen[bytes], timeout_s: float = WAIT_S) -> int:
    return await asyncio.wait_for(asyncio.to_thread(proc.wait), timeout_s)


def jangar_output(env: dict[str, str], *args: str) -> str:
    return subprocess.run([str(JANGAR), *args], env=env, capture_output=True, text=True, check=True).stdout


def agents_left(work_orders: list[WorkOrder]) -> list[int]:
    """Processes still carrying one of the work orders' JANGAR_WORK_ORDER_ID (an agent, its children)."""
    ids = {wo.id for wo in work_orders}
    left = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get(WORK_ORDER_ENV) in ids and proc.status() != psutil.STATUS_ZOMBIE:
                left.append(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return left


async def setup(tmp_path: Path, server: DevServer, store: LocalStore, seconds: float, *extra: str):
    out = tmp_path / "runs"
    agent = agent_command("interval_agent.py", str(out), str(seconds), *extra)
    settings = make_settings(tmp_path, server.address, agent)
    launcher = TemporalLauncher(settings, store, heartbeat_timeout_s=30)
    service = JangarService(store, "tester", launcher)
    session = await service.new_session("Many workers")
    return out, settings, launcher, service, session


async def test_two_workers_share_the_queue_each_within_its_cap(temporal_server: DevServer, store, tmp_path):
    out, settings, launcher, service, session = await setup(tmp_path, temporal_server, store, seconds=1.5)
    workers = Workers(settings, tmp_path)
    client = await launcher.client()
    try:
        for name in ("w1", "w2"):
            workers.start(name, JANGAR_MAX_AGENTS="1")

        async def both_poll() -> bool:
            return {"w1", "w2"} <= await agent_pollers(client, settings)

        await wait_until(both_poll, "both workers to poll the agents' queue under their names")
        orders = [await service.create_work_order(session.id, title=f"t{i}", prompt="work") for i in range(4)]
        await asyncio.gather(*(service.launch_work_order(wo.id) for wo in orders))
        done = [await wait_for_status(store, wo.id, TERMINAL, timeout_s=60) for wo in orders]
    finally:
        workers.close()
    assert [wo.status for wo in done] == [S.SUCCEEDED] * 4
    assert [proc.returncode for proc in workers.procs.values()] == [0, 0]
    runs = agent_runs(out)
    assert len(runs) == 4 and all(run.end is not None for run in runs)
    assert {run.worker for run in runs} == {"w1", "w2"}, "both workers ran agents"
    for name in ("w1", "w2"):
        mine = [run for run in runs if run.worker == name]
        for earlier, later in itertools.pairwise(mine):
            assert earlier.end is not None and earlier.end <= later.start, f"{name} ran two agents at once"
    # Each work order says where its agent ran: in the run log and in its result (wo show).
    for wo in done:
        [result] = await completion_messages(store, wo.sessionId, wo.id)
        worker = result.metadata["worker"]
        assert worker in ("w1", "w2")
        assert await service.work_order_worker(wo, result) == worker
        events = await service.work_order_events_after(wo.id)
        setup_events = [e for e in events if e.kind == EventKind.SETUP and e.text.startswith("Running on worker")]
        assert [e.text for e in setup_events] == [f"Running on worker {worker} (attempt 1)."]


async def test_sigterm_lets_the_running_agent_finish_then_exits_0(temporal_server: DevServer, store, tmp_path):
    out, settings, _, service, session = await setup(tmp_path, temporal_server, store, seconds=3)
    workers = Workers(settings, tmp_path)
    try:
        first = workers.start("draining", JANGAR_DRAIN_TIMEOUT="120")
        wo = await service.create_work_order(session.id, title="finish", prompt="work")
        await service.launch_work_order(wo.id)
        await wait_for_status(store, wo.id, {S.RUNNING})
        first.send_signal(signal.SIGTERM)
        assert await exited(first) == 0
        # It waited for its agent: the agent ran to its end, once, and nothing of it is left.
        [run] = agent_runs(out)
        assert run.worker == "draining" and run.end is not None
        assert agents_left([wo]) == []
        assert AgentRecords(settings.data_dir).all() == []
        assert "draining: no new work" in workers.log("draining")
        # The agent's result waits in Temporal; the next worker records it without running it again.
        workers.start("next")
        done = await wait_for_status(store, wo.id, TERMINAL)
    finally:
        workers.close()
    assert done.status == S.SUCCEEDED
    assert len(agent_runs(out)) == 1
    [result] = await completion_messages(store, wo.sessionId, wo.id)
    assert result.metadata["worker"] == "draining"
    # `jangar wo show` names it, as text and in its JSON.
    env = {**os.environ, **settings_env(settings)}
    shown = await asyncio.to_thread(jangar_output, env, "wo", "show", wo.id)
    assert "worker:       draining" in shown.splitlines()
    document = await asyncio.to_thread(jangar_output, env, "wo", "show", wo.id, "--json")
    assert json.loads(document)["worker"] == "draining"


async def test_an_agent_past_the_drain_timeout_is_handed_back_and_finished_elsewhere(
    temporal_server: DevServer, store, tmp_path
):
    # The first run would take ten minutes: it is certainly still running when its worker leaves.
    out, settings, launcher, service, session = await setup(tmp_path, temporal_server, store, 1, "--first=600")
    workers = Workers(settings, tmp_path)
    client = await launcher.client()
    try:
        first = workers.start("leaving", JANGAR_DRAIN_TIMEOUT="0.5")
        wo = await service.create_work_order(session.id, title="hand back", prompt="work")
        await service.launch_work_order(wo.id)
        await wait_for_status(store, wo.id, {S.RUNNING})
        await wait_until(agent_started(out), "the agent to start")
        workers.start("staying")

        async def staying_polls() -> bool:
            return "staying" in await agent_pollers(client, settings)

        await wait_until(staying_polls, "the second worker to poll")
        first.send_signal(signal.SIGTERM)
        assert await exited(first) == 0
        # The staying worker may already have started the handed-back run while this one exited.
        stopped = agent_runs(out)[0]
        assert stopped.worker == "leaving"
        assert not psutil.pid_exists(stopped.pid) or psutil.Process(stopped.pid).status() == psutil.STATUS_ZOMBIE
        done = await wait_for_status(store, wo.id, TERMINAL)
    finally:
        workers.close()
    assert done.status == S.SUCCEEDED
    first_run, second_run = agent_runs(out)
    assert (first_run.worker, first_run.end) == ("leaving", None)  # stopped, never finished there
    assert second_run.worker == "staying" and second_run.end is not None
    [result] = await completion_messages(store, wo.sessionId, wo.id)
    assert result.metadata["worker"] == "staying"
    texts = [e.text for e in await service.work_order_events_after(wo.id)]
    assert "Running on worker leaving (attempt 1)." in texts
    assert any(t.startswith("Worker leaving is shutting down: the agent was stopped and handed back") for t in texts)
    assert "Running on worker staying (attempt 2)." in texts
    assert agents_left([wo]) == []
    # A hand-back is the expected way out, not a failure: no SDK warning with a traceback.
    assert "Traceback" not in workers.log("leaving"), workers.log("leaving")


async def test_a_second_signal_hands_the_agent_back_at_once(temporal_server: DevServer, store, tmp_path):
    out, settings, _, service, session = await setup(tmp_path, temporal_server, store, seconds=600)
    workers = Workers(settings, tmp_path)
    try:
        first = workers.start("impatient", JANGAR_DRAIN_TIMEOUT="600")
        wo = await service.create_work_order(session.id, title="forever", prompt="work")
        await service.launch_work_order(wo.id)
        await wait_for_status(store, wo.id, {S.RUNNING})
        await wait_until(agent_started(out), "the agent to start")
        first.send_signal(signal.SIGTERM)

        async def draining() -> bool:
            return "draining: no new work" in workers.log("impatient")

        await wait_until(draining, "the worker to start draining")
        assert first.poll() is None  # the agent has ten minutes: it is waited for
        first.send_signal(signal.SIGINT)
        assert await exited(first) == 0
        assert agents_left([wo]) == []
        [run] = agent_runs(out)
        assert run.end is None
        texts = [e.text for e in await service.work_order_events_after(wo.id)]
        assert any(t.startswith("Worker impatient is shutting down") for t in texts)
        assert "second signal: handing running agents back now" in workers.log("impatient")
    finally:
        workers.close()
        await service.cancel_work_order(wo.id)  # handed back, it would wait for a worker forever
