"""A repository's setup command: real processes, real git, the real Temporal dev server."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from git_support import seeded_bare_remote
from temporal_fixtures import (
    WAIT_S,
    completion_messages,
    make_settings,
    running_worker,
    settings_env,
    wait_for_file,
    wait_for_status,
)

from jangar_tui.config import SetupCommand
from jangar_tui.models import EventKind, WorkOrderEvent, WorkOrderStatus
from jangar_tui.orchestration.devserver import DevServer
from jangar_tui.orchestration.event_log import EventLogWriter
from jangar_tui.orchestration.launcher import TemporalLauncher
from jangar_tui.orchestration.setup_command import SetupFailed, run_setup, setup_command_for
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore

JANGAR = Path(sys.executable).with_name("jangar")

S = WorkOrderStatus
TERMINAL = (S.SUCCEEDED, S.FAILED, S.CANCELED)


async def _log(store: LocalStore) -> tuple[EventLogWriter, str]:
    session = await store.create_session("alice", "s")
    wo = await store.create_work_order(session.id, "jangar-wo-setup")
    return EventLogWriter(store, wo.id), wo.id


async def _events(store: LocalStore, work_order_id: str) -> list[WorkOrderEvent]:
    return (await store.list_work_order_events(work_order_id, 200)).page[::-1]


def test_a_command_is_found_however_the_repository_is_spelled() -> None:
    commands = {
        "acme/app": SetupCommand(argv=["make", "deps"]),
        "https://git.example.com/x/y": SetupCommand(argv=["y"]),
    }
    assert setup_command_for(commands, "https://github.com/acme/app.git") == commands["acme/app"]
    assert setup_command_for(commands, "https://github.com/Acme/App/") == commands["acme/app"]
    assert setup_command_for(commands, "https://git.example.com/x/y.git") == commands["https://git.example.com/x/y"]
    assert setup_command_for(commands, "acme/other") is None


async def test_argv_runs_without_a_shell_and_its_lines_are_setup_events(
    local_store: LocalStore, tmp_path: Path
) -> None:
    log, wo_id = await _log(local_store)
    command = SetupCommand(argv=["sh", "-c", 'echo first; echo "$1" > made.txt; echo last', "setup", "$HOME; touch x"])
    await run_setup(command, tmp_path, {"PATH": "/usr/bin:/bin"}, 30, log)
    await log.close()
    # The argument reached the program as written: nothing expanded it or ran the `touch`.
    assert (tmp_path / "made.txt").read_text() == "$HOME; touch x\n" and not (tmp_path / "x").exists()
    events = await _events(local_store, wo_id)
    assert [e.kind for e in events] == [EventKind.SETUP] * 4
    assert events[0].text.startswith("Setup: sh -c") and events[0].metadata["shell"] is False
    assert [e.text for e in events[1:3]] == ["first", "last"]
    assert events[3].text.startswith("Setup finished in ")


async def test_a_shell_only_when_asked(local_store: LocalStore, tmp_path: Path) -> None:
    log, _ = await _log(local_store)
    await run_setup(SetupCommand(argv=["echo one > a.txt && echo two > b.txt"], shell=True), tmp_path, {}, 30, log)
    await log.close()
    assert (tmp_path / "a.txt").read_text() == "one\n" and (tmp_path / "b.txt").read_text() == "two\n"


async def test_a_failure_says_why_with_the_end_of_its_output(local_store: LocalStore, tmp_path: Path) -> None:
    log, wo_id = await _log(local_store)
    failing = SetupCommand(argv=["sh", "-c", "echo resolving; echo 'E: no such package left-pad' >&2; exit 3"])
    with pytest.raises(SetupFailed, match="exited with code 3") as info:
        await run_setup(failing, tmp_path, {"PATH": "/usr/bin:/bin"}, 30, log)
    assert "E: no such package left-pad" in str(info.value)
    with pytest.raises(SetupFailed, match="'no-such-setup-program' was not found"):
        await run_setup(SetupCommand(argv=["no-such-setup-program"]), tmp_path, {"PATH": "/usr/bin:/bin"}, 30, log)
    await log.close()
    errors = [e.text for e in await _events(local_store, wo_id) if e.kind == EventKind.ERROR]
    assert len(errors) == 2 and "exited with code 3" in errors[0]


async def test_past_its_time_it_is_stopped_with_what_it_started(local_store: LocalStore, tmp_path: Path) -> None:
    log, _ = await _log(local_store)
    slow = SetupCommand(argv=["sh", "-c", "sleep 7301 & sleep 7302"])
    with pytest.raises(SetupFailed, match=r"did not finish within 0\.5 s \(JANGAR_SETUP_TIMEOUT\)"):
        await run_setup(slow, tmp_path, {"PATH": "/usr/bin:/bin"}, 0.5, log)
    await log.close()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while _sleepers() and loop.time() < deadline:
        await asyncio.sleep(0.1)
    assert _sleepers() == []


def _sleepers() -> list[int]:
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmdline = proc.info["cmdline"] or []
        if cmdline[:1] == ["sleep"] and cmdline[1:] in (["7301"], ["7302"]) and proc.info["status"] != "zombie":
            found.append(proc.pid)
    return found


@pytest.mark.temporal
async def test_a_work_order_sets_up_its_new_worktree_once_and_a_failed_setup_fails_it(
    temporal_server: DevServer, local_store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = local_store
    remote = seeded_bare_remote(tmp_path)
    # git reaches "GitHub" at the bare repository: nothing leaves the machine.
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", f"url.{remote}.insteadOf")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "https://github.com/acme/app.git")
    count = tmp_path / "setup-runs"
    agent = tmp_path / "agent.sh"
    agent.write_text('#!/bin/sh\necho "the agent sees: $(cat .jangar-setup)"\n')
    agent.chmod(0o755)
    setup = {
        "https://github.com/acme/app": ["sh", "-c", f"echo installing; echo ready > .jangar-setup; echo run >> {count}"]
    }
    settings = make_settings(
        tmp_path / "data",
        temporal_server.address,
        shlex.join([str(agent)]),
        JANGAR_ALLOW_LOCAL_REPOS="true",
        JANGAR_SETUP_COMMANDS=json.dumps(setup),
    )
    service = JangarService(store, "tester", TemporalLauncher(settings, store))
    session = await service.new_session("Setup")
    first = await service.create_work_order(session.id, title="Set up", prompt="go", target_repo="acme/app")
    async with running_worker(settings, store):
        await service.launch_work_order(first.id)
        first = await wait_for_status(store, first.id, TERMINAL, timeout_s=WAIT_S * 2)
        events = await _events(store, first.id)
        summary = [(e.kind.value, e.text) for e in events]
        assert first.status == S.SUCCEEDED, summary
        texts = [e.text for e in events]
        assert texts.index("installing") < texts.index("the agent sees: ready"), summary
        assert next(e for e in events if e.text == "installing").kind == EventKind.SETUP
        # A follow-up works in the same worktree: its setup is done already.
        second = await service.follow_up_work_order(first.id, "again")
        second = await wait_for_status(store, second.id, TERMINAL, timeout_s=WAIT_S * 2)
        assert second.status == S.SUCCEEDED
        assert "the agent sees: ready" in [e.text for e in await _events(store, second.id)]
        assert count.read_text() == "run\n"

    failing = {"acme/app": ["sh", "-c", "echo 'npm ERR! missing script: deps' >&2; exit 7"]}
    settings = settings.model_copy(update={"setup_commands": {k: SetupCommand(argv=v) for k, v in failing.items()}})
    broken = await service.create_work_order(session.id, title="Broken", prompt="go", target_repo="acme/app")
    async with running_worker(settings, store):
        await service.launch_work_order(broken.id)
        broken = await wait_for_status(store, broken.id, TERMINAL, timeout_s=WAIT_S * 2)
    assert broken.status == S.FAILED
    [result] = await completion_messages(store, session.id, broken.id)
    assert "exited with code 7" in result.content and "npm ERR! missing script: deps" in result.content
    assert not any(e.text.startswith("the agent sees") for e in await _events(store, broken.id)), "the agent never ran"


def _group(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group `pgid`."""
    found = []
    for proc in psutil.process_iter(["status"]):
        try:
            if os.getpgid(proc.pid) == pgid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(proc.pid)
        except (ProcessLookupError, PermissionError):
            continue
    return found


@pytest.mark.temporal
async def test_a_cancel_stops_a_running_setup_command_before_the_work_order_is_canceled(
    temporal_server: DevServer, local_store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The setup's process group is gone by the time the work order says `canceled` (the prepare
    activity heartbeats with a timeout of its own and the workflow waits for it to stop)."""
    store = local_store
    remote = seeded_bare_remote(tmp_path)
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", f"url.{remote}.insteadOf")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "https://github.com/acme/app.git")
    pid_file = tmp_path / "setup.pid"
    # The group's leader starts a child in the background, then writes its pid (so the child is
    # forked by the time the file is there), and waits a long time.
    setup = {"acme/app": ["sh", "-c", f"sleep 7305 & echo $$ > {pid_file}.tmp && mv {pid_file}.tmp {pid_file}; wait"]}
    settings = make_settings(
        tmp_path / "data",
        temporal_server.address,
        shlex.join(["sh", "-c", "echo the agent must not run"]),
        JANGAR_ALLOW_LOCAL_REPOS="true",
        JANGAR_SETUP_COMMANDS=json.dumps(setup),
    )
    service = JangarService(store, "tester", TemporalLauncher(settings, store))
    session = await service.new_session("Setup cancel")
    order = await service.create_work_order(session.id, title="Slow setup", prompt="go", target_repo="acme/app")
    async with running_worker(settings, store):
        await service.launch_work_order(order.id)
        pgid = int(await wait_for_file(pid_file, timeout_s=WAIT_S * 2))
        assert len(_group(pgid)) >= 2, "the setup and its child run"
        loop = asyncio.get_running_loop()
        asked = loop.time()
        await service.cancel_work_order(order.id)
        order = await wait_for_status(store, order.id, TERMINAL, timeout_s=WAIT_S * 4)
        canceled_after = loop.time() - asked
        left = _group(pgid)
        while _group(pgid) and loop.time() - asked < WAIT_S * 4:
            await asyncio.sleep(0.1)
        gone_after = loop.time() - asked
    print(f"cancel -> canceled {canceled_after * 1000:.0f} ms; cancel -> setup group gone {gone_after * 1000:.0f} ms")
    assert order.status == S.CANCELED
    assert left == [], "the work order said canceled while its setup command still ran"
    assert _group(pgid) == []
    assert "the agent must not run" not in [e.text for e in await _events(store, order.id)]


def _jangar_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([str(JANGAR), "worker"], env={**os.environ, **env}, stdout=out, stderr=out)


@pytest.mark.temporal
async def test_a_cancel_during_setup_whose_worker_is_gone_says_so_and_settles_at_once(
    temporal_server: DevServer, local_store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker preparing the worktree is killed (-9) while its setup command runs. The cancel
    is in the run log at once, with why it may take long; the worker being known gone (its record
    in the data dir), the setup is stopped and the attempt settled now, not at the heartbeat
    timeout (ten minutes here: only the settle can end this test in time)."""
    store = local_store
    remote = seeded_bare_remote(tmp_path)
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", f"url.{remote}.insteadOf")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "https://github.com/acme/app.git")
    pid_file = tmp_path / "setup.pid"
    setup = {"acme/app": ["sh", "-c", f"echo $$ > {pid_file}.tmp && mv {pid_file}.tmp {pid_file}; sleep 7306 & wait"]}
    extra = {"JANGAR_ALLOW_LOCAL_REPOS": "true", "JANGAR_SETUP_COMMANDS": json.dumps(setup)}
    settings = make_settings(
        tmp_path / "data", temporal_server.address, shlex.join(["sh", "-c", "echo the agent must not run"]), **extra
    )
    launcher = TemporalLauncher(settings, store, heartbeat_timeout_s=600)
    service = JangarService(store, "tester", launcher, data_dir=settings.data_dir)
    session = await service.new_session("Setup cancel")
    order = await service.create_work_order(session.id, title="Slow setup", prompt="go", target_repo="acme/app")
    worker = _jangar_worker({**settings_env(settings), **extra}, tmp_path / "worker.log")
    try:
        await service.launch_work_order(order.id)
        pgid = int(await wait_for_file(pid_file, timeout_s=WAIT_S * 2))
    finally:
        worker.kill()  # SIGKILL: no hand-back, no cleanup
        worker.wait()
    assert _group(pgid), "the setup outlives its killed worker"
    async with running_worker(settings, store):  # another instance, attached to the same data dir
        loop = asyncio.get_running_loop()
        asked = loop.time()
        await service.cancel_work_order(order.id)
        said = [e.text for e in await _events(store, order.id) if e.kind == EventKind.SETUP]
        assert any(text.startswith("Cancel requested") and "is gone" in text for text in said), said
        order = await wait_for_status(store, order.id, TERMINAL, timeout_s=WAIT_S * 2)
        print(f"worker killed: cancel -> canceled {(loop.time() - asked) * 1000:.0f} ms")
    assert order.status == S.CANCELED
    assert _group(pgid) == []
    assert "the agent must not run" not in [e.text for e in await _events(store, order.id)]
