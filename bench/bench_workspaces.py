"""Benchmark of what a worktree costs to look at and to clean up, and of a setup command's overhead.

    .venv/bin/python bench/bench_workspaces.py [--files 5000] [--runs 10]

On a repository of `--files` files (a bare "remote", as bench_work_orders.py makes it), a work
order's worktree from the per-repo cache, then, `--runs` times each:
- the detail's worktree row: `workspace_info` (measures the tree: os.walk + lstat);
- `jangar workspace list`'s read: `list_workspaces` + `cache_usage` over one worktree and the cache;
- removing a worktree on demand (`remove_workspace`, then made again untimed);
- a setup command that does nothing (`true`): `run_setup`'s own cost around the process.

Prints a markdown table and writes `bench/results/workspaces.json`. No target: reported only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_work_orders import make_remote
from stats import percentile

from jangar_tui.config import SetupCommand
from jangar_tui.orchestration.event_log import EventLogWriter
from jangar_tui.orchestration.setup_command import run_setup
from jangar_tui.orchestration.workspace import (
    cache_usage,
    disk_usage,
    list_workspaces,
    prepare_workspace,
    remove_workspace,
    workspace_info,
)
from jangar_tui.store.sqlite.store import LocalStore

RESULTS = ROOT / "bench" / "results"


async def _timed(
    runs: int, step: Callable[[], Awaitable[Any]], after: Callable[[], Awaitable[Any]] | None = None
) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await step()
        times.append((time.perf_counter() - start) * 1000)
        if after is not None:
            await after()
    return times


async def main(files: int, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="jangar-bench-ws-") as tmp:
        root = Path(tmp)
        remote = make_remote(root, files)
        data = root / "data"
        wo = "wo_bench0000000001"
        path = await prepare_workspace(data, str(remote), None, wo, allow_local=True)
        store = LocalStore(root / "db.sqlite3")
        session = await store.create_session("bench", "s")
        log_wo = await store.create_work_order(session.id, "jangar-wo-bench-setup")
        log = EventLogWriter(store, log_wo.id)
        try:
            info = await _timed(runs, lambda: asyncio.to_thread(workspace_info, data, str(remote), wo))
            listing = await _timed(
                runs,
                lambda: asyncio.gather(asyncio.to_thread(list_workspaces, data), asyncio.to_thread(cache_usage, data)),
            )

            async def make_again() -> None:
                await prepare_workspace(data, str(remote), None, wo, allow_local=True)

            removal = await _timed(runs, lambda: remove_workspace(data, str(remote), wo), make_again)
            setup = await _timed(runs, lambda: run_setup(SetupCommand(argv=["true"]), path, {}, 60, log))
        finally:
            await log.close()
            await store.close()
        sizes = {"worktree_bytes": disk_usage(path), "cache_bytes": sum(size for _, size in cache_usage(data))}

    def summary(times: list[float]) -> dict[str, float]:
        return {"p50_ms": round(percentile(times, 50), 1), "p95_ms": round(percentile(times, 95), 1)}

    return {
        "files": files,
        "runs": runs,
        "machine": {"python": platform.python_version(), "cpus": len(__import__("os").sched_getaffinity(0))},
        "load": round(__import__("os").getloadavg()[0], 1),
        **sizes,
        "workspace_info": summary(info),
        "list_and_caches": summary(listing),
        "remove_on_demand": summary(removal),
        "setup_true": summary(setup),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=10)
    options = parser.parse_args()
    result = asyncio.run(main(options.files, options.runs))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "workspaces.json").write_text(json.dumps(result, indent=2))
    mib = 1024 * 1024
    print(f"{options.files + 1}-file repository, {options.runs} runs, load {result['load']}")
    print(f"worktree {result['worktree_bytes'] / mib:.1f} MiB, cache {result['cache_bytes'] / mib:.1f} MiB\n")
    print("| step | p50 | p95 |\n| --- | --- | --- |")
    for name in ("workspace_info", "list_and_caches", "remove_on_demand", "setup_true"):
        print(f"| {name} | {result[name]['p50_ms']} ms | {result[name]['p95_ms']} ms |")
