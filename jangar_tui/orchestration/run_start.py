"""Where a run started in its worktree, so that an attempt that cannot continue an earlier one's
work starts again from there.

An agent attempt can stop half-way (its worker stops and hands it back, or dies) with its changes
in the worktree. The next attempt continues the same Codex thread when it can (the thread knows
what was done). When it cannot (another agent, codex no longer has the thread), those changes are
work nobody knows about: delivered, they would reach the pull request unexplained; left, the
new attempt would do the work again over them. So the worktree is put back as the run found it.

The record beside the worktree (`workspace.read_record`) keeps `runStart`: the work order, its
branch, the commit it started from and a tree of every file that was there, tracked or not (ignored
files, such as dependencies a setup command installed, are neither snapshotted nor removed), and
whether an agent attempt has begun.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jangar_tui.orchestration.workspace import git_output, read_record, run_git, update_record

RUN_START = "runStart"
# Paths given to one git command (well within the argument list's limit).
_PATHS_PER_CALL = 500


@dataclass(frozen=True)
class RunStart:
    workOrderId: str
    head: str
    branch: str | None
    tree: str
    agentStarted: bool

    @classmethod
    def of(cls, data: Any) -> RunStart | None:
        if not isinstance(data, dict):
            return None
        try:
            branch = data.get("branch")
            return cls(
                workOrderId=str(data["workOrderId"]),
                head=str(data["head"]),
                branch=branch if isinstance(branch, str) and branch else None,
                tree=str(data["tree"]),
                agentStarted=data.get("agentStarted") is True,
            )
        except KeyError:
            return None


def run_start(path: Path, work_order_id: str) -> RunStart | None:
    """The start of `work_order_id`'s run in the worktree at `path`, when it was recorded."""
    start = RunStart.of(read_record(path).get(RUN_START))
    return start if start is not None and start.workOrderId == work_order_id else None


async def record_run_start(path: Path, work_order_id: str) -> None:
    """Remember the worktree as the run finds it (once per work order: a retried preparation keeps
    the first record)."""
    if run_start(path, work_order_id) is not None:
        return
    head = await git_output("rev-parse", "--verify", "HEAD", cwd=path)
    branch = await git_output("symbolic-ref", "--quiet", "--short", "HEAD", cwd=path, check=False)
    tree = await _snapshot(path)
    start = {"workOrderId": work_order_id, "head": head, "branch": branch or None, "tree": tree, "agentStarted": False}
    update_record(path, {RUN_START: start})


def begin_agent_attempt(path: Path, work_order_id: str) -> bool:
    """Note that an agent attempt begins; True when an earlier one had begun (and may have changed
    the worktree)."""
    start = run_start(path, work_order_id)
    if start is None:
        return False
    if not start.agentStarted:
        update_record(path, {RUN_START: {**start.__dict__, "agentStarted": True}})
    return start.agentStarted


async def reset_to_run_start(path: Path, work_order_id: str) -> bool:
    """Put the worktree back as the run found it: its branch at the commit it started from (what an
    earlier attempt committed is dropped too), every file as it was, files added since removed.
    False when the start was not recorded (a run begun before Jangar recorded it)."""
    start = run_start(path, work_order_id)
    if start is None:
        return False
    if start.branch is not None:
        await run_git("checkout", "--quiet", "--force", start.branch, "--", cwd=path)
    await run_git("reset", "--quiet", "--hard", start.head, cwd=path)
    await run_git("clean", "-d", "--force", "--quiet", cwd=path)
    # The worktree is now the commit's; the files the start had otherwise (changed, or not
    # tracked) are written from the snapshot through an index of their own (the worktree's index
    # stays at the commit, as at the start), and those it lacked are removed.
    changed = await _differing(path, start, "AMT")
    if changed:
        with tempfile.TemporaryDirectory(prefix="jangar-index-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            await run_git("read-tree", start.tree, cwd=path, env=env)
            for first in range(0, len(changed), _PATHS_PER_CALL):
                batch = changed[first : first + _PATHS_PER_CALL]
                await run_git("checkout-index", "--force", "--", *batch, cwd=path, env=env)
    for name in await _differing(path, start, "D"):
        (path / name).unlink(missing_ok=True)
    return True


async def _differing(path: Path, start: RunStart, kinds: str) -> list[str]:
    """The paths whose change from the start's commit to its snapshot is one of `kinds` (git's
    diff-filter letters: A added, M modified, T type changed, D deleted)."""
    out = await git_output(
        "diff-tree",
        "-r",
        "-z",
        "--name-only",
        "--no-renames",
        f"--diff-filter={kinds}",
        start.head,
        start.tree,
        cwd=path,
    )
    return [name for name in out.split("\0") if name]


async def _snapshot(path: Path) -> str:
    """A tree of every file in the worktree but the ignored ones, made in a copy of its index (the
    copy's stat data spares hashing unchanged files again)."""
    index = path / await git_output("rev-parse", "--git-path", "index", cwd=path)  # relative to `path`, or absolute
    with tempfile.TemporaryDirectory(prefix="jangar-index-") as tmp:
        copy = Path(tmp) / "index"
        if index.exists():
            await asyncio.to_thread(shutil.copyfile, index, copy)
        env = {"GIT_INDEX_FILE": str(copy)}
        await run_git("add", "--all", cwd=path, env=env)
        return await git_output("write-tree", cwd=path, env=env)
