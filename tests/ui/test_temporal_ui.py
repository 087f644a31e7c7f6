"""The UI against the real Temporal dev server: launch, live status, detail history, cancel of a
running work order (its agent is killed), and a clean quit that stops the embedded runtime."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest
from temporal_fixtures import agent_command, make_settings, running_worker, wait_for_file
from ui_support import notified, screen_text, until

from jangar_tui.config import load_settings
from jangar_tui.models import WorkOrderStatus
from jangar_tui.orchestration.devserver import DevServer, free_port
from jangar_tui.orchestration.launcher import TemporalLauncher
from jangar_tui.orchestration.runtime import JangarRuntime
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore
from jangar_tui.ui.app import JangarApp
from jangar_tui.ui.screens.confirm import ConfirmScreen
from jangar_tui.ui.screens.work_order_detail import WorkOrderDetailScreen
from jangar_tui.ui.widgets.work_orders.work_order_list import WorkOrderList

pytestmark = pytest.mark.temporal
S = WorkOrderStatus
SLOW = {"polls": 300, "every_s": 0.1}  # a workflow start, an agent kill, a server start take real time


def panel_statuses(app: JangarApp) -> list[S]:
    return [w.status for w in app.screen.query_one(WorkOrderList).work_orders]


async def test_launch_watch_inspect_and_cancel_a_running_work_order(
    temporal_server: DevServer,
    tmp_path: Path,
) -> None:
    pid_file = tmp_path / "agent.pids"
    settings = make_settings(
        tmp_path,
        temporal_server.address,
        agent_command("sleep_agent.py", str(pid_file)),
        JANGAR_WORKER_NAME="[b]rack-7[/b]",  # markup in a name is shown as text
    )
    store = LocalStore(settings)
    try:
        service = JangarService(store, settings.user, TemporalLauncher(settings, store))
        session = await service.new_session("Real Temporal")
        draft = await service.create_work_order(session.id, title="Sleep forever", prompt="zzz")
        async with running_worker(settings, store):
            app = JangarApp(service)
            async with app.run_test(size=(130, 36)) as pilot:
                await until(pilot, lambda: panel_statuses(app) == [S.DRAFT], "the draft")
                await until(pilot, lambda: "● up" in screen_text(pilot), "Temporal up in the status line")
                app.screen.query_one(WorkOrderList).focus()
                await pilot.press("l")
                await until(pilot, lambda: panel_statuses(app) == [S.RUNNING], "running", **SLOW)
                agent_pid = int((await wait_for_file(pid_file)).split()[0])
                assert "▶ running" in screen_text(pilot)

                await pilot.press("enter")
                await until(pilot, lambda: isinstance(app.screen, WorkOrderDetailScreen), "the detail")
                # The agent's output, live in the run log; v shows Temporal's history instead.
                await until(pilot, lambda: "working..." in screen_text(pilot), "the agent's output in the log")
                assert "Run log · 2 events · following" in screen_text(pilot)
                assert "Running on worker [b]rack-7[/b] (attempt 1)." in screen_text(pilot)  # which worker
                await pilot.press("v")
                await until(pilot, lambda: "WorkflowExecutionStarted" in screen_text(pilot), "the history")
                text = screen_text(pilot)
                assert "RUNNING" in text and draft.workflowId in text and settings.task_queue in text

                await pilot.press("c")
                await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "confirmation")
                await pilot.press("ctrl+y")
                # Said at once: requested (or, should the worker be that quick, done), and in the run log.
                await until(
                    pilot,
                    lambda: (
                        "Cancel requested: it ends as canceled once" in notified(pilot)
                        or "Canceled." in notified(pilot)
                    ),
                    "the cancel acknowledged",
                )
                events = (await store.list_work_order_events(draft.id, 200)).page
                assert any(e.text.startswith("Cancel requested. The worker stops the agent") for e in events)
                await until(pilot, lambda: "⊘ canceled" in screen_text(pilot), "canceled, live in the detail", **SLOW)
                # The message the workflow ended with, written by the real worker, as the result.
                await until(
                    pilot,
                    lambda: "The work order was canceled; the agent was stopped." in screen_text(pilot),
                    "the result in the detail",
                    **SLOW,
                )
                assert (await service.get_work_order(draft.id)).status == S.CANCELED
                assert not psutil.pid_exists(agent_pid) or psutil.Process(agent_pid).status() == psutil.STATUS_ZOMBIE
    finally:
        await store.close()


async def test_a_detail_opened_as_the_work_order_ends_shows_its_workflow_close(
    temporal_server: DevServer,
    tmp_path: Path,
) -> None:
    """The workflow records the work order's end, then closes: a detail opened in between (or told
    of the end in between) first sees the workflow RUNNING, and must go on to show it COMPLETED
    (it stopped asking Temporal once the work order had ended, and showed RUNNING for good)."""
    gate = tmp_path / "gate"
    settings = make_settings(tmp_path, temporal_server.address, agent_command("gate_agent.py", str(gate)))
    store = LocalStore(settings)
    try:
        service = JangarService(store, settings.user, TemporalLauncher(settings, store))
        session = await service.new_session("Ends while shown")
        draft = await service.create_work_order(session.id, title="Ends soon", prompt="wait for the gate")
        async with running_worker(settings, store):
            app = JangarApp(service)
            async with app.run_test(size=(130, 36)) as pilot:
                await until(pilot, lambda: "● up" in screen_text(pilot), "Temporal up in the status line")
                app.screen.query_one(WorkOrderList).focus()
                await pilot.press("l")
                await until(pilot, lambda: panel_statuses(app) == [S.RUNNING], "running", **SLOW)
                # The moment between the workflow's record of the end and its close, held open: the
                # store has the end while the agent (and so the workflow) still runs.
                await store.update_work_order_status(draft.id, S.SUCCEEDED)
                await until(pilot, lambda: panel_statuses(app) == [S.SUCCEEDED], "succeeded in the store")
                await pilot.press("enter")
                await until(pilot, lambda: isinstance(app.screen, WorkOrderDetailScreen), "the detail")
                await until(pilot, lambda: "RUNNING" in screen_text(pilot), "the workflow still running", **SLOW)
                assert "✓ succeeded" in screen_text(pilot)
                gate.write_text("go")
                await until(pilot, lambda: "COMPLETED" in screen_text(pilot), "the workflow's close", **SLOW)
                assert "RUNNING" not in screen_text(pilot)
    finally:
        await store.close()


async def test_quitting_stops_the_embedded_temporal_and_leaves_no_process(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "JANGAR_DATA_DIR": str(tmp_path),
            "JANGAR_USER": "alice",
            "JANGAR_EMBEDDED_TEMPORAL_PORT": str(free_port()),
        }
    )
    store = LocalStore(settings)
    service = JangarService(store, settings.user)
    app = JangarApp(service, JangarRuntime(settings, store))
    me = psutil.Process(os.getpid())
    before = {child.pid for child in me.children(recursive=True)}  # e.g. the session's dev server

    def started_here() -> list[psutil.Process]:
        return [
            child
            for child in me.children(recursive=True)
            if child.pid not in before and child.is_running() and child.status() != psutil.STATUS_ZOMBIE
        ]

    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: "● up" in screen_text(pilot), "embedded Temporal up", **SLOW)
        assert f"embedded port {settings.embedded_temporal_port}" in screen_text(pilot)
        assert any("temporal" in child.name() for child in started_here())
        await pilot.press("ctrl+q")
    await app.aclose()
    assert started_here() == []
