"""`jangar workspace list|rm`: the worktrees on this machine's data dir, their disk use, removal."""

from __future__ import annotations

import argparse
from typing import Any

from jangar_tui.commands.context import Context
from jangar_tui.commands.parsing import leaf
from jangar_tui.orchestration.workspace import WorkspaceInfo, human_bytes
from jangar_tui.text_safety import one_line


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    noun = commands.add_parser("workspace", aliases=["workspaces"], help="work-order worktrees on this data dir")
    verbs = noun.add_subparsers(dest="verb", required=True, metavar="VERB")
    leaf(verbs, "list", common, _list, "every worktree and repository cache, with the disk each takes")
    remove = leaf(
        verbs, "rm", common, _remove, "remove an ended work order's worktree now (its branch and commits stay)"
    )
    remove.add_argument("work_order_id", metavar="WORK_ORDER")


def _document(info: WorkspaceInfo) -> dict[str, Any]:
    return {
        "workOrderId": info.workspaceOf,
        "lastUsedBy": info.lastUsedBy,
        "targetRepo": info.targetRepo,
        "path": str(info.path),
        "exists": info.exists,
        "bytes": info.bytes,
    }


def _line(info: WorkspaceInfo) -> str:
    size = human_bytes(info.bytes) if info.exists else "(gone)"
    used = f"  last used by {info.lastUsedBy}" if info.lastUsedBy and info.lastUsedBy != info.workspaceOf else ""
    return f"{info.workspaceOf}  {size:>10}  {one_line(info.targetRepo)}  {one_line(str(info.path))}{used}"


async def _list(args: argparse.Namespace, ctx: Context) -> None:
    worktrees, caches = await ctx.service.list_workspaces()
    total = sum(info.bytes for info in worktrees) + sum(size for _, size in caches)
    lines = [_line(info) for info in worktrees] or ["(no worktrees)"]
    lines += [f"cache  {human_bytes(size):>10}  {one_line(str(path))}" for path, size in caches]
    lines.append(f"total  {human_bytes(total):>10}")
    ctx.printer.emit(
        {
            "workspaces": [_document(info) for info in worktrees],
            "caches": [{"path": str(path), "bytes": size} for path, size in caches],
            "totalBytes": total,
        },
        lines,
    )


async def _remove(args: argparse.Namespace, ctx: Context) -> None:
    removed = await ctx.service.remove_work_order_workspace(args.work_order_id)
    document: dict[str, Any] = {"workOrderId": args.work_order_id, "removed": removed is not None}
    if removed is None:
        text = [f"{one_line(args.work_order_id)} has no worktree on this data dir: nothing to remove"]
    else:
        document.update(path=str(removed.path), freedBytes=removed.bytes)
        text = [f"removed {one_line(str(removed.path))} ({human_bytes(removed.bytes)} freed)"]
    ctx.printer.emit(document, text)
