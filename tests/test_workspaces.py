"""Worktrees from a per-repository cache: one fetch, a worktree per work order, retention."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from jangar_tui.models import WorkOrder, WorkOrderStatus
from jangar_tui.orchestration.workspace import (
    WorkspaceBusy,
    cache_dir,
    disk_usage,
    prepare_workspace,
    remove_workspace,
    sweep_workspaces,
    work_branch,
)

S = WorkOrderStatus
HOUR_MS = 3_600_000


def _git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def _origin(tmp_path: Path) -> Path:
    origin = tmp_path / "origin"
    _git("init", "-q", "-b", "main", str(origin))
    (origin / "a.txt").write_text("a\n")
    _git("add", ".", cwd=origin)
    _git("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "one", cwd=origin)
    return origin


def _work_order(wo_id: str, status: WorkOrderStatus, updated_at: int) -> WorkOrder:
    return WorkOrder(
        _id=wo_id, sessionId="ses_x", workflowId=f"jangar-wo-{wo_id}", status=status, createdAt=0, updatedAt=updated_at
    )


async def test_work_orders_get_worktrees_of_one_cache_on_their_own_branches(tmp_path: Path) -> None:
    origin = _origin(tmp_path)
    data = tmp_path / "data"
    first = await prepare_workspace(data, str(origin), None, "wo_0123456789abcdef", allow_local=True)
    second = await prepare_workspace(data, str(origin), None, "wo_fedcba9876543210", allow_local=True)
    assert first != second and (first / "a.txt").read_text() == "a\n"
    assert _git("branch", "--show-current", cwd=first) == "jangar/89abcdef" == work_branch(None, "wo_0123456789abcdef")
    assert _git("branch", "--show-current", cwd=second) == "jangar/76543210"
    # Worktrees, not clones: one object store, in the cache.
    cache = cache_dir(data, str(origin))
    assert (first / ".git").is_file() and (second / ".git").is_file()
    assert [p.name for p in (data / "repos").iterdir() if p.suffix == ".git"] == [cache.name]
    listed = _git("worktree", "list", "--porcelain", cwd=cache)
    assert str(first) in listed and str(second) in listed
    assert disk_usage(first) > 0


async def test_retention_removes_ended_worktrees_and_never_a_running_one(tmp_path: Path) -> None:
    origin = _origin(tmp_path)
    data = tmp_path / "data"
    now = 100 * HOUR_MS
    orders = {
        "wo_old_ended": _work_order("wo_old_ended", S.SUCCEEDED, now - 48 * HOUR_MS),
        "wo_new_ended": _work_order("wo_new_ended", S.FAILED, now - 1 * HOUR_MS),
        "wo_old_running": _work_order("wo_old_running", S.RUNNING, now - 48 * HOUR_MS),
    }
    paths = {
        wo_id: await prepare_workspace(data, str(origin), None, wo_id, allow_local=True)
        for wo_id in [*orders, "wo_deleted"]
    }

    async def get(wo_id: str) -> WorkOrder | None:
        return orders.get(wo_id)  # wo_deleted: gone from the store

    removed = await sweep_workspaces(data, 24 * 3600, get, now_ms=now)
    assert sorted(removed) == ["wo_deleted", "wo_old_ended"]
    assert not paths["wo_old_ended"].exists() and not paths["wo_deleted"].exists()
    assert paths["wo_new_ended"].exists() and paths["wo_old_running"].exists()
    assert str(paths["wo_old_ended"]) not in _git("worktree", "list", cwd=cache_dir(data, str(origin)))
    # On demand: removed at once, and a second time is a no-op.
    assert await remove_workspace(data, str(origin), "wo_new_ended")
    assert not paths["wo_new_ended"].exists()
    assert not await remove_workspace(data, str(origin), "wo_new_ended")
    assert await sweep_workspaces(data, 24 * 3600, get, now_ms=now) == []
    assert paths["wo_old_running"].exists()


async def test_a_follow_up_works_in_the_first_ones_worktree_and_never_beside_a_running_one(tmp_path: Path) -> None:
    origin = _origin(tmp_path)
    data = tmp_path / "data"
    now = 100 * HOUR_MS
    orders = {
        "wo_first": _work_order("wo_first", S.SUCCEEDED, now - 48 * HOUR_MS),
        "wo_second": _work_order("wo_second", S.RUNNING, now - 48 * HOUR_MS),
    }

    async def running(wo_id: str) -> bool:
        return not orders[wo_id].status.is_terminal

    async def get(wo_id: str) -> WorkOrder | None:
        return orders.get(wo_id)

    branch = work_branch(None, "wo_first")
    first = await prepare_workspace(data, str(origin), None, "wo_first", allow_local=True, in_use=running)
    (first / "kept.txt").write_text("left by the first run\n")
    second = await prepare_workspace(
        data, str(origin), branch, "wo_second", allow_local=True, workspace_of="wo_first", in_use=running
    )
    assert second == first and (second / "kept.txt").exists()
    assert _git("branch", "--show-current", cwd=second) == branch
    # A third while the second runs is refused, and the worktree is never swept from under it.
    with pytest.raises(WorkspaceBusy, match="wo_second"):
        await prepare_workspace(
            data, str(origin), branch, "wo_third", allow_local=True, workspace_of="wo_first", in_use=running
        )
    assert await sweep_workspaces(data, 24 * 3600, get, now_ms=now) == []
    assert first.exists()
    orders["wo_second"] = _work_order("wo_second", S.FAILED, now - 48 * HOUR_MS)
    assert await sweep_workspaces(data, 24 * 3600, get, now_ms=now) == ["wo_second"]
    assert not first.exists()
