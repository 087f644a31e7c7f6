"""The change a work order made, read from real git: its worktree, then its branch in the cache,
then the copy recorded in the event log."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from git_support import seeded_bare_remote

from jangar_tui.orchestration import diff_review
from jangar_tui.orchestration.diff_review import (
    ChangedFile,
    DiffSource,
    diff_from_event,
    recorded_diff_event,
    work_order_diff,
)
from jangar_tui.orchestration.workspace import prepare_workspace, remove_workspace
from jangar_tui.store.sqlite.store import LocalStore

HOSTILE_NAME = "evil\x1b[31m[bold]name.txt"
WO = "wo_diff_1"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


async def _agent_changes(tmp_path: Path) -> tuple[Path, Path, str]:
    """A worktree where 'the agent' modified README.md, added a file with a hostile name and a
    binary file, and deleted nothing yet. Returns (data dir, worktree, target repo)."""
    remote = seeded_bare_remote(tmp_path)
    data = tmp_path / "data"
    worktree = await prepare_workspace(data, str(remote), None, WO, allow_local=True)
    (worktree / "README.md").write_text("hello\nworld\n")
    (worktree / HOSTILE_NAME).write_text("\x1b]52;c;cGF3bmVk\x07 [red]x[/red]\n")
    (worktree / "blob.bin").write_bytes(bytes(range(256)) * 4)
    return data, worktree, str(remote)


async def test_the_worktree_shows_uncommitted_and_new_files_without_touching_the_agents_index(tmp_path: Path) -> None:
    data, worktree, repo = await _agent_changes(tmp_path)
    before = git(worktree, "status", "--porcelain", "-z")
    diff = await work_order_diff(data, repo, None, WO)
    assert diff is not None and diff.source == DiffSource.WORKTREE and diff.base == "origin/main"
    by_path = {f.path: f for f in diff.files}
    assert by_path["README.md"] == ChangedFile("M", "README.md", None, 1, 0)
    assert by_path[HOSTILE_NAME] == ChangedFile("A", HOSTILE_NAME, None, 1, 0)
    assert by_path["blob.bin"].status == "A" and by_path["blob.bin"].binary
    assert "+world\n" in diff.patch and "Binary files /dev/null and b/blob.bin differ" in diff.patch
    # Data as git wrote it (made visible by the UI): the path quoted in the patch, raw in the list.
    assert '+++ "b/evil\\033[31m[bold]name.txt"' in diff.patch and "+\x1b]52;c;" in diff.patch
    assert diff.summary() == "3 files changed, +2 −0 against origin/main"
    assert not diff.truncated
    # The agent's index is as it was: the new files are still untracked there.
    assert git(worktree, "status", "--porcelain", "-z") == before


async def test_after_the_worktree_is_removed_the_branch_in_the_cache_shows_the_commit(tmp_path: Path) -> None:
    data, worktree, repo = await _agent_changes(tmp_path)
    git(worktree, "add", "-A")
    git(worktree, "-c", "user.name=j", "-c", "user.email=j@example.com", "commit", "-qm", "work")
    git(worktree, "mv", "README.md", "READ.md")
    git(worktree, "-c", "user.name=j", "-c", "user.email=j@example.com", "commit", "-qm", "rename")
    committed = await work_order_diff(data, repo, None, WO)
    assert await remove_workspace(data, repo, WO)
    diff = await work_order_diff(data, repo, None, WO)
    assert diff is not None and diff.source == DiffSource.BRANCH
    assert committed is not None and diff.files == committed.files
    assert ChangedFile("R", "READ.md", "README.md", 1, 0) in diff.files
    assert diff.patch == committed.patch


async def test_nothing_to_show_without_a_repository_or_anything_on_this_data_dir(tmp_path: Path) -> None:
    assert await work_order_diff(tmp_path, None, None, WO) is None
    remote = seeded_bare_remote(tmp_path)
    assert await work_order_diff(tmp_path / "data", str(remote), None, WO) is None


async def test_a_big_diff_is_cut_at_whole_lines_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data, worktree, repo = await _agent_changes(tmp_path)
    (worktree / "big.txt").write_text("".join(f"line {i}\n" for i in range(30_000)))
    diff = await work_order_diff(data, repo, None, WO)
    assert diff is not None and diff.truncated
    assert len(diff.patch.splitlines()) == diff_review.MAX_PATCH_LINES and diff.patch.endswith("\n")
    assert next(f for f in diff.files if f.path == "big.txt").added == 30_000  # the counts are whole
    monkeypatch.setattr(diff_review, "MAX_PATCH_BYTES", 1000)
    cut = await work_order_diff(data, repo, None, WO)
    assert cut is not None and cut.truncated and len(cut.patch.encode()) <= 1000 and cut.patch.endswith("\n")


async def test_a_failing_git_is_an_error_with_its_reason(tmp_path: Path) -> None:
    with pytest.raises(diff_review.GitError, match="no default branch|not a git repository"):
        await diff_review.worktree_diff(tmp_path)


async def test_the_recorded_copy_fits_one_event_and_reads_back(tmp_path: Path) -> None:
    data, worktree, repo = await _agent_changes(tmp_path)
    (worktree / "big.txt").write_text("".join(f"line {i}\n" for i in range(3_000)))
    for i in range(200):
        (worktree / f"many-{i:03}.txt").write_text("x\n")
    diff = await work_order_diff(data, repo, None, WO)
    assert diff is not None
    text, metadata = recorded_diff_event(diff)
    store = LocalStore(tmp_path / "db.sqlite3")
    try:
        session = await store.create_session("u", "s")
        wo = await store.create_work_order(session.id, "jangar-wo-diff")
        await store.append_work_order_events(wo.id, [{"kind": "git", "text": text, "metadata": metadata}])
        (event,) = (await store.list_work_order_events(wo.id, 10)).page
    finally:
        await store.close()
    assert event.text.startswith("The change: 204 files changed, +3,202 −0 against origin/main.\n")
    recorded = diff_from_event(event.text, event.metadata)
    assert recorded is not None and recorded.source == DiffSource.RECORDED and recorded.truncated
    assert recorded.files == diff.files[: len(recorded.files)] and 0 < len(recorded.files) < 204
    assert diff.patch.startswith(recorded.patch) and recorded.patch.endswith("\n")
    assert diff_from_event("Pushed main.", {"commit": "abc"}) is None
