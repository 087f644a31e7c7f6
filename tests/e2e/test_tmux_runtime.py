"""Several real `jangar` TUIs on one data dir, in tmux: they share the data dir's Temporal server,
the last one out stops it, and a TUI killed with SIGKILL mid-run leaves nothing for good.

No port or task queue is configured: both come from the data dir, as for an operator.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from test_tmux_e2e import JANGAR, STARTUP_S, UI_STEP_S, clean_env, panel, processes_with_env, running, wait_until
from tmux import TmuxDriver

from jangar_tui.config import load_settings
from jangar_tui.models import WorkOrderStatus
from jangar_tui.orchestration.embedded import RUNTIME_DIR, SERVER_RECORD
from jangar_tui.orchestration.launcher import TemporalLauncher
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (the e2e test runs jangar in it)"),
]

S = WorkOrderStatus
AGENTS = Path(__file__).resolve().parents[1] / "agents"
ONCE_AGENT = AGENTS / "once_agent.py"
SETTLE_S = 60.0
QUIT_S = 30.0


def data_dir_env(tmp_path: Path, agent: str) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = clean_env(tmp_path / "data", home, 0)
    del env["JANGAR_EMBEDDED_TEMPORAL_PORT"]  # the data dir chooses its own
    env["JANGAR_AGENT_COMMAND"] = agent
    return env


def server_record(data_dir: Path) -> dict[str, int]:
    data: dict[str, int] = json.loads((data_dir / RUNTIME_DIR / SERVER_RECORD).read_text())
    return data


def alive(pid: int) -> bool:
    try:
        return running(psutil.Process(pid))
    except psutil.NoSuchProcess:
        return False


def assert_nothing_left(data_dir: Path, drivers: list[TmuxDriver]) -> None:
    """No process carrying this data dir in its environment runs any more (the tmux servers aside)."""
    tmux_servers = {d.server_pid() for d in drivers}
    strays = processes_with_env("JANGAR_DATA_DIR", str(data_dir), exclude={os.getpid(), *tmux_servers})
    assert not strays, f"left behind: {[(p.pid, p.name()) for p in strays]}"


@pytest.fixture
def drivers() -> Iterator[list[TmuxDriver]]:
    found: list[TmuxDriver] = []
    try:
        yield found
    finally:
        for driver in found:
            driver.kill_server()


def start_tui(drivers: list[TmuxDriver], env: dict[str, str]) -> TmuxDriver:
    driver = TmuxDriver(env, width=120, height=40)
    drivers.append(driver)
    driver.start([str(JANGAR)])
    return driver


def quit_tui(tui: TmuxDriver) -> None:
    pid = tui.pane_pid()
    tui.send_keys("C-q")
    wait_until(lambda: not alive(pid), "jangar exits after ctrl+q", QUIT_S)


def test_two_tuis_share_a_server_and_the_other_launches_after_the_first_quits(
    tmp_path: Path, drivers: list[TmuxDriver]
) -> None:
    env = data_dir_env(tmp_path, f"{sys.executable} {AGENTS / 'pr_agent.py'}")
    data_dir = Path(env["JANGAR_DATA_DIR"])
    first = start_tui(drivers, env)
    first.wait_for_text("Temporal embedded port", "● up", timeout_s=STARTUP_S)
    record = server_record(data_dir)
    second = start_tui(drivers, env)
    second.wait_for_text(f"Temporal embedded port {record['port']} ● up", timeout_s=STARTUP_S)
    quit_tui(first)  # the TUI that started the server quits
    assert alive(record["pid"]), "the server stays while another TUI uses it"

    second.send_keys("C-n")
    second.wait_for_text("Sessions (1)", "⏎ Send", timeout_s=UI_STEP_S)
    second.type_text("Add a health endpoint")
    second.send_keys("Enter")
    second.wait_until(lambda s: "▌you" in s, "the message sent", timeout_s=UI_STEP_S)
    second.send_keys("C-o")
    second.wait_for_text("Save and launch", timeout_s=UI_STEP_S)
    second.send_keys("C-l")
    second.wait_until(lambda s: "✓ succeeded" in panel(s), "the work order succeeds", timeout_s=SETTLE_S)
    assert f"Temporal embedded port {record['port']} ● up" in second.screen()

    quit_tui(second)  # the last one out stops the server
    wait_until(lambda: not alive(record["pid"]), "the server stopped by the last TUI", QUIT_S)
    assert_nothing_left(data_dir, drivers)


def test_kill_9_of_the_tui_mid_run_then_a_restart_settles_it_with_one_agent_at_a_time(
    tmp_path: Path, drivers: list[TmuxDriver]
) -> None:
    starts = tmp_path / "starts"
    env = data_dir_env(tmp_path, f"{sys.executable} {ONCE_AGENT} {starts} 3")
    data_dir = Path(env["JANGAR_DATA_DIR"])
    first = start_tui(drivers, env)
    first.wait_for_text("Temporal embedded port", "● up", timeout_s=STARTUP_S)
    record = server_record(data_dir)
    work_order_id = asyncio.run(_launch(env, record["port"]))
    wait_until(lambda: starts.exists() and "start" in starts.read_text(), "the agent started", SETTLE_S)
    os.kill(first.pane_pid(), 9)  # the TUI dies without any cleanup; its agent and server live on

    second = start_tui(drivers, env)
    restarted = time.monotonic()
    status = asyncio.run(_wait_settled(data_dir, work_order_id))
    settle_s = time.monotonic() - restarted
    print(f"kill -9 of the TUI -> restart -> settled in {settle_s:.1f} s")
    assert status == (S.SUCCEEDED, 1)  # one completion message
    lines = starts.read_text().split()
    assert lines.count("start") == 2 and "overlap" not in lines, lines  # the first run ended before the second
    assert server_record(data_dir)["pid"] == record["pid"]  # adopted, not a second server

    quit_tui(second)
    wait_until(lambda: not alive(record["pid"]), "the adopted server stopped by the last TUI", QUIT_S)
    agents = [int(x) for x in lines if x.isdigit()]
    assert [a for a in agents if alive(a)] == []
    assert_nothing_left(data_dir, drivers)


def test_ctrl_q_mid_run_leaves_the_terminal_clean(tmp_path: Path, drivers: list[TmuxDriver]) -> None:
    """Quitting while an agent runs hands it back (it runs again at the next start). That is the
    expected way out, so the operator's terminal, restored once the app is gone, shows nothing
    after it: no warning or traceback from the Temporal SDK about the handed-back attempt."""
    starts = tmp_path / "starts"
    env = data_dir_env(tmp_path, f"{sys.executable} {ONCE_AGENT} {starts} 600")
    data_dir = Path(env["JANGAR_DATA_DIR"])
    tui = start_tui(drivers, env)
    tui.wait_for_text("Temporal embedded port", "● up", timeout_s=STARTUP_S)
    asyncio.run(_launch(env, server_record(data_dir)["port"]))
    wait_until(lambda: starts.exists() and "start" in starts.read_text(), "the agent started", SETTLE_S)
    quit_tui(tui)
    wait_until(tui.pane_dead, "the pane shows the program ended", QUIT_S)
    after = tui.tmux("capture-pane", "-p", "-S", "-", "-t", tui.target)  # the screen and its history
    assert "Traceback" not in after and "Completing activity" not in after, after
    agents = [int(x) for x in starts.read_text().split() if x.isdigit()]
    assert [a for a in agents if alive(a)] == []
    assert_nothing_left(data_dir, drivers)


async def _launch(env: dict[str, str], port: int) -> str:
    settings = load_settings(env)
    store = LocalStore(settings.db_path)
    try:
        # A long heartbeat timeout: the work order can settle in time only through the orphan sweep.
        launcher = TemporalLauncher(settings, store, address=f"127.0.0.1:{port}", heartbeat_timeout_s=120.0)
        service = JangarService(store, "tester", launcher)
        session = await service.new_session("Work")
        wo = await service.create_work_order(session.id, title="t", prompt="do it")
        await service.launch_work_order(wo.id)
        return wo.id
    finally:
        await store.close()


async def _wait_settled(data_dir: Path, work_order_id: str) -> tuple[WorkOrderStatus, int]:
    store = LocalStore(data_dir / "jangar.sqlite3")
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_S
        while True:
            wo = await store.get_work_order(work_order_id)
            assert wo is not None
            if wo.status.is_terminal:
                page = await store.list_messages(wo.sessionId, numItems=200)
                found = [
                    m for m in page.page if isinstance(m.metadata, dict) and m.metadata.get("workOrderId") == wo.id
                ]
                return wo.status, len(found)
            assert loop.time() < deadline, f"the work order stayed {wo.status.value}"
            await asyncio.sleep(0.1)
    finally:
        await store.close()
