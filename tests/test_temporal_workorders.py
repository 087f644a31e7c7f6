"""Work orders on the real Temporal dev server: launch, agents, cancel, idempotence, crashes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

import psutil
import pytest
from temporal_fixtures import (
    WAIT_S,
    agent_command,
    completion_messages,
    make_settings,
    running_worker,
    settings_env,
    start_dev_server,
    wait_for_file,
    wait_for_status,
)
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import CancelledError
from temporalio.service import RPCError

from jangar_tui.models import ErrorCode, JangarError, Role, WorkOrderStatus
from jangar_tui.orchestration.devserver import DevServer
from jangar_tui.orchestration.launcher import TemporalLauncher
from jangar_tui.orchestration.payloads import WORKFLOW_NAME, WorkOrderInput
from jangar_tui.orchestration.reconciler import Reconciler
from jangar_tui.outcome import COMPLETION_KIND
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore

pytestmark = pytest.mark.temporal
S = WorkOrderStatus
TERMINAL = (S.SUCCEEDED, S.FAILED, S.CANCELED)


@pytest.fixture
async def store(tmp_path: Path):
    store = LocalStore(tmp_path / "jangar.sqlite3")
    yield store
    await store.close()


async def new_work_order(service: JangarService, prompt: str = "Fix the flaky test", **kw):
    session = await service.new_session("Work")
    return await service.create_work_order(session.id, title="Fix it", prompt=prompt, **kw)


def service_for(store: LocalStore, launcher: TemporalLauncher) -> JangarService:
    return JangarService(store, "tester", launcher)


async def watch_statuses(store: LocalStore, session_id: str, seen: list[WorkOrderStatus]) -> None:
    async for orders in store.watch_work_orders(session_id):
        for order in orders:
            if not seen or seen[-1] != order.status:
                seen.append(order.status)


async def test_launch_runs_the_agent_to_success_with_the_pr_url(temporal_server: DevServer, store, tmp_path):
    settings = make_settings(tmp_path, temporal_server.address, agent_command("pr_agent.py"))
    launcher = TemporalLauncher(settings, store)
    service = service_for(store, launcher)
    wo = await new_work_order(service)
    seen: list[WorkOrderStatus] = []
    watcher = asyncio.create_task(watch_statuses(store, wo.sessionId, seen))
    async with running_worker(settings, store):
        launched = await service.launch_work_order(wo.id)
        assert launched.status in (S.SUBMITTED, S.ACCEPTED, S.RUNNING, S.SUCCEEDED)
        done = await wait_for_status(store, wo.id, TERMINAL)
        # The store shows `succeeded` once the record activity ran; the workflow closes just after.
        client = await launcher.client()
        await asyncio.wait_for(client.get_workflow_handle(wo.workflowId).result(), WAIT_S)
    watcher.cancel()
    assert done.status == S.SUCCEEDED
    assert done.prUrl == "https://github.com/acme/widgets/pull/42"
    # The store moved through the whole machine, in order (the watcher may miss fast steps).
    order = [S.DRAFT, S.SUBMITTED, S.ACCEPTED, S.RUNNING, S.SUCCEEDED]
    assert seen[0] == S.DRAFT and seen[-1] == S.SUCCEEDED
    assert [order.index(s) for s in seen] == sorted(order.index(s) for s in seen)
    messages = await completion_messages(store, wo.sessionId, wo.id)
    assert len(messages) == 1
    assert messages[0].role == Role.ASSISTANT
    assert "Opened https://github.com/acme/widgets/pull/42." in messages[0].content
    assert "reading the repository" not in messages[0].content  # stderr progress is not the answer
    assert messages[0].metadata["kind"] == COMPLETION_KIND
    assert messages[0].metadata["prUrl"] == done.prUrl
    description = await launcher.describe(done)
    assert description is not None and description.status == "COMPLETED"
    history = await launcher.history(done)
    assert history[0].eventType == "WorkflowExecutionStarted"
    assert any(e.eventType == "ActivityTaskScheduled" and "jangar.run_agent" in e.details for e in history)


async def test_failing_agent_fails_the_work_order_with_its_output(temporal_server: DevServer, store, tmp_path):
    settings = make_settings(tmp_path, temporal_server.address, agent_command("fail_agent.py"))
    service = service_for(store, TemporalLauncher(settings, store))
    wo = await new_work_order(service)
    async with running_worker(settings, store):
        await service.launch_work_order(wo.id)
        done = await wait_for_status(store, wo.id, TERMINAL)
    assert done.status == S.FAILED
    assert done.prUrl is None
    [message] = await completion_messages(store, wo.sessionId, wo.id)
    assert message.role == Role.SYSTEM
    assert "exited with code 3" in message.content
    assert "boom: the tests do not pass" in message.content
    assert message.metadata["exitCode"] == 3


async def test_missing_agent_command_fails_with_a_clear_message(temporal_server: DevServer, store, tmp_path):
    settings = make_settings(tmp_path, temporal_server.address, "jangar-no-such-agent-xyz exec")
    service = service_for(store, TemporalLauncher(settings, store))
    wo = await new_work_order(service)
    async with running_worker(settings, store):
        await service.launch_work_order(wo.id)
        done = await wait_for_status(store, wo.id, TERMINAL)
    assert done.status == S.FAILED
    [message] = await completion_messages(store, wo.sessionId, wo.id)
    assert "'jangar-no-such-agent-xyz' was not found" in message.content
    assert "JANGAR_AGENT_COMMAND" in message.content


async def test_a_prompt_with_a_nul_fails_at_once_as_an_argument_and_reaches_the_agent_on_stdin(
    temporal_server: DevServer, store, tmp_path
):
    prompt = "before\x00after"
    out = tmp_path / "received.bin"
    arg = make_settings(tmp_path, temporal_server.address, agent_command("record_agent.py", str(out), "arg"))
    service = service_for(store, TemporalLauncher(arg, store))
    wo = await new_work_order(service, prompt=prompt)
    async with running_worker(arg, store):
        await service.launch_work_order(wo.id)
        done = await wait_for_status(store, wo.id, TERMINAL)
    assert done.status == S.FAILED
    assert not out.exists(), "the agent was never started"
    [message] = await completion_messages(store, wo.sessionId, wo.id)
    assert "NUL character" in message.content
    assert "JANGAR_AGENT_PROMPT_VIA=stdin" in message.content

    stdin = make_settings(
        tmp_path,
        temporal_server.address,
        agent_command("record_agent.py", str(out), "stdin"),
        JANGAR_AGENT_PROMPT_VIA="stdin",
    )
    service = service_for(store, TemporalLauncher(stdin, store))
    wo = await new_work_order(service, prompt=prompt)
    async with running_worker(stdin, store):
        await service.launch_work_order(wo.id)
        done = await wait_for_status(store, wo.id, TERMINAL)
    assert done.status == S.SUCCEEDED
    assert out.read_bytes() == prompt.encode()


@pytest.mark.parametrize("via", ["arg", "stdin"])
async def test_prompt_with_shell_metacharacters_reaches_the_agent_byte_for_byte(
    temporal_server: DevServer, store, tmp_path, via
):
    out = tmp_path / "received.bin"
    prompt = "$(rm -rf /) ; | & > \"' ` \n * ~ {a,b} $HOME \\ é 中 \t end"
    settings = make_settings(
        tmp_path, temporal_server.address, agent_command("record_agent.py", str(out), via), JANGAR_AGENT_PROMPT_VIA=via
    )
    service = service_for(store, TemporalLauncher(settings, store))
    wo = await new_work_order(service, prompt=prompt)
    async with running_worker(settings, store):
        await service.launch_work_order(wo.id)
        done = await wait_for_status(store, wo.id, TERMINAL)
    assert done.status == S.SUCCEEDED
    assert out.read_bytes() == prompt.encode()


async def test_workspace_is_a_clone_of_the_target_repo_on_the_target_branch(temporal_server: DevServer, tmp_path):
    origin = _git_repo_with_one_commit(tmp_path / "origin")
    out = tmp_path / "received.bin"
    settings = make_settings(
        tmp_path,
        temporal_server.address,
        agent_command("record_agent.py", str(out), "arg"),
        JANGAR_ALLOW_LOCAL_REPOS="true",  # the origin is a local repository
    )
    store = LocalStore(settings)  # the settings allow the local origin
    try:
        service = service_for(store, TemporalLauncher(settings, store))
        wo = await new_work_order(service, target_repo=str(origin), target_branch="jangar/fix-1")
        async with running_worker(settings, store):
            await service.launch_work_order(wo.id)
            done = await wait_for_status(store, wo.id, TERMINAL)
        assert done.status == S.SUCCEEDED, (await completion_messages(store, wo.sessionId, wo.id))[0].content
        [message] = await completion_messages(store, wo.sessionId, wo.id)
    finally:
        await store.close()
    cwd = Path(message.content.split("cwd=", 1)[1].splitlines()[0].strip())
    # The agent changed nothing, and the result says so (delivery's note).
    assert "no changes" in message.content
    assert cwd.parent == tmp_path / "workspaces"
    assert _git("-C", str(cwd), "branch", "--show-current") == "jangar/fix-1"


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()


def _git_repo_with_one_commit(path: Path) -> Path:
    _git("init", "-q", "-b", "main", str(path))
    _git("-C", str(path), "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "--allow-empty", "-m", "init")
    return path


def _start_worker(env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    """A worker in a process of its own, as `jangar worker` runs, so that a test can kill it."""
    return subprocess.Popen([sys.executable, "-m", "jangar_tui.orchestration.worker"], env=env, stdout=log, stderr=log)


def _group_alive(pgid: int) -> bool:
    return any(
        p.info["status"] != psutil.STATUS_ZOMBIE for p in psutil.process_iter(["status"]) if _pgid(p.pid) == pgid
    )


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except (ProcessLookupError, PermissionError):
        return None


async def _wait_group_gone(pgid: int, timeout_s: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        if not _group_alive(pgid):
            return True
        await asyncio.sleep(0.05)
    return not _group_alive(pgid)


@pytest.mark.parametrize("ignore_term", [False, True], ids=["term", "kill-after-grace"])
async def test_cancel_kills_the_agent_process_group(temporal_server: DevServer, store, tmp_path, ignore_term):
    pids = tmp_path / "pids"
    args = [str(pids)] + (["--ignore-term"] if ignore_term else [])
    settings = make_settings(tmp_path, temporal_server.address, agent_command("sleep_agent.py", *args))
    launcher = TemporalLauncher(settings, store, heartbeat_timeout_s=5)
    service = service_for(store, launcher)
    wo = await new_work_order(service)
    async with running_worker(settings, store):
        await service.launch_work_order(wo.id)
        pid, pgid, child = map(int, (await wait_for_file(pids)).split())
        await wait_for_status(store, wo.id, {S.RUNNING})
        assert pgid == pid and _pgid(child) == pgid and _group_alive(pgid)
        await service.cancel_work_order(wo.id)
        # Measured bound from the brief: the whole group is gone within 5 s of the cancel.
        assert await _wait_group_gone(pgid, 5.0), "the agent's process group survived the cancel"
        done = await wait_for_status(store, wo.id, TERMINAL)
        # The store reads canceled once the record activity ran; the workflow closes on its next
        # task, which needs the worker: wait for it inside this block.
        client = await launcher.client()
        with pytest.raises(WorkflowFailureError) as ended:
            await asyncio.wait_for(client.get_workflow_handle(wo.workflowId).result(), WAIT_S)
    assert done.status == S.CANCELED
    [message] = await completion_messages(store, wo.sessionId, wo.id)
    assert message.role == Role.SYSTEM
    assert "canceled" in message.content and "working..." in message.content
    assert isinstance(ended.value.cause, CancelledError)  # the workflow itself ends canceled
    description = await launcher.describe(done)
    assert description is not None and description.status == "CANCELED"


async def test_cancel_of_a_draft_needs_no_temporal(temporal_server: DevServer, store, tmp_path):
    settings = make_settings(tmp_path, temporal_server.address, agent_command("pr_agent.py"))
    launcher = TemporalLauncher(settings, store)
    wo = await new_work_order(service_for(store, launcher))
    canceled = await launcher.cancel(wo)
    assert canceled.status == S.CANCELED
    assert await launcher.describe(canceled) is None  # never reached Temporal


async def test_double_launch_starts_one_workflow(temporal_server: DevServer, store, tmp_path):
    settings = make_settings(tmp_path, temporal_server.address, agent_command("pr_agent.py"))
    launcher = TemporalLauncher(settings, store)
    second = TemporalLauncher(settings, store)  # another UI on the same store
    wo = await new_work_order(service_for(store, launcher))
    first, again = await asyncio.gather(launcher.launch(wo), second.launch(wo))
    assert first.status == S.SUBMITTED and again.status == S.SUBMITTED
    third = await launcher.launch(wo)  # the caller's copy still says draft
    assert third.status == S.SUBMITTED
    client = await launcher.client()
    runs = [w async for w in client.list_workflows(f'WorkflowId = "{wo.workflowId}"')]
    assert len(runs) == 1
    assert runs[0].status == WorkflowExecutionStatus.RUNNING
    await client.get_workflow_handle(wo.workflowId).terminate("test cleanup")


async def test_launch_while_temporal_is_down_keeps_the_draft_then_works_once_it_is_back(store, tmp_path):
    from jangar_tui.orchestration.devserver import free_port

    port = free_port()
    address = f"127.0.0.1:{port}"
    settings = make_settings(tmp_path, address, agent_command("pr_agent.py"))
    launcher = TemporalLauncher(settings, store, connect_timeout_s=1.0)
    service = service_for(store, launcher)
    wo = await new_work_order(service)
    with pytest.raises(JangarError) as info:
        await service.launch_work_order(wo.id)
    assert info.value.code == ErrorCode.UNAVAILABLE
    assert f"Temporal at {address} is not reachable" in info.value.message
    assert (await store.get_work_order(wo.id)).status == S.DRAFT
    assert (await launcher.check_state()).up is False

    server = await asyncio.to_thread(start_dev_server, port, tmp_path)
    try:
        assert (await launcher.check_state()).up is True
        async with running_worker(settings, store):
            await service.launch_work_order(wo.id)
            done = await wait_for_status(store, wo.id, TERMINAL)
        assert done.status == S.SUCCEEDED
        # Temporal goes away again (a second server on the same port comes back later).
        await asyncio.to_thread(server.stop)
        wo2 = await new_work_order(service)
        with pytest.raises(JangarError) as again:
            await service.launch_work_order(wo2.id)
        assert again.value.code == ErrorCode.UNAVAILABLE
        server = await asyncio.to_thread(start_dev_server, port, tmp_path)
        launched = await service.launch_work_order(wo2.id)
        assert launched.status == S.SUBMITTED
    finally:
        await asyncio.to_thread(server.stop)


async def test_watch_state_reports_up_then_down(tmp_path, store):
    server = await asyncio.to_thread(start_dev_server, None, tmp_path)
    settings = make_settings(tmp_path, server.address, agent_command("pr_agent.py"))
    launcher = TemporalLauncher(settings, store, poll_interval_s=0.05, connect_timeout_s=0.5)
    states = launcher.watch_state()
    try:
        first = await anext(states)
        assert first.up and first.address == server.address and not first.embedded
        await asyncio.to_thread(server.stop)
        second = await asyncio.wait_for(anext(states), 10)
        assert second.up is False and second.detail
    finally:
        await states.aclose()
        await asyncio.to_thread(server.stop)


async def test_retry_copies_a_failed_work_order_into_a_new_draft(temporal_server: DevServer, store, tmp_path):
    settings = make_settings(tmp_path, temporal_server.address, agent_command("fail_agent.py"))
    launcher = TemporalLauncher(settings, store)
    service = service_for(store, launcher)
    wo = await new_work_order(service, target_repo="acme/widgets", target_branch="fix")
    with pytest.raises(JangarError) as refused:
        await service.retry_work_order(wo.id)
    assert refused.value.code == ErrorCode.INVALID_TRANSITION
    await store.update_work_order_status(wo.id, S.CANCELED)
    retried = await service.retry_work_order(wo.id)
    assert retried.status == S.DRAFT and retried.id != wo.id and retried.workflowId != wo.workflowId
    assert (retried.prompt, retried.title, retried.targetRepo, retried.targetBranch) == (
        wo.prompt,
        wo.title,
        wo.targetRepo,
        wo.targetBranch,
    )


async def test_reconciler_closes_a_work_order_whose_workflow_was_terminated(
    temporal_server: DevServer, store, tmp_path
):
    settings = make_settings(tmp_path, temporal_server.address, agent_command("pr_agent.py"))
    launcher = TemporalLauncher(settings, store)
    service = service_for(store, launcher)
    wo = await new_work_order(service)
    await service.launch_work_order(wo.id)  # no worker: the workflow waits, the order stays submitted
    client = await launcher.client()
    await client.get_workflow_handle(wo.workflowId).terminate(reason="operator pulled the plug")
    fixed = await Reconciler(store, launcher).reconcile_once()
    assert [w.id for w in fixed] == [wo.id]
    done = await store.get_work_order(wo.id)
    assert done.status == S.CANCELED
    [message] = await completion_messages(store, wo.sessionId, wo.id)
    assert message.role == Role.SYSTEM
    assert "terminated" in message.content and "operator pulled the plug" in message.content
    assert await Reconciler(store, launcher).reconcile_once() == []  # nothing left to fix


async def test_worker_killed_mid_run_the_next_worker_finishes_with_one_message(
    temporal_server: DevServer, store, tmp_path
):
    runs = tmp_path / "runs"
    settings = make_settings(tmp_path, temporal_server.address, agent_command("crash_agent.py", str(runs)))
    # Short heartbeat timeout: the dead worker's agent attempt is retried after 2 s.
    launcher = TemporalLauncher(settings, store, heartbeat_timeout_s=2)
    service = service_for(store, launcher)
    wo = await new_work_order(service)
    env = {**os.environ, **settings_env(settings), "JANGAR_DATA_DIR": str(tmp_path)}
    store_file = tmp_path / "jangar.sqlite3"
    assert store.path == store_file  # the worker subprocess opens the same database
    log = (tmp_path / "workers.log").open("ab")
    first = _start_worker(env, log)
    second: subprocess.Popen[bytes] | None = None
    try:
        await service.launch_work_order(wo.id)
        await wait_for_status(store, wo.id, {S.RUNNING})
        first_agent = int((await wait_for_file(runs)).split()[0])
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert psutil.pid_exists(first_agent)  # orphaned agent, still running
        second = _start_worker(env, log)
        done = await wait_for_status(store, wo.id, TERMINAL)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(15)
        log.close()
    assert second is not None and second.returncode == 0  # clean shutdown on SIGTERM
    assert done.status == S.SUCCEEDED
    assert done.prUrl == "https://github.com/acme/widgets/pull/7"
    messages = await completion_messages(store, wo.sessionId, wo.id)
    assert len(messages) == 1 and "second attempt" in messages[0].content
    # The new attempt killed the agent the dead worker left behind.
    assert not _group_alive(first_agent)


async def test_workers_lost_on_every_attempt_fail_the_work_order_and_stop_the_agents(
    temporal_server: DevServer, store, tmp_path
):
    pids = tmp_path / "pids"
    settings = make_settings(tmp_path, temporal_server.address, agent_command("sleep_agent.py", str(pids)))
    launcher = TemporalLauncher(settings, store, heartbeat_timeout_s=2)
    service = service_for(store, launcher)
    wo = await new_work_order(service)
    env = {**os.environ, **settings_env(settings)}
    log = (tmp_path / "workers.log").open("ab")
    workers: list[subprocess.Popen[bytes]] = []
    agents: list[int] = []

    async def next_agent() -> int:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while loop.time() < deadline:
            if pids.exists() and (pid := int(pids.read_text().split()[0])) not in agents:
                return pid
            await asyncio.sleep(0.05)
        pytest.fail("no new agent attempt started")

    try:
        await service.launch_work_order(wo.id)
        for _ in range(2):  # both attempts lose their worker while the agent runs
            workers.append(_start_worker(env, log))
            agents.append(await next_agent())
            workers[-1].send_signal(signal.SIGKILL)
            workers[-1].wait()
        assert all(psutil.pid_exists(pid) for pid in agents[-1:])  # orphaned, still running
        workers.append(_start_worker(env, log))
        done = await wait_for_status(store, wo.id, TERMINAL)
        # The last orphan is stopped by the worker that records the outcome.
        for pid in agents:
            assert await _wait_group_gone(pid, 5.0), f"agent {pid} survived its lost worker"
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(15)
        log.close()
    assert done.status == S.FAILED
    [message] = await completion_messages(store, wo.sessionId, wo.id)
    assert "stopped responding (no heartbeat for 2 s)" in message.content


async def test_a_retried_follow_up_still_follows_up_the_same_work_order(tmp_path, store):
    # Retrying only reads and writes the store: no Temporal server is needed.
    settings = make_settings(tmp_path, "127.0.0.1:9", agent_command("fail_agent.py"))
    service = service_for(store, TemporalLauncher(settings, store))
    first = await new_work_order(service, target_repo="acme/widgets")
    await store.update_work_order_status(first.id, S.CANCELED)
    follow_up = await service.follow_up_work_order(first.id, "Address the review", launch=False)
    await store.update_work_order_status(follow_up.id, S.CANCELED)
    retried = await service.retry_work_order(follow_up.id)
    # The link keeps the worktree, the branch, the pull request and the Codex thread of the chain.
    assert retried.followUpOf == first.id
    assert (retried.prompt, retried.title, retried.targetRepo, retried.targetBranch) == (
        follow_up.prompt,
        follow_up.title,
        follow_up.targetRepo,
        follow_up.targetBranch,
    )
    # When the work order it followed up is deleted, the retry is a work order of its own.
    await store.remove_work_order(first.id)
    alone = await service.retry_work_order(follow_up.id)
    assert alone.followUpOf is None and alone.targetBranch == follow_up.targetBranch


async def test_two_follow_ups_of_one_worktree_launched_at_once_are_not_both_launched(
    temporal_server: DevServer, store, tmp_path
):
    # No worker: a launched workflow waits, its work order stays submitted.
    settings = make_settings(tmp_path, temporal_server.address, agent_command("pr_agent.py"))
    launcher = TemporalLauncher(settings, store)
    service = service_for(store, launcher)
    first = await new_work_order(service, target_repo="acme/widgets")
    await store.update_work_order_status(first.id, S.CANCELED)
    a = await service.follow_up_work_order(first.id, "One note", launch=False)
    b = await service.follow_up_work_order(first.id, "Another note", launch=False)
    results = await asyncio.gather(
        service.launch_work_order(a.id), service.launch_work_order(b.id), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, JangarError)]
    launched = [r for r in results if not isinstance(r, BaseException)]
    assert len(launched) == 1 and launched[0].status == S.SUBMITTED, results
    assert len(refused) == 1 and refused[0].code == ErrorCode.CONFLICT, results
    loser = b if launched[0].id == a.id else a
    assert (await store.get_work_order(loser.id)).status == S.DRAFT
    # Its workflow, if the launch had started one, was withdrawn: nothing waits to run it.
    description = await launcher.describe(loser)
    assert description is None or description.status == "TERMINATED", description
    # Once the other has ended, launching it again works (a new workflow under the same id).
    await store.update_work_order_status(launched[0].id, S.CANCELED)
    relaunched = await service.launch_work_order(loser.id)
    assert relaunched.status == S.SUBMITTED
    description = await launcher.describe(relaunched)
    assert description is not None and description.status == "RUNNING"
    client = await launcher.client()
    for work_order in (a, b):
        with contextlib.suppress(RPCError):
            await client.get_workflow_handle(work_order.workflowId).terminate(reason="test over")


async def test_a_worker_does_not_run_a_follow_up_whose_launch_the_store_refuses(
    temporal_server: DevServer, store, tmp_path
):
    """The worker marks a draft `submitted` itself when its workflow comes before the launcher's
    update; while the store refuses that (another run in the worktree) it waits, and runs nothing."""
    settings = make_settings(tmp_path, temporal_server.address, agent_command("pr_agent.py"))
    launcher = TemporalLauncher(settings, store)
    service = service_for(store, launcher)
    first = await new_work_order(service)
    await store.update_work_order_status(first.id, S.CANCELED)
    running = await service.follow_up_work_order(first.id, "One note", launch=False)
    waiting = await service.follow_up_work_order(first.id, "Another note", launch=False)
    await store.update_work_order_status(running.id, S.SUBMITTED)  # launched: it holds the chain
    client = await launcher.client()
    # Started as a launch starts it, the launcher's update not made yet.
    handle = await client.start_workflow(
        WORKFLOW_NAME,
        WorkOrderInput(workOrderId=waiting.id, sessionId=waiting.sessionId, prompt=waiting.prompt),
        id=waiting.workflowId,
        task_queue=settings.task_queue,
    )
    async with running_worker(settings, store):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        while True:
            pending = (await handle.describe()).raw_description.pending_activities
            if pending and pending[0].attempt >= 2:
                break
            assert loop.time() < deadline, "the worker never tried to accept it"
            await asyncio.sleep(0.1)
        assert "same worktree" in pending[0].last_failure.message
        assert (await store.get_work_order(waiting.id)).status == S.DRAFT
        assert await completion_messages(store, waiting.sessionId, waiting.id) == []
        # The chain's run ends: the waiting one is accepted and runs.
        await store.update_work_order_status(running.id, S.CANCELED)
        done = await wait_for_status(store, waiting.id, [S.SUCCEEDED, S.FAILED, S.CANCELED], timeout_s=WAIT_S * 2)
    assert done.status == S.SUCCEEDED
