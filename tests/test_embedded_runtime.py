"""The embedded runtime per data dir, with real processes: the dev server, `jangar worker`
subprocesses killed with SIGKILL, agents that record each start.

Launches in the kill tests use a heartbeat timeout of two minutes, longer than any wait here: a
work order that settles at all settled through the orphan sweep, not the heartbeat timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psutil
import pytest
from temporal_fixtures import AGENTS, agent_command, completion_messages, wait_for_file, wait_for_status

from jangar_tui.config import Settings, load_settings
from jangar_tui.models import WorkOrder, WorkOrderStatus
from jangar_tui.orchestration.client import connect
from jangar_tui.orchestration.devserver import port_answers
from jangar_tui.orchestration.embedded import RUNTIME_DIR, SERVER_RECORD, EmbeddedTemporal, recorded_address
from jangar_tui.orchestration.launcher import TemporalLauncher
from jangar_tui.orchestration.procs import ProcessId
from jangar_tui.orchestration.runtime import JangarRuntime
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore

pytestmark = [pytest.mark.temporal, pytest.mark.slow]
S = WorkOrderStatus
JANGAR = Path(sys.executable).parent / "jangar"
DEVELOPER_CONFIG = ("JANGAR_", "CONVEX_", "TEMPORAL_")
LONG_HEARTBEAT_S = 120.0
WAIT_S = 60.0
# A connect or a launch's probe answered within this on a machine busy with other suites.
CONNECT_S = 10.0
TERMINAL = {S.SUCCEEDED, S.FAILED, S.CANCELED}


def data_dir_env(data_dir: Path, agent: str, **extra: str) -> dict[str, str]:
    """Only this data dir's settings: no configured port, queue or Temporal (all per data dir)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(DEVELOPER_CONFIG)}
    env.update(
        JANGAR_DATA_DIR=str(data_dir),
        JANGAR_AGENT_COMMAND=agent,
        JANGAR_USER="tester",
        JANGAR_BACKEND="local",
        **extra,
    )
    return env


def settings_of(env: dict[str, str]) -> Settings:
    return load_settings(env)


def once_agent(starts: Path, seconds: float) -> str:
    return agent_command("once_agent.py", str(starts), str(seconds))


def starts_of(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def server_pid(data_dir: Path) -> int:
    return int(json.loads((data_dir / RUNTIME_DIR / SERVER_RECORD).read_text())["pid"])


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


async def wait_until(condition, what: str, timeout_s: float = WAIT_S) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        if loop.time() > deadline:
            pytest.fail(f"not within {timeout_s:g} s: {what}")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def opened_store(data_dir: Path) -> AsyncIterator[LocalStore]:
    data_dir.mkdir(parents=True, exist_ok=True)
    store = LocalStore(data_dir / "jangar.sqlite3")
    try:
        yield store
    finally:
        await store.close()


class Workers:
    """`jangar worker` subprocesses of one test; whatever is left at the end is killed."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"worker-{len(self.procs)}.log", "wb")  # noqa: SIM115 - the child holds it
        proc = subprocess.Popen([str(JANGAR), "worker"], env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.procs.append(proc)
        return proc

    def kill_all(self) -> None:
        """After the test (passed or failed): the workers, then any server they left recorded."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for record in self.log_dir.glob(f"**/{RUNTIME_DIR}/{SERVER_RECORD}"):
            server = ProcessId.from_dict(json.loads(record.read_text()))
            if server is not None and (process := server.process()) is not None:
                process.kill()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    found = Workers(tmp_path)
    try:
        yield found
    finally:
        found.kill_all()


async def launch(settings: Settings, store: LocalStore, title: str = "t") -> WorkOrder:
    """Create and launch a work order from a bare launcher on the data dir's recorded server
    (this test process attaches to nothing, so it keeps nothing alive)."""
    address = recorded_address(settings.data_dir)
    assert address is not None, "no server recorded for the data dir"
    launcher = TemporalLauncher(
        settings, store, address=address, heartbeat_timeout_s=LONG_HEARTBEAT_S, connect_timeout_s=CONNECT_S
    )
    service = JangarService(store, "tester", launcher)
    session = await service.new_session("Work")
    wo = await service.create_work_order(session.id, title=title, prompt="do it")
    return await service.launch_work_order(wo.id)


async def test_two_data_dirs_launching_at_once_each_run_their_own_work(tmp_path: Path) -> None:
    dirs = [tmp_path / "a", tmp_path / "b"]
    async with opened_store(dirs[0]) as store_a, opened_store(dirs[1]) as store_b:
        stores = [store_a, store_b]
        settings = [settings_of(data_dir_env(d, agent_command("pr_agent.py"))) for d in dirs]
        assert settings[0].task_queue != settings[1].task_queue
        async with (
            JangarRuntime(settings[0], store_a, poll_interval_s=0.2) as ra,
            JangarRuntime(settings[1], store_b, poll_interval_s=0.2) as rb,
        ):
            assert ra.temporal_state.up and rb.temporal_state.up
            assert ra.launcher.address != rb.launcher.address  # a server each, on ports of their own
            services = [JangarService(s, "tester", r.launcher) for s, r in zip(stores, (ra, rb), strict=True)]
            sessions = [await svc.new_session("Work") for svc in services]
            orders = [
                (svc, await svc.create_work_order(session.id, title=f"t{i}", prompt="do it"))
                for svc, session in zip(services, sessions, strict=True)
                for i in range(3)
            ]
            await asyncio.gather(*(svc.launch_work_order(wo.id) for svc, wo in orders))
            for svc, wo in orders:
                done = await wait_for_status(svc.store, wo.id, TERMINAL, timeout_s=WAIT_S)
                # A work order taken by the other data dir's worker would fail there (not found).
                assert done.status == S.SUCCEEDED, done
                assert len(await completion_messages(svc.store, wo.sessionId, wo.id)) == 1


async def test_instances_share_the_data_dirs_server_and_the_last_one_out_stops_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    async with opened_store(data_dir) as store:
        settings = settings_of(data_dir_env(data_dir, agent_command("pr_agent.py")))
        notes: dict[str, list[str]] = {"first": [], "second": []}
        first = JangarRuntime(settings, store, poll_interval_s=0.2, on_note=notes["first"].append)
        await first.start()
        second = JangarRuntime(settings, store, poll_interval_s=0.2, on_note=notes["second"].append)
        try:
            await second.start()
            # "starting…" only from the instance that starts the server.
            assert notes == {"first": ["starting…"], "second": []}
            assert first.endpoint is not None and first.endpoint.started
            assert second.endpoint is not None and not second.endpoint.started  # adopted, not a second one
            assert second.endpoint.address == first.endpoint.address
            pid = server_pid(data_dir)
            host, _, port = first.endpoint.address.rpartition(":")
        finally:
            await first.aclose()  # the instance that started the server quits
        try:
            assert alive(pid) and await port_answers(host, int(port))
            service = JangarService(store, "tester", second.launcher)
            session = await service.new_session("Work")
            wo = await service.create_work_order(session.id, title="t", prompt="do it")
            await service.launch_work_order(wo.id)
            assert (await wait_for_status(store, wo.id, TERMINAL)).status == S.SUCCEEDED
        finally:
            await second.aclose()
        assert not alive(pid) and not await port_answers(host, int(port))
        assert not (data_dir / RUNTIME_DIR / SERVER_RECORD).exists()
        assert list((data_dir / RUNTIME_DIR / "instances").iterdir()) == []


async def test_a_lost_server_is_found_again_without_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    starts = tmp_path / "starts"
    async with opened_store(data_dir) as store:
        settings = settings_of(data_dir_env(data_dir, once_agent(starts, 3)))
        async with JangarRuntime(settings, store, poll_interval_s=0.2) as runtime:
            service = JangarService(store, "tester", runtime.launcher)
            session = await service.new_session("Work")
            wo = await service.create_work_order(session.id, title="t", prompt="do it")
            await service.launch_work_order(wo.id)
            await wait_for_status(store, wo.id, {S.RUNNING})
            await wait_for_file(starts)
            first_pid = server_pid(data_dir)
            os.kill(first_pid, signal.SIGKILL)  # the dev server dies mid-run
            await wait_until(lambda: not alive(first_pid), "the killed server is gone")
            done = await wait_for_status(store, wo.id, TERMINAL, timeout_s=WAIT_S)
            assert done.status == S.SUCCEEDED, done
            assert len(await completion_messages(store, wo.sessionId, wo.id)) == 1
            assert starts_of(starts).count("start") == 1 and "overlap" not in starts_of(starts)
            second_pid = server_pid(data_dir)
            assert second_pid != first_pid and alive(second_pid)
            # And launching works again, on the server found again.
            later = await service.create_work_order(session.id, title="t2", prompt="again")
            await service.launch_work_order(later.id)
            assert (await wait_for_status(store, later.id, TERMINAL, timeout_s=WAIT_S)).status == S.SUCCEEDED
        assert not alive(second_pid)


async def test_a_dead_servers_port_is_taken_again_once_its_last_thread_lets_go(tmp_path: Path) -> None:
    """A killed dev server shows as gone (its main thread a zombie) while its other threads still
    hold its port, for a while on a busy machine. Its replacement waits for the port rather than
    take it for someone else's and move to another one, which restarted the worker on the new
    address and handed its running agents back to run again."""
    data_dir = tmp_path / "d"
    settings = settings_of(data_dir_env(data_dir, agent_command("pr_agent.py")))
    dead = _a_dead_process()
    holder = socket.socket()  # the dead server's port, still held for a moment
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    (data_dir / RUNTIME_DIR).mkdir(parents=True)
    (data_dir / RUNTIME_DIR / SERVER_RECORD).write_text(json.dumps({**dead.as_dict(), "port": port}))
    asyncio.get_running_loop().call_later(1.0, holder.close)
    embedded = EmbeddedTemporal(settings)
    try:
        endpoint = await embedded.attach()
        assert endpoint.started and endpoint.address == f"127.0.0.1:{port}"
    finally:
        holder.close()
        await embedded.detach()


async def test_kill_9_of_a_jangar_worker_mid_run_settles_with_the_agent_run_once_at_a_time(
    tmp_path: Path, workers: Workers
) -> None:
    data_dir = tmp_path / "d"
    starts = tmp_path / "starts"
    env = data_dir_env(data_dir, once_agent(starts, 3))
    settings = settings_of(env)
    async with opened_store(data_dir) as store:
        first = workers.start(env)  # the only instance: it starts the data dir's server
        await wait_until(lambda: recorded_address(data_dir) is not None, "the worker records its server")
        pid = server_pid(data_dir)
        wo = await _launch_when_up(settings, store)
        await wait_for_status(store, wo.id, {S.RUNNING})
        await wait_for_file(starts)
        [first_agent] = [line for line in starts_of(starts) if line != "start"]
        first.kill()  # SIGKILL: no cleanup at all
        first.wait()
        assert alive(pid), "the server outlives a killed instance (the next one adopts it)"

        second = workers.start(env)
        done = await wait_for_status(store, wo.id, TERMINAL, timeout_s=WAIT_S)
        assert done.status == S.SUCCEEDED, done
        assert len(await completion_messages(store, wo.sessionId, wo.id)) == 1
        lines = starts_of(starts)
        assert lines.count("start") == 2 and "overlap" not in lines, lines  # the first run stopped first
        assert server_pid(data_dir) == pid  # adopted, never a second server
        agents = [int(x) for x in lines if x.isdigit()]
        assert int(first_agent) in agents

        second.send_signal(signal.SIGTERM)  # a clean quit of the last instance
        assert second.wait(30) == 0
        await wait_until(lambda: not alive(pid), "the last one out stopped the server")
        assert [a for a in agents if alive(a)] == []


async def test_kill_9_of_the_server_and_the_worker_together_leaves_nothing_for_good(
    tmp_path: Path, workers: Workers
) -> None:
    """The whole runtime killed (a crashed machine session): the next instance starts a server on
    the same database, and the work order is settled and run again, once."""
    data_dir = tmp_path / "d"
    starts = tmp_path / "starts"
    env = data_dir_env(data_dir, once_agent(starts, 3))
    settings = settings_of(env)
    async with opened_store(data_dir) as store:
        first = workers.start(env)
        await wait_until(lambda: recorded_address(data_dir) is not None, "the worker records its server")
        pid = server_pid(data_dir)
        wo = await _launch_when_up(settings, store)
        await wait_for_status(store, wo.id, {S.RUNNING})
        await wait_for_file(starts)
        first.kill()
        first.wait()
        os.kill(pid, signal.SIGKILL)
        await wait_until(lambda: not alive(pid), "the killed server is gone")

        second = workers.start(env)
        done = await wait_for_status(store, wo.id, TERMINAL, timeout_s=WAIT_S)
        assert done.status == S.SUCCEEDED, done
        assert len(await completion_messages(store, wo.sessionId, wo.id)) == 1
        lines = starts_of(starts)
        assert lines.count("start") == 2 and "overlap" not in lines, lines
        new_pid = server_pid(data_dir)
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0
        await wait_until(lambda: not alive(new_pid), "the last one out stopped the server")
        assert [a for a in (int(x) for x in lines if x.isdigit()) if alive(a)] == []


async def _launch_when_up(settings: Settings, store: LocalStore) -> WorkOrder:
    """Launch once a Temporal client can connect to the worker's server. Its port takes TCP
    connections a while before Temporal answers on it (seconds, under load), and a launch in
    between is refused as unreachable, as it should be."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    address = recorded_address(settings.data_dir)
    assert address is not None
    while True:
        try:
            await connect(address, settings.temporal_namespace, timeout_s=CONNECT_S)
            break
        except ConnectionError:
            if loop.time() > deadline:
                pytest.fail("the worker's server never answered")
        await asyncio.sleep(0.1)
    return await launch(settings, store)


def test_the_agent_script_used_here_reports_an_overlap(tmp_path: Path) -> None:
    """once_agent.py, which the tests above trust to tell two runs at once, does tell them."""
    starts = tmp_path / "starts"
    script = [sys.executable, str(AGENTS / "once_agent.py"), str(starts)]
    first = subprocess.Popen([*script, "5"], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + WAIT_S
        while "start" not in starts_of(starts):
            assert time.monotonic() < deadline, "the first run never recorded its start"
            time.sleep(0.05)
        subprocess.run([*script, "0"], check=True, stdout=subprocess.DEVNULL)
    finally:
        first.kill()
        first.wait()
    lines = starts_of(starts)
    assert lines[:4] == ["start", str(first.pid), "overlap", str(first.pid)] and lines[4] == "start", lines


async def test_an_earlier_agent_is_found_by_its_work_order_even_outside_its_group(tmp_path: Path) -> None:
    """A worker killed between spawning the agent and recording it leaves no group to stop: the
    agent and a command it started in a session of its own are still found, by the work order id
    in their environment, and stopped; another work order's agent is left alone."""
    from jangar_tui.orchestration.agent_records import stop_earlier

    # The search covers every process of this user: ids of their own, so that another suite running
    # this test at the same moment neither stops these agents nor has its own stopped by this one.
    mine_id, other_id = f"wo-mine-{uuid.uuid4().hex}", f"wo-other-{uuid.uuid4().hex}"
    script = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], start_new_session=True); time.sleep(60)"
    mine = _agent_with_id([sys.executable, "-c", script], mine_id)
    other = _agent_with_id([sys.executable, "-c", "import time; time.sleep(60)"], other_id)
    try:
        await wait_until(lambda: len(psutil.Process(mine.pid).children()) == 1, "the agent's command started")
        [command] = psutil.Process(mine.pid).children()
        assert os.getsid(command.pid) != os.getsid(mine.pid)  # outside the agent's session and group
        await stop_earlier(mine_id, None)
        await wait_until(lambda: mine.poll() is not None and not alive(command.pid), "both stopped")
        assert other.poll() is None
    finally:
        for proc in (mine, other):
            proc.kill()
            proc.wait()


def _agent_with_id(argv: list[str], work_order_id: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, env={**os.environ, "JANGAR_WORK_ORDER_ID": work_order_id}, start_new_session=True)


def _a_dead_process() -> ProcessId:
    gone = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = ProcessId.of(gone.pid)
    gone.kill()
    gone.wait()
    assert dead is not None and not dead.alive()
    return dead
