"""Work orders whose agent is the real Codex CLI (app-server) against the stand-in model server,
on the real Temporal dev server, in a workspace cloned from a local bare repository."""

from __future__ import annotations

import asyncio
import shlex
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from codex_standin import Reply, StandIn, write_codex_home
from git_support import seeded_bare_remote
from github_standin import GitHubStandIn, start_github_standin
from temporal_fixtures import WAIT_S, completion_messages, make_settings, running_worker, wait_for_status

from jangar_tui.models import EventKind, WorkOrderEvent, WorkOrderStatus
from jangar_tui.orchestration.devserver import DevServer
from jangar_tui.orchestration.diff_review import diff_from_event
from jangar_tui.orchestration.launcher import TemporalLauncher
from jangar_tui.orchestration.workspace import remove_workspace, work_branch
from jangar_tui.service import JangarService
from jangar_tui.store.base import Store
from jangar_tui.store.sqlite.store import LocalStore

pytestmark = pytest.mark.temporal
S = WorkOrderStatus
TERMINAL = (S.SUCCEEDED, S.FAILED, S.CANCELED)
PATCH = "*** Begin Patch\n*** Update File: README.md\n@@\n-hello\n+hello, patched\n*** End Patch"


def _git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare repository with one commit on main, standing in for GitHub."""
    return seeded_bare_remote(tmp_path)


@pytest.fixture
def github() -> Iterator[GitHubStandIn]:
    standin = start_github_standin()
    try:
        yield standin
    finally:
        standin.close()


@pytest.fixture
async def store(tmp_path: Path):
    store = LocalStore(tmp_path / "jangar.sqlite3")
    yield store
    await store.close()


async def all_events(store: Store, work_order_id: str) -> list[WorkOrderEvent]:
    events: list[WorkOrderEvent] = []
    cursor = None
    while True:
        page = await store.list_work_order_events(work_order_id, 200, cursor)
        events.extend(page.page)
        if page.isDone:
            return events[::-1]
        cursor = page.continueCursor


async def test_a_codex_run_ends_in_a_pull_request_with_its_work_in_the_log(
    temporal_server: DevServer,
    store: LocalStore,
    tmp_path: Path,
    remote: Path,
    standin: StandIn,
    github: GitHubStandIn,
    codex_bin: Path,
    codex_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    # git reaches "GitHub" at the bare repository: nothing leaves the machine.
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", f"url.{remote}.insteadOf")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "https://github.com/acme/app.git")
    standin.script(
        Reply(tool_command="echo checked > checked.txt && echo ran"),
        Reply(patch=PATCH),
        Reply(text="Patched README.md."),
    )
    settings = make_settings(
        tmp_path / "data",
        temporal_server.address,
        shlex.join([str(codex_bin), "exec"]),
        GITHUB_TOKEN="ghp_e2e-token",
        JANGAR_GITHUB_API_URL=github.url,
        JANGAR_GIT_AUTHOR_NAME="Jangar Bot",
        JANGAR_GIT_AUTHOR_EMAIL="bot@example.com",
        JANGAR_ALLOW_LOCAL_REPOS="true",  # "GitHub" is rewritten to a local bare repository above
    )
    launcher = TemporalLauncher(settings, store)
    service = JangarService(store, "tester", launcher)
    session = await service.new_session("Work")
    issue = "https://github.com/acme/app/issues/3"
    wo = await service.create_work_order(
        session.id, title="Patch the README", prompt="Patch the README", target_repo="acme/app", github_issue_url=issue
    )
    async with running_worker(settings, store):
        await service.launch_work_order(wo.id)
        done = await wait_for_status(store, wo.id, TERMINAL, timeout_s=WAIT_S * 2)
    events = await all_events(store, wo.id)
    summary = [(e.kind.value, e.text.splitlines()[0] if e.text else "") for e in events]
    assert done.status == S.SUCCEEDED, summary
    # The PR, opened by Jangar on the stand-in API, and its URL recorded.
    branch = work_branch(None, wo.id)
    [created] = github.created
    assert (created["owner"], created["repo"], created["title"]) == ("acme", "app", "Patch the README")
    assert (created["head"], created["base"]) == (branch, "main")
    assert "> Patch the README" in created["body"] and f"Closes {issue}" in created["body"]
    assert done.prUrl == "https://github.com/acme/app/pull/1"
    # The commit is on the pushed branch, with the agent's work in it.
    assert _git("show", f"{branch}:README.md", cwd=remote) == "hello, patched\n"
    assert _git("show", f"{branch}:checked.txt", cwd=remote) == "checked\n"
    assert _git("log", "-1", "--format=%an|%s", branch, cwd=remote) == "Jangar Bot|Patch the README\n"
    # The log: the command, then the file change, then the answer, usage, then git and the PR.
    started, command = [e for e in events if e.kind == EventKind.COMMAND]  # shown from its start, then its end
    assert started.seq < command.seq and started.metadata["status"] == "inProgress", summary
    assert (
        started.text.startswith("/bin/bash") and "echo checked" in started.text and started.metadata["exitCode"] is None
    )
    change = next(e for e in events if e.kind == EventKind.FILE_CHANGE)
    answer = next(e for e in events if e.kind == EventKind.AGENT_MESSAGE)
    usage = [e for e in events if e.kind == EventKind.USAGE]
    pr = [e for e in events if e.kind == EventKind.PR]
    assert command.seq < change.seq < answer.seq < pr[-1].seq, summary
    assert "echo checked" in command.text and "ran" in command.text and command.metadata["exitCode"] == 0
    (changed,) = change.metadata["files"]
    assert changed["kind"] == "update" and Path(changed["path"]).name == "README.md"
    assert answer.text == "Patched README.md."
    # The change is recorded for review (the detail's diff once the worktree is gone).
    recorded = next(d for e in events if (d := diff_from_event(e.text, e.metadata)) is not None)
    assert {(f.status, f.path) for f in recorded.files} == {("M", "README.md"), ("A", "checked.txt")}
    assert "+hello, patched\n" in recorded.patch
    assert usage and command.seq < usage[0].seq and usage[-1].metadata["totalTokens"] > 0
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert all("ghp_e2e-token" not in e.text for e in events)
    messages = await completion_messages(store, session.id, wo.id)
    assert "Opened https://github.com/acme/app/pull/1" in messages[0].content


async def test_a_failed_codex_turn_fails_with_codexs_own_error(
    temporal_server: DevServer,
    store: LocalStore,
    tmp_path: Path,
    standin: StandIn,
    codex_bin: Path,
    codex_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    standin.script(Reply(fail="the model is overloaded right now"))
    # No agent command: work orders run Codex, the binary JANGAR_CODEX_BIN names (as chat turns do).
    settings = make_settings(tmp_path / "data", temporal_server.address, "", JANGAR_CODEX_BIN=str(codex_bin))
    assert settings.agent_command is None
    launcher = TemporalLauncher(settings, store)
    service = JangarService(store, "tester", launcher)
    session = await service.new_session("Work")
    wo = await service.create_work_order(session.id, title="Try", prompt="Try")
    async with running_worker(settings, store):
        await service.launch_work_order(wo.id)
        done = await wait_for_status(store, wo.id, TERMINAL, timeout_s=WAIT_S * 2)
    assert done.status == S.FAILED
    events = await all_events(store, wo.id)
    errors = [e for e in events if e.kind == EventKind.ERROR]
    assert errors and "overloaded" in errors[-1].text
    messages = (await store.list_messages(session.id, 50)).page
    assert any("overloaded" in m.content for m in messages if m.metadata and m.metadata.get("workOrderId") == wo.id)


async def test_another_agents_output_lines_become_plain_events(
    temporal_server: DevServer, store: LocalStore, tmp_path: Path
) -> None:
    script = tmp_path / "agent.sh"
    script.write_text("#!/bin/sh\necho first line\necho 'to stderr' >&2\nprintf 'no newline at the end'\n")
    script.chmod(0o755)
    settings = make_settings(tmp_path / "data", temporal_server.address, shlex.join([str(script)]))
    service = JangarService(store, "tester", TemporalLauncher(settings, store))
    session = await service.new_session("Work")
    wo = await service.create_work_order(session.id, title="Lines", prompt="go")
    async with running_worker(settings, store):
        await service.launch_work_order(wo.id)
        done = await wait_for_status(store, wo.id, TERMINAL)
    assert done.status == S.SUCCEEDED
    events = await all_events(store, wo.id)
    assert {(e.kind, e.text, (e.metadata or {}).get("stream")) for e in events} == {
        (EventKind.SETUP, f"Running on worker {settings.worker_name} (attempt 1).", None),
        (EventKind.OUTPUT, "first line", None),
        (EventKind.OUTPUT, "to stderr", "stderr"),
        (EventKind.OUTPUT, "no newline at the end", None),
    }
    stdout_lines = [e.text for e in events if not e.metadata]
    assert stdout_lines == ["first line", "no newline at the end"]


async def test_cancel_mid_command_leaves_no_process(
    temporal_server: DevServer,
    store: LocalStore,
    tmp_path: Path,
    standin: StandIn,
    codex_bin: Path,
    codex_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    # Commands may run in a PID namespace (the sandbox), so they are found by their unusual
    # arguments: one sleeps in a session of its own, one in the command's shell.
    standin.script(Reply(tool_command="setsid sleep 7271 & sleep 7272"))
    settings = make_settings(tmp_path / "data", temporal_server.address, shlex.join([str(codex_bin), "exec"]))
    service = JangarService(store, "tester", TemporalLauncher(settings, store))
    session = await service.new_session("Work")
    wo = await service.create_work_order(session.id, title="Sleep", prompt="Sleep")
    async with running_worker(settings, store):
        await service.launch_work_order(wo.id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        while len(_sleepers()) < 2:
            assert loop.time() < deadline, f"the commands never started: {_sleepers()}"
            await asyncio.sleep(0.1)
        await service.cancel_work_order(wo.id)
        done = await wait_for_status(store, wo.id, TERMINAL)
    assert done.status == S.CANCELED
    deadline = loop.time() + 5  # the group is killed before the outcome is recorded; allow reaping
    while _sleepers() and loop.time() < deadline:
        await asyncio.sleep(0.1)
    assert _sleepers() == [], "commands outlived the cancel"


def _sleepers() -> list[int]:
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmdline = proc.info["cmdline"] or []
        if cmdline[:1] == ["sleep"] and cmdline[1:] in (["7271"], ["7272"]) and proc.info["status"] != "zombie":
            found.append(proc.pid)
    return found


FOLLOW_PATCH = "*** Begin Patch\n*** Update File: README.md\n@@\n hello, patched\n+followed up\n*** End Patch"
THIRD_PATCH = "*** Begin Patch\n*** Update File: README.md\n@@\n followed up\n+third\n*** End Patch"


async def test_a_follow_up_continues_the_thread_on_the_same_branch_and_pull_request(
    temporal_server: DevServer,
    store: LocalStore,
    tmp_path: Path,
    remote: Path,
    standin: StandIn,
    github: GitHubStandIn,
    codex_bin: Path,
    codex_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", f"url.{remote}.insteadOf")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "https://github.com/acme/app.git")
    settings = make_settings(
        tmp_path / "data",
        temporal_server.address,
        shlex.join([str(codex_bin), "exec"]),
        GITHUB_TOKEN="ghp_e2e-token",
        JANGAR_GITHUB_API_URL=github.url,
        JANGAR_ALLOW_LOCAL_REPOS="true",
    )
    service = JangarService(store, "tester", TemporalLauncher(settings, store))
    session = await service.new_session("Work")
    first = await service.create_work_order(
        session.id, title="Patch the README", prompt="Patch the README", target_repo="acme/app"
    )
    branch = work_branch(None, first.id)
    async with running_worker(settings, store):
        standin.script(Reply(patch=PATCH), Reply(text="Patched README.md."))
        await service.launch_work_order(first.id)
        first = await wait_for_status(store, first.id, TERMINAL, timeout_s=WAIT_S * 2)
        assert first.status == S.SUCCEEDED and first.prUrl == "https://github.com/acme/app/pull/1"
        requests_before = len(standin.requests)

        # The review note continues the same thread, in the same worktree, on the same branch.
        standin.script(Reply(patch=FOLLOW_PATCH), Reply(text="Followed up."))
        second = await service.follow_up_work_order(first.id, "Add a line saying it was followed up")
        assert second.followUpOf == first.id and second.targetBranch == branch and second.status != S.DRAFT
        second = await wait_for_status(store, second.id, TERMINAL, timeout_s=WAIT_S * 2)
        events = await all_events(store, second.id)
        summary = [(e.kind.value, e.text.splitlines()[0] if e.text else "") for e in events]
        assert second.status == S.SUCCEEDED, summary
        # What the model received: the first run's turn (its prompt and its answer), then the note.
        users = standin.user_texts(requests_before)
        assistants = standin.assistant_texts(requests_before)
        assert any("Patch the README" in text for text in users), users
        assert users[-1] == "Add a line saying it was followed up"
        assert "Patched README.md." in assistants
        first_thread = next(
            e.metadata["threadId"]
            for e in await all_events(store, first.id)
            if e.kind == EventKind.SETUP and "threadId" in (e.metadata or {})  # not "Running on worker"
        )
        assert any(
            e.kind == EventKind.SETUP and (e.metadata or {}).get("threadId") == first_thread and "continued" in e.text
            for e in events
        ), summary
        # Same worktree: the file Codex changed is in the first run's directory.
        changes = [e for e in events if e.kind == EventKind.FILE_CHANGE]
        first_changes = [e for e in await all_events(store, first.id) if e.kind == EventKind.FILE_CHANGE]
        assert changes[0].metadata["files"][0]["path"] == first_changes[0].metadata["files"][0]["path"]
        # The commit lands on the same branch, and the PR is the same one: no second was opened.
        assert _git("show", f"{branch}:README.md", cwd=remote) == "hello, patched\nfollowed up\n"
        assert _git("rev-list", "--count", f"main..{branch}", cwd=remote) == "2\n"
        assert second.prUrl == first.prUrl and len(github.created) == 1
        # Each one's diff is its own run's change, not the branch's (which holds both): from the
        # copy in the run log (this service has no data dir), then from git on the worker's.
        for reader in (service, JangarService(store, "tester", data_dir=settings.data_dir)):
            mine, theirs = await reader.work_order_diff(first), await reader.work_order_diff(second)
            assert mine is not None and "+hello, patched" in mine.patch and "followed up" not in mine.patch
            assert theirs is not None and "+followed up" in theirs.patch and "+hello, patched" not in theirs.patch
            assert mine.scope is None and theirs.scope is None

        # The worktree removed and codex's home lost: the worktree is made again from the pushed
        # branch, and a new thread starts with the previous run's prompt and result, as the log says.
        data = settings.data_dir
        [worktree] = [p for p in (data / "workspaces").iterdir() if p.is_dir()]
        assert await remove_workspace(data, "acme/app", first.id)
        assert not worktree.exists()
        monkeypatch.setenv("CODEX_HOME", str(write_codex_home(tmp_path / "other-home", standin.base_url)))
        requests_before = len(standin.requests)
        standin.script(Reply(patch=THIRD_PATCH), Reply(text="Third."))
        third = await service.follow_up_work_order(second.id, "And a third line")
        third = await wait_for_status(store, third.id, TERMINAL, timeout_s=WAIT_S * 2)
        events = await all_events(store, third.id)
        summary = [(e.kind.value, e.text.splitlines()[0] if e.text else "") for e in events]
        assert third.status == S.SUCCEEDED, summary
        assert any("no longer has thread" in e.text for e in events if e.kind == EventKind.SETUP), summary
        seeded = standin.user_texts(requests_before)[-1]
        assert "Add a line saying it was followed up" in seeded and "Followed up." in seeded
        assert seeded.rstrip().endswith("And a third line")
        assert worktree.exists()
        assert _git("show", f"{branch}:README.md", cwd=remote) == "hello, patched\nfollowed up\nthird\n"
        assert third.prUrl == first.prUrl and len(github.created) == 1


NOTES_PATCH = "*** Begin Patch\n*** Add File: notes.txt\n+first attempt\n*** End Patch"
OTHER_PATCH = "*** Begin Patch\n*** Add File: other.txt\n+second attempt\n*** End Patch"


async def _handed_back_mid_turn(store: LocalStore, standin: StandIn, settings, service: JangarService, prompt: str):  # type: ignore[no-untyped-def]
    """A work order whose first attempt added notes.txt, then was handed back (its worker stopped,
    as at ctrl+q) while the model was still answering; returns it, its worktree and the gate."""
    session = await service.new_session("Work")
    wo = await service.create_work_order(session.id, title="Write notes", prompt=prompt, target_repo="acme/app")
    gate = threading.Event()
    standin.script(Reply(patch=NOTES_PATCH), Reply(text="Still writing the notes", deltas=4, gate=gate))
    async with running_worker(settings, store):
        await service.launch_work_order(wo.id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S * 2
        while not [e for e in await all_events(store, wo.id) if e.kind == EventKind.FILE_CHANGE]:
            assert loop.time() < deadline, "the first attempt never patched"
            await asyncio.sleep(0.1)
        while len(standin.requests) < 2:  # the model is answering after the patch, held by the gate
            assert loop.time() < deadline, "codex never asked the model again"
            await asyncio.sleep(0.05)
    [worktree] = [p for p in (settings.data_dir / "workspaces").iterdir() if p.is_dir()]
    assert (worktree / "notes.txt").read_text() == "first attempt\n"
    return wo, worktree, gate


async def test_a_handed_back_run_continues_its_codex_thread_in_the_same_worktree(
    temporal_server: DevServer,
    store: LocalStore,
    tmp_path: Path,
    remote: Path,
    standin: StandIn,
    github: GitHubStandIn,
    codex_bin: Path,
    codex_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", f"url.{remote}.insteadOf")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "https://github.com/acme/app.git")
    settings = make_settings(
        tmp_path / "data",
        temporal_server.address,
        shlex.join([str(codex_bin), "exec"]),
        GITHUB_TOKEN="ghp_e2e-token",
        JANGAR_GITHUB_API_URL=github.url,
        JANGAR_ALLOW_LOCAL_REPOS="true",
    )
    service = JangarService(store, "tester", TemporalLauncher(settings, store))
    wo, _worktree, gate = await _handed_back_mid_turn(store, standin, settings, service, "Write the notes")
    try:
        requests_before = len(standin.requests)
        standin.script(Reply(text="Finished the notes."))
        async with running_worker(settings, store):
            done = await wait_for_status(store, wo.id, TERMINAL, timeout_s=WAIT_S * 2)
    finally:
        gate.set()
    events = await all_events(store, wo.id)
    summary = [(e.kind.value, e.text.splitlines()[0] if e.text else "") for e in events]
    assert done.status == S.SUCCEEDED, summary
    threads = [e for e in events if e.kind == EventKind.SETUP and "threadId" in (e.metadata or {})]
    # One thread: the second attempt continued the first one's.
    assert len(threads) == 2 and "continued" in threads[1].text, summary
    assert threads[0].metadata["threadId"] == threads[1].metadata["threadId"], summary
    # Codex was not given the task twice: the thread has it, and the earlier attempt's patch.
    users = standin.user_texts(requests_before)
    assert users.count("Write the notes") == 1 and "cut off" in users[-1], users
    calls = [item for item in standin.requests[requests_before]["input"] if item.get("type") == "custom_tool_call"]
    assert [call.get("input") for call in calls] == [NOTES_PATCH], calls
    # Nothing lost: the first attempt's file, known to the thread, is in the pushed commit.
    assert _git("show", f"{work_branch(None, wo.id)}:notes.txt", cwd=remote) == "first attempt\n"
    assert len(github.created) == 1


async def test_a_handed_back_run_whose_thread_is_gone_starts_again_from_the_runs_start(
    temporal_server: DevServer,
    store: LocalStore,
    tmp_path: Path,
    remote: Path,
    standin: StandIn,
    github: GitHubStandIn,
    codex_bin: Path,
    codex_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", f"url.{remote}.insteadOf")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "https://github.com/acme/app.git")
    settings = make_settings(
        tmp_path / "data",
        temporal_server.address,
        shlex.join([str(codex_bin), "exec"]),
        GITHUB_TOKEN="ghp_e2e-token",
        JANGAR_GITHUB_API_URL=github.url,
        JANGAR_ALLOW_LOCAL_REPOS="true",
    )
    service = JangarService(store, "tester", TemporalLauncher(settings, store))
    wo, worktree, gate = await _handed_back_mid_turn(store, standin, settings, service, "Write the notes")
    try:
        # codex's home is lost (another machine's worker, a wiped CODEX_HOME): the thread cannot go on.
        monkeypatch.setenv("CODEX_HOME", str(write_codex_home(tmp_path / "other-home", standin.base_url)))
        requests_before = len(standin.requests)
        standin.script(Reply(patch=OTHER_PATCH), Reply(text="Wrote the other file."))
        async with running_worker(settings, store):
            done = await wait_for_status(store, wo.id, TERMINAL, timeout_s=WAIT_S * 2)
    finally:
        gate.set()
    events = await all_events(store, wo.id)
    summary = [(e.kind.value, e.text.splitlines()[0] if e.text else "") for e in events]
    assert done.status == S.SUCCEEDED, summary
    assert standin.user_texts(requests_before)[-1] == "Write the notes"
    # (checked after the files: the bug this pins was the first attempt's file in the PR)
    # Nothing done twice, nothing unknown to the new thread delivered: the first attempt's file is gone.
    branch = work_branch(None, wo.id)
    assert _git("show", f"{branch}:other.txt", cwd=remote) == "second attempt\n"
    assert "notes.txt" not in _git("ls-tree", "--name-only", branch, cwd=remote)
    assert not (worktree / "notes.txt").exists()
    assert any("reset to where the run started" in e.text for e in events if e.kind == EventKind.SETUP), summary
