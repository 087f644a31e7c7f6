"""The agent runner and the workspace, without Temporal: real processes, real git."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jangar_tui.models import ErrorCode, JangarError
from jangar_tui.orchestration.agent import (
    AgentCommandNotFound,
    AgentProcess,
    OutputTail,
    find_pr_url,
    kill_stale_group,
)
from jangar_tui.orchestration.workspace import prepare_workspace, repo_url, workspace_dir

AGENTS = Path(__file__).parent / "agents"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


_PR = "https://github.com/acme/widgets/pull/42"


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("Opened https://github.com/acme/widgets/pull/42.", "https://github.com/acme/widgets/pull/42"),
        (
            "see (https://gitlab.example.com/g/p/-/merge_requests/9), thanks",
            "https://gitlab.example.com/g/p/-/merge_requests/9",
        ),
        ("PR: http://git.local/o/r/pulls/3\n", "http://git.local/o/r/pulls/3"),
        ("no link here, just https://github.com/acme/widgets/issues/1", None),
        # Markdown: the link's target, never its text; a target that is not http(s) gives nothing.
        (f"[{_PR}]({_PR})", _PR),
        (f"Opened [PR #42]({_PR}).", _PR),
        (f"[{_PR}](file:///etc/passwd)", None),
        (f"[{_PR}](javascript:{_PR})", None),
        (f'see [the PR](<{_PR}> "title")', _PR),
        (f"![badge]({_PR})", _PR),
        # Emphasis, angle brackets, code, and what follows the number.
        (f"**{_PR}**", _PR),
        (f"_{_PR}_", _PR),
        (f"<{_PR}>", _PR),
        (f"`{_PR}`", _PR),
        (f"{_PR}/files", _PR),
        (f"{_PR}#issuecomment-7", _PR),
        # Not a PR's address: another URL's query, user info, another scheme, a non-numeric id.
        (f"https://evil.example/?next={_PR}", None),
        ("https://me@github.com/acme/widgets/pull/42", None),
        ("ftp://github.com/acme/widgets/pull/42", None),
        ("https://github.com/acme/widgets/pull/42abc", None),
        # The last mention wins: agents end with the PR they opened.
        (f"based on https://github.com/acme/widgets/pull/7, opened {_PR}", _PR),
    ],
)
def test_find_pr_url(text: str, url: str | None) -> None:
    assert find_pr_url(text) == url


def test_output_tail_keeps_the_end_and_the_last_pr_url_across_chunks() -> None:
    tail = OutputTail(limit=100)
    tail.feed(b"x" * 1000 + b"\nsee https://github.com/a/b/pu")
    tail.feed(b"ll/1 and later https://github.com/a/b/pull/2\n" + "é".encode()[:1])
    tail.feed("é".encode()[1:] + b"y" * 500, final=True)
    assert tail.pr_url == "https://github.com/a/b/pull/2"
    text = tail.text()
    assert len(text) == 100 and text.endswith("y" * 99)
    whole = OutputTail(limit=10_000)  # a character split across reads is decoded whole
    whole.feed("é".encode()[:1])
    whole.feed("é".encode()[1:], final=True)
    assert whole.text() == "é"


async def test_agent_result_separates_stdout_and_stderr() -> None:
    agent = await AgentProcess.start([sys.executable, str(AGENTS / "fail_agent.py")], "prompt")
    result = await agent.wait()
    assert result.exitCode == 3
    assert result.output.strip() == "partial work"
    assert "boom" in result.errorOutput


async def test_missing_and_non_executable_commands_are_reported(tmp_path: Path) -> None:
    with pytest.raises(AgentCommandNotFound, match="was not found.*JANGAR_AGENT_COMMAND"):
        await AgentProcess.start(["jangar-no-such-command-xyz"], "p")
    script = tmp_path / "agent.sh"
    script.write_text("#!/bin/sh\necho hi\n")  # not marked executable
    with pytest.raises(AgentCommandNotFound, match="is not executable"):
        await AgentProcess.start([str(script)], "p")


async def test_stop_escalates_to_sigkill_for_the_whole_group(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    agent = await AgentProcess.start([sys.executable, str(AGENTS / "sleep_agent.py"), str(pids), "--ignore-term"], "p")
    while not pids.exists():
        await asyncio.sleep(0.02)
    pid, pgid, child = map(int, pids.read_text().split())
    assert pgid == pid == agent.pgid and os.getpgid(child) == pgid
    await agent.stop(grace_s=0.3)
    assert agent.returncode is not None and agent.returncode < 0  # killed by a signal
    for _ in range(100):
        if not _alive(child):
            break
        await asyncio.sleep(0.02)
    assert not _alive(pid) and not _alive(child)


async def test_kill_stale_group_only_kills_the_recorded_process(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    agent = await AgentProcess.start([sys.executable, str(AGENTS / "sleep_agent.py"), str(pids)], "p")
    try:
        while not pids.exists():
            await asyncio.sleep(0.02)
        mark = agent.mark().as_dict()
        # Same pgid but another start time: a reused pid, never signalled.
        assert await kill_stale_group({**mark, "startTime": "1"}) is False
        assert await kill_stale_group({**mark, "host": "elsewhere"}) is False
        assert await kill_stale_group(None) is False
        assert _alive(agent.pid)
        assert await kill_stale_group(mark) is True
        await asyncio.wait_for(agent.wait(), 5)
        assert not _alive(agent.pid)
    finally:
        await agent.stop(grace_s=0.1)


def test_repo_url_and_workspace_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert repo_url("acme/widgets") == "https://github.com/acme/widgets.git"
    assert repo_url("git@github.com:acme/widgets.git") == "git@github.com:acme/widgets.git"
    # owner/repo is GitHub's, even when a directory of that name exists where the worker runs.
    (tmp_path / "acme" / "widgets").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert repo_url("acme/widgets") == "https://github.com/acme/widgets.git"
    local = ("/srv/repos/widgets", "file:///srv/repos/widgets")
    transport_tricks = ("fd::3", "ext::sh -c touch% /tmp/pwned", "-uoops", "--upload-pack=touch /tmp/x", "a b", "")
    for bad in (*transport_tricks, *local):
        with pytest.raises(JangarError) as info:
            repo_url(bad)
        assert info.value.code == ErrorCode.INVALID_ARGUMENT, bad
    for path in local:  # development only, behind JANGAR_ALLOW_LOCAL_REPOS
        assert repo_url(path, allow_local=True) == path
    for bad in transport_tricks:
        with pytest.raises(JangarError):
            repo_url(bad, allow_local=True)
    path = workspace_dir(tmp_path, "https://github.com/acme/widgets.git", "wo/../1")
    assert path.parent == tmp_path / "workspaces"
    assert path.name == "widgets-wo-..-1"  # one path component: no separator survives


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()


async def test_prepare_workspace_clones_then_fetches_and_checks_out_branches(tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    _git("init", "-q", "-b", "main", str(origin))
    _git("-C", str(origin), "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "--allow-empty", "-m", "one")
    _git("-C", str(origin), "branch", "existing")
    data = tmp_path / "data"
    with pytest.raises(JangarError) as info:  # a local repository needs JANGAR_ALLOW_LOCAL_REPOS
        await prepare_workspace(data, str(origin), "existing", "wo1")
    assert info.value.code == ErrorCode.INVALID_ARGUMENT
    path = await prepare_workspace(data, str(origin), "existing", "wo1", allow_local=True)
    assert _git("-C", str(path), "branch", "--show-current") == "existing"
    assert _git("-C", str(path), "rev-parse", "--abbrev-ref", "existing@{upstream}") == "origin/existing"
    # A retry finds the clone, fetches, and can switch to a new branch.
    _git("-C", str(origin), "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "--allow-empty", "-m", "two")
    again = await prepare_workspace(data, str(origin), "jangar/new", "wo1", allow_local=True)
    assert again == path
    assert _git("-C", str(path), "branch", "--show-current") == "jangar/new"
    assert _git("-C", str(path), "log", "-1", "--format=%s", "origin/main") == "two"
    with pytest.raises(JangarError) as info:
        await prepare_workspace(data, str(origin), "bad..branch", "wo2", allow_local=True)
    assert info.value.code == ErrorCode.INVALID_ARGUMENT


async def test_wait_returns_when_the_agent_exits_and_stops_what_it_left_behind(tmp_path: Path) -> None:
    # The background child inherits stdout, so waiting for the pipe alone would never end.
    code = (
        "import subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        f"open({str(tmp_path / 'child')!r}, 'w').write(str(child.pid))\n"
        "print('done')\n"
    )
    agent = await AgentProcess.start([sys.executable, "-c", code], "p", prompt_via="stdin")
    result = await asyncio.wait_for(agent.wait(), 10)
    assert result.exitCode == 0 and result.output.strip() == "done"
    child = int((tmp_path / "child").read_text())
    for _ in range(100):
        if not _alive(child):
            break
        await asyncio.sleep(0.02)
    assert not _alive(child)
