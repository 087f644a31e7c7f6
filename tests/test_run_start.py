"""Where a run started in its worktree (`orchestration.run_start`), on real git: the record, and
the reset an attempt does when it cannot continue the earlier one's work."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from jangar_tui.orchestration.run_start import begin_agent_attempt, record_run_start, reset_to_run_start, run_start


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def _worktree(tmp_path: Path) -> Path:
    """A repository on branch `work` with its record beside it, as prepare_workspace leaves it."""
    path = tmp_path / "app-wo_1"
    path.mkdir()
    _git("init", "-q", "-b", "work", cwd=path)
    _git("config", "user.email", "t@example.com", cwd=path)
    _git("config", "user.name", "t", cwd=path)
    (path / ".gitignore").write_text("deps/\n")
    (path / "kept.txt").write_text("kept\n")
    (path / "edited.txt").write_text("original\n")
    (path / "removed.txt").write_text("tracked\n")
    _git("add", "-A", cwd=path)
    _git("commit", "-q", "-m", "start", cwd=path)
    (tmp_path / "app-wo_1.workspace.json").write_text(json.dumps({"workOrderId": "wo_1", "targetRepo": "acme/app"}))
    return path


async def test_a_reset_puts_every_file_and_the_branch_back_as_the_run_found_them(tmp_path: Path) -> None:
    path = _worktree(tmp_path)
    head = _git("rev-parse", "HEAD", cwd=path).strip()
    # The worktree as the run finds it: a change not committed, a file not tracked, a tracked file
    # deleted (a failed earlier run's leftovers), dependencies a setup command installed.
    (path / "edited.txt").write_text("uncommitted at the start\n")
    (path / "untracked.txt").write_text("there at the start\n")
    (path / "removed.txt").unlink()
    (path / "deps").mkdir()
    (path / "deps" / "lib.js").write_text("installed\n")
    await record_run_start(path, "wo_1")
    assert begin_agent_attempt(path, "wo_1") is False  # the first attempt
    # The interrupted attempt: edits, a new file and directory, a commit, another branch.
    (path / "kept.txt").write_text("changed by the agent\n")
    (path / "edited.txt").write_text("changed again\n")
    (path / "new").mkdir()
    (path / "new" / "file.txt").write_text("new\n")
    _git("add", "-A", cwd=path)
    _git("commit", "-q", "-m", "half done", cwd=path)
    (path / "after-commit.txt").write_text("more\n")
    _git("checkout", "-q", "-b", "elsewhere", cwd=path)
    assert begin_agent_attempt(path, "wo_1") is True  # a later attempt: an earlier one had begun

    assert await reset_to_run_start(path, "wo_1") is True

    assert _git("symbolic-ref", "--short", "HEAD", cwd=path).strip() == "work"
    assert _git("rev-parse", "HEAD", cwd=path).strip() == head
    files = sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file() and ".git" not in p.parts)
    assert files == [".gitignore", "deps/lib.js", "edited.txt", "kept.txt", "untracked.txt"]
    assert (path / "edited.txt").read_text() == "uncommitted at the start\n"
    assert (path / "kept.txt").read_text() == "kept\n"
    assert (path / "deps" / "lib.js").read_text() == "installed\n"  # ignored files are left alone
    # The index is the commit's, as at the start: the uncommitted change is still a change.
    assert _git("status", "--porcelain", cwd=path).splitlines() == [
        " M edited.txt",
        " D removed.txt",
        "?? untracked.txt",
    ]


async def test_the_start_is_recorded_once_per_work_order(tmp_path: Path) -> None:
    path = _worktree(tmp_path)
    await record_run_start(path, "wo_1")
    first = run_start(path, "wo_1")
    (path / "later.txt").write_text("after the start\n")
    await record_run_start(path, "wo_1")  # a retried preparation keeps the first record
    assert run_start(path, "wo_1") == first
    assert run_start(path, "wo_2") is None
    assert await reset_to_run_start(path, "wo_2") is False  # never recorded: nothing is touched
    assert (path / "later.txt").exists()
    await record_run_start(path, "wo_2")  # a follow-up in the same worktree starts a record of its own
    start = run_start(path, "wo_2")
    assert first is not None and start is not None and start.tree != first.tree
