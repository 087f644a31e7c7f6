"""Benchmark of work orders that end in a pull request: workspaces and delivery.

    .venv/bin/python bench/bench_work_orders.py [--files 5000] [--runs 20]

- Workspace: a repository of `--files` files in a bare "remote"; a new work order's worktree from
  the per-repo cache (`prepare_workspace`: one fetch, then `worktree add`) against a full
  `git clone` of the same repository, time and disk side by side (the cache's first fill too).
- Agent end → prUrl recorded: work orders on a real Temporal dev server (free ports, in memory),
  the embedded store and an in-process worker; the agent is a script that changes a file, writes
  the time it ends and exits; Jangar then commits, pushes to the bare repository (reached as
  `https://github.com/acme/app.git` through git's `insteadOf`) and opens the PR on a stand-in
  GitHub API on 127.0.0.1. Measured from the agent's last instant to the watcher seeing `prUrl`.

Prints markdown tables and writes `bench/results/work_orders.json`. Target: agent end → prUrl
p95 ≤ 2 s. Exits non-zero when it is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from github_standin import start_github_standin
from stats import percentile

from jangar_tui.config import load_settings
from jangar_tui.models import WorkOrderStatus
from jangar_tui.orchestration.devserver import DevServer, free_port
from jangar_tui.orchestration.launcher import TemporalLauncher
from jangar_tui.orchestration.worker import run_worker
from jangar_tui.orchestration.workspace import disk_usage, prepare_workspace
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore

RESULTS = ROOT / "bench" / "results"
TARGET_PR_P95_MS = 2000.0
S = WorkOrderStatus
AGENT = """#!/bin/sh
echo "changed by run $JANGAR_WORK_ORDER_ID" >> README.md
python3 -c 'import time; print(time.time())' > "$JANGAR_BENCH_DIR/$JANGAR_WORK_ORDER_ID.end"
"""


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def make_remote(root: Path, files: int) -> Path:
    seed = root / "seed"
    seed.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=seed)
    for i in range(files):
        directory = seed / f"pkg{i // 100:03d}"
        directory.mkdir(exist_ok=True)
        (directory / f"module_{i:05d}.py").write_text(f'"""Module {i}."""\n\nVALUE = {i}\n' + "# padding\n" * 20)
    (seed / "README.md").write_text("bench\n")
    git("add", "-A", cwd=seed)
    git("-c", "user.name=b", "-c", "user.email=b@example.com", "commit", "-qm", "seed", cwd=seed)
    bare = root / "remote.git"
    git("clone", "-q", "--bare", str(seed), str(bare))
    shutil.rmtree(seed)
    return bare


async def bench_workspaces(root: Path, remote: Path, runs: int) -> dict[str, Any]:
    data = root / "data"
    start = time.perf_counter()
    first = await prepare_workspace(data, str(remote), None, "wo_first", allow_local=True)
    cold_ms = (time.perf_counter() - start) * 1000
    worktree_ms: list[float] = []
    clone_ms: list[float] = []
    worktrees: list[Path] = [first]
    for i in range(runs):
        start = time.perf_counter()
        worktrees.append(await prepare_workspace(data, str(remote), None, f"wo_{i:04d}", allow_local=True))
        worktree_ms.append((time.perf_counter() - start) * 1000)
        clone = root / "clones" / f"c{i}"
        start = time.perf_counter()
        # file://, as over a network: a plain local path would hard-link the objects instead.
        await asyncio.to_thread(git, "clone", "-q", remote.as_uri(), str(clone))
        clone_ms.append((time.perf_counter() - start) * 1000)
    cache = next((data / "repos").glob("*.git"))
    return {
        "files": len(git("ls-files", cwd=first).splitlines()),
        "cache_first_fill_ms": round(cold_ms, 1),
        "worktree_ms_p50": round(statistics.median(worktree_ms), 1),
        "worktree_ms_p95": round(percentile(worktree_ms, 95), 1),
        "clone_ms_p50": round(statistics.median(clone_ms), 1),
        "clone_ms_p95": round(percentile(clone_ms, 95), 1),
        "worktree_disk_bytes": disk_usage(worktrees[-1]),
        "clone_disk_bytes": disk_usage(root / "clones" / "c0"),
        "cache_disk_bytes": disk_usage(cache),
        "runs": runs,
    }


async def bench_pr(root: Path, remote: Path, runs: int) -> dict[str, Any]:
    github = start_github_standin()
    agent = root / "agent.sh"
    agent.write_text(AGENT)
    agent.chmod(0o755)
    ends = root / "ends"
    ends.mkdir()
    os.environ.update(
        {
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": f"url.{remote}.insteadOf",
            "GIT_CONFIG_VALUE_0": "https://github.com/acme/app.git",
            "JANGAR_BENCH_DIR": str(ends),
        }
    )
    server = DevServer(port=free_port(), db_path=None, log_path=root / "temporal.log")
    await server.start()
    data = root / "pr-data"
    settings = load_settings(
        {
            "JANGAR_DATA_DIR": str(data),
            "TEMPORAL_ADDRESS": server.address,
            "JANGAR_TASK_QUEUE": "bench-pr",
            "JANGAR_AGENT_COMMAND": shlex.join([str(agent)]),
            "JANGAR_USER": "bench",
            "JANGAR_BACKEND": "local",
            # The remote is a local bare repository (GitHub's URL rewritten to it): git refuses the
            # file transport unless local repositories are allowed.
            "JANGAR_ALLOW_LOCAL_REPOS": "true",
            "GITHUB_TOKEN": "bench-token",
            "JANGAR_GITHUB_API_URL": github.url,
        }
    )
    store = LocalStore(data / "jangar.sqlite3")
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, store, stop=stop))
    service = JangarService(store, "bench", TemporalLauncher(settings, store))
    session = await service.new_session("bench")
    latencies: list[float] = []
    try:
        for i in range(runs):
            wo = await service.create_work_order(
                session.id, title=f"Bench {i}", prompt="change", target_repo="acme/app"
            )
            seen = asyncio.get_running_loop().create_future()

            async def watch(wo_id: str = wo.id, done: asyncio.Future[float] = seen) -> None:
                async for orders in store.watch_work_orders(session.id):
                    found = next((o for o in orders if o.id == wo_id), None)
                    if found is not None and (found.prUrl or found.status in (S.FAILED, S.CANCELED)):
                        done.set_result(time.time() if found.prUrl else float("nan"))
                        return

            watcher = asyncio.create_task(watch())
            await service.launch_work_order(wo.id)
            recorded = await asyncio.wait_for(seen, 120)
            watcher.cancel()
            agent_end = float((ends / f"{wo.id}.end").read_text())
            latencies.append((recorded - agent_end) * 1000)
    finally:
        stop.set()
        await worker
        await store.close()
        server.stop()
        github.close()
    failed = [x for x in latencies if math.isnan(x)]
    good = [x for x in latencies if not math.isnan(x)]
    return {
        "runs": runs,
        "prs_opened": len(github.created),
        "failed": len(failed),
        "agent_end_to_pr_url_ms_p50": round(statistics.median(good), 1) if good else None,
        "agent_end_to_pr_url_ms_p95": round(percentile(good, 95), 1) if good else None,
    }


def mib(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MiB"


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jangar-bench-wo-") as tmp:
        root = Path(tmp)
        print(f"making a repository of {args.files} files…", file=sys.stderr)
        remote = make_remote(root, args.files)
        ws = await bench_workspaces(root, remote, min(args.runs, 10))
        print("timing agent end → prUrl…", file=sys.stderr)
        pr = await bench_pr(root, remote, args.runs)
    result = {"workspace": ws, "pr": pr, "machine": platform.platform(), "cpus": os.cpu_count()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "work_orders.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"\n### Workspaces: {ws['files']} files, {ws['runs']} work orders\n")
    print("| | time p50 | time p95 | disk |")
    print("| --- | --- | --- | --- |")
    print(
        f"| worktree from the cache | {ws['worktree_ms_p50']} ms | {ws['worktree_ms_p95']} ms | {mib(ws['worktree_disk_bytes'])} |"
    )
    print(
        f"| full `git clone` (file://) | {ws['clone_ms_p50']} ms | {ws['clone_ms_p95']} ms | {mib(ws['clone_disk_bytes'])} |"
    )
    print(f"\nThe cache itself: {mib(ws['cache_disk_bytes'])}, filled once in {ws['cache_first_fill_ms']} ms.")
    print(f"\n### Agent end → prUrl recorded ({pr['runs']} work orders, {pr['prs_opened']} PRs opened)\n")
    print("| p50 | p95 | target |")
    print("| --- | --- | --- |")
    print(
        f"| {pr['agent_end_to_pr_url_ms_p50']} ms | {pr['agent_end_to_pr_url_ms_p95']} ms | p95 ≤ {TARGET_PR_P95_MS:g} ms |"
    )
    p95 = pr["agent_end_to_pr_url_ms_p95"]
    return 0 if p95 is not None and p95 <= TARGET_PR_P95_MS and not pr["failed"] else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
