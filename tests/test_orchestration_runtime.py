"""`JangarRuntime`: the embedded Temporal dev server, the in-process worker, and a runtime that
comes up even when Temporal cannot be reached."""

from __future__ import annotations

import socket
from pathlib import Path

import psutil
import pytest
from temporal_fixtures import agent_command, completion_messages, wait_for_status
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from jangar_tui.config import load_settings
from jangar_tui.models import ErrorCode, JangarError, WorkOrderStatus
from jangar_tui.orchestration.devserver import free_port, port_answers
from jangar_tui.orchestration.runtime import JangarRuntime
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore

pytestmark = pytest.mark.temporal
S = WorkOrderStatus


@pytest.fixture
async def store(tmp_path: Path):
    store = LocalStore(tmp_path / "jangar.sqlite3")
    yield store
    await store.close()


def embedded_settings(tmp_path: Path, port: int, **extra: str):
    env = {
        "JANGAR_DATA_DIR": str(tmp_path),
        "JANGAR_EMBEDDED_TEMPORAL_PORT": str(port),
        "JANGAR_TASK_QUEUE": "runtime-test",
        "JANGAR_AGENT_COMMAND": agent_command("pr_agent.py"),
        "JANGAR_USER": "tester",
        "JANGAR_BACKEND": "local",
    }
    env.update(extra)
    return load_settings(env)


async def test_embedded_runtime_starts_temporal_runs_work_and_stops_everything(store, tmp_path):
    port = free_port()
    settings = embedded_settings(tmp_path, port)
    async with JangarRuntime(settings, store, poll_interval_s=0.1) as runtime:
        endpoint = runtime.endpoint
        assert endpoint is not None and endpoint.started and endpoint.pid is not None
        server_pid = endpoint.pid
        assert runtime.temporal_state.up and runtime.temporal_state.embedded
        assert runtime.temporal_state.address == f"127.0.0.1:{port}"
        assert (tmp_path / "temporal.db").exists() and (tmp_path / "temporal.log").exists()
        service = JangarService(store, "tester", runtime.launcher)
        session = await service.new_session("Work")
        wo = await service.create_work_order(session.id, title="t", prompt="do it")
        await service.launch_work_order(wo.id)
        done = await wait_for_status(store, wo.id, {S.SUCCEEDED, S.FAILED, S.CANCELED})
        assert done.status == S.SUCCEEDED  # the in-process worker ran it
        assert len(await completion_messages(store, wo.sessionId, wo.id)) == 1
    assert not psutil.pid_exists(server_pid) or psutil.Process(server_pid).status() == psutil.STATUS_ZOMBIE
    assert not await port_answers("127.0.0.1", port)


async def test_runtime_without_embedded_worker_runs_no_worker_but_reconciles(store, tmp_path):
    settings = embedded_settings(tmp_path, free_port(), JANGAR_EMBEDDED_WORKER="false")
    async with JangarRuntime(settings, store, poll_interval_s=0.1, reconcile_interval_s=0.1) as runtime:
        assert runtime.temporal_state.up and not runtime.runs_worker
        service = JangarService(store, "tester", runtime.launcher)
        session = await service.new_session("Work")
        wo = await service.create_work_order(session.id, title="t", prompt="do it")
        launched = await service.launch_work_order(wo.id)
        assert launched.status == S.SUBMITTED
        description = await runtime.launcher.describe(launched)
        assert description is not None and description.status == "RUNNING"
        # Nobody polls the task queue, so nobody will pick it up.
        client = await runtime.launcher.client()
        queue = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=settings.temporal_namespace,
                task_queue=TaskQueue(name=settings.task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )
        )
        assert list(queue.pollers) == []
        # The runtime's reconciler notices a workflow that ends without telling the store.
        await client.get_workflow_handle(launched.workflowId).terminate(reason="stuck")
        done = await wait_for_status(store, wo.id, {S.CANCELED, S.FAILED})
        assert done.status == S.CANCELED
        [message] = await completion_messages(store, wo.sessionId, wo.id)
        assert "terminated" in message.content and "stuck" in message.content


async def test_runtime_comes_up_when_the_embedded_port_is_taken_by_something_else(store, tmp_path):
    # Something that is not Temporal holds the port: nothing is started, Temporal reports down.
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    port = squatter.getsockname()[1]
    try:
        settings = embedded_settings(tmp_path, port)
        runtime = JangarRuntime(settings, store, poll_interval_s=0.1, connect_timeout_s=0.5)
        await runtime.start()
        try:
            assert runtime.endpoint is None
            assert runtime.temporal_state.up is False
            service = JangarService(store, "tester", runtime.launcher)
            session = await service.new_session("Work")
            wo = await service.create_work_order(session.id, title="t", prompt="do it")
            with pytest.raises(JangarError) as info:
                await service.launch_work_order(wo.id)
            assert info.value.code == ErrorCode.UNAVAILABLE
            assert (await store.get_work_order(wo.id)).status == S.DRAFT
        finally:
            await runtime.aclose()
    finally:
        squatter.close()


async def test_runtime_comes_up_when_the_configured_temporal_is_down(store, tmp_path):
    address = f"127.0.0.1:{free_port()}"
    settings = embedded_settings(tmp_path, free_port(), TEMPORAL_ADDRESS=address)
    async with JangarRuntime(settings, store, poll_interval_s=0.1) as runtime:
        assert runtime.endpoint is None and not runtime.embedded and not runtime.runs_worker
        state = runtime.temporal_state
        assert state.up is False and state.address == address and state.detail
