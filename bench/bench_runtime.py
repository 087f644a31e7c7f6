"""Benchmark of the embedded runtime per data dir: recovery after kill -9, and start-up to Temporal up.

    .venv/bin/python bench/bench_runtime.py [--rounds 5] [--starts 7] [--baseline COMMIT]

Everything is the real `jangar` TUI in a 120×40 pty (bench/ptyapp.py) on a fresh data dir with no
port, queue or Temporal configured, and the real dev server:

- kill -9 → restart → settled: a work order whose agent runs for a minute on its first run (and
  ends at once on later runs) is launched with the default 30 s heartbeat timeout; once the agent
  runs, the TUI is killed with SIGKILL and started again. Timed from the new TUI's spawn until the
  work order is `succeeded` in the store, and until the second agent run starts. Target ≤ 10 s.
- start → "● up" on the status line: this tree adopting the data dir's running server (another
  TUI holds it) and starting it cold; and, with `--baseline`, that commit's code (default: the
  last one before the per-data-dir runtime) with another of its TUIs already serving its embedded
  port, and cold. The kinds take turns, in an order that rotates each round.

Prints a markdown table and writes `bench/results/runtime.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO))

from ptyapp import PtyApp

from jangar_tui.config import load_settings
from jangar_tui.models import WorkOrderStatus
from jangar_tui.orchestration.devserver import free_port
from jangar_tui.orchestration.embedded import RUNTIME_DIR, SERVER_RECORD, recorded_address
from jangar_tui.orchestration.launcher import TemporalLauncher
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore

RESULTS = BENCH / "results"
BASELINE = "751a678"  # main before the per-data-dir runtime
TARGET_SETTLE_S = 10.0
S = WorkOrderStatus
# First run: record the start and work for a minute; later runs: record the start and end at once.
AGENT = (
    "import os, sys, time\n"
    "path = sys.argv[1]\n"
    "first = not os.path.exists(path)\n"
    "open(path, 'a').write(f'{time.time()}\\n')\n"
    "if first: time.sleep(60)\n"
    "print('done')\n"
)


def env_for(data_dir: Path, agent_file: Path, tree: Path | None = None, port: int | None = None) -> dict[str, str]:
    drop = ("CONVEX_", "JANGAR_", "TEMPORAL_", "TEXTUAL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(
        JANGAR_BACKEND="local",
        JANGAR_DATA_DIR=str(data_dir),
        JANGAR_USER="bench",
        JANGAR_AGENT_COMMAND=shlex.join([sys.executable, str(agent_file.parent / "agent.py"), str(agent_file)]),
    )
    if port is not None:
        env["JANGAR_EMBEDDED_TEMPORAL_PORT"] = str(port)
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
        env["PYTHONSAFEPATH"] = "1"
    return env


def argv(tree: Path | None = None) -> list[str]:
    if tree is None:
        return [str(REPO / ".venv" / "bin" / "jangar")]
    return [str(REPO / ".venv" / "bin" / "python"), "-m", "jangar_tui"]


def quit_app(app: PtyApp, timeout_s: float = 30.0) -> None:
    assert app.proc is not None
    app.send(b"\x11")  # ctrl+q
    try:
        app.proc.wait(timeout_s)
    finally:
        app.close()


def server_pid(data_dir: Path) -> int | None:
    try:
        return int(json.loads((data_dir / RUNTIME_DIR / SERVER_RECORD).read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return None


def pid_alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def launch(data_dir: Path, env: dict[str, str]) -> str:
    settings = load_settings(env)
    address = recorded_address(data_dir)
    assert address is not None
    store = LocalStore(settings.db_path)
    try:
        service = JangarService(store, "bench", TemporalLauncher(settings, store, address=address))
        session = await service.new_session("bench")
        wo = await service.create_work_order(session.id, title="bench", prompt="work")
        await service.launch_work_order(wo.id)
        return wo.id
    finally:
        await store.close()


async def wait_status(db_path: Path, work_order_id: str, statuses: set[WorkOrderStatus], timeout_s: float) -> str:
    store = LocalStore(db_path)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            wo = await store.get_work_order(work_order_id)
            assert wo is not None
            if wo.status in statuses:
                return wo.status.value
            if time.monotonic() > deadline:
                raise TimeoutError(f"the work order stayed {wo.status.value}")
            await asyncio.sleep(0.02)
    finally:
        await store.close()


def settle_round(work: Path, index: int) -> dict[str, float | str]:
    data_dir = work / f"settle-{index}"
    agent_file = work / f"settle-{index}.starts"
    env = env_for(data_dir, agent_file)
    first = PtyApp(argv(), env)
    first.start()
    first.wait_for("● up", 60)
    work_order_id = asyncio.run(launch(data_dir, env))
    asyncio.run(wait_status(data_dir / "jangar.sqlite3", work_order_id, {S.RUNNING}, 60))
    deadline = time.monotonic() + 60
    while not agent_file.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the agent never started")
        time.sleep(0.02)
    assert first.proc is not None
    os.kill(first.proc.pid, signal.SIGKILL)
    first.proc.wait()
    first.close()
    second = PtyApp(argv(), env)
    wall0 = time.time()
    t0 = second.start()
    status = asyncio.run(wait_status(data_dir / "jangar.sqlite3", work_order_id, {S.SUCCEEDED, S.FAILED}, 120))
    settled = time.perf_counter() - t0
    starts = [float(x) for x in agent_file.read_text().split()]
    pid = server_pid(data_dir)
    quit_app(second)
    deadline = time.monotonic() + 15
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return {
        "status": status,
        "settled_s": settled,
        "second_agent_start_s": starts[-1] - wall0 if len(starts) > 1 else float("nan"),
        "agent_starts": len(starts),
        "server_left": str(pid_alive(pid)),
    }


def start_to_up(app_argv: list[str], env: dict[str, str]) -> float:
    app = PtyApp(app_argv, env)
    t0 = app.start()
    try:
        return app.wait_for("● up", 60) - t0
    finally:
        quit_app(app)


def start_rounds(work: Path, starts: int, baseline: Path | None) -> dict[str, list[float]]:
    """Each version's second TUI on a data dir whose first TUI already runs the server, and a
    first TUI starting it; the kinds take turns in an order that rotates each round."""
    holders: list[PtyApp] = []
    kinds: dict[str, tuple[list[str], Any]] = {}
    shared = work / "shared"
    holders.append(PtyApp(argv(), env_for(shared, work / "unused")))
    kinds["adopt"] = (argv(), lambda turn: env_for(shared, work / "unused"))
    kinds["cold"] = (argv(), lambda turn: env_for(work / f"cold-{turn}", work / "unused"))
    if baseline is not None:
        # The old code shares a server by its port: a first TUI on the port starts it.
        port = free_port()
        base_shared = work / "base-shared"
        holders.append(PtyApp(argv(baseline), env_for(base_shared, work / "unused", tree=baseline, port=port)))
        kinds["baseline_running"] = (
            argv(baseline),
            lambda turn: env_for(base_shared, work / "unused", tree=baseline, port=port),
        )
        kinds["baseline_cold"] = (
            argv(baseline),
            lambda turn: env_for(work / f"base-cold-{turn}", work / "unused", tree=baseline, port=free_port()),
        )
    out: dict[str, list[float]] = {key: [] for key in kinds}
    try:
        for holder in holders:
            holder.start()
            holder.wait_for("● up", 60)
        order = list(kinds)
        for turn in range(starts):
            for key in order[turn % len(order) :] + order[: turn % len(order)]:
                app_argv, env = kinds[key]
                out[key].append(start_to_up(app_argv, env(turn)))
    finally:
        for holder in holders:
            quit_app(holder)
    return out


def main(argv_: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="kill -9 rounds")
    parser.add_argument("--starts", type=int, default=7, help="start-ups per kind")
    parser.add_argument("--baseline", default=BASELINE, help="commit to compare start-up with ('' for none)")
    args = parser.parse_args(argv_)
    compileall.compile_dir(str(REPO / "jangar_tui"), quiet=1)
    work = Path(tempfile.mkdtemp(prefix="jangar-bench-runtime-"))
    (work / "agent.py").write_text(AGENT)
    baseline: Path | None = None
    try:
        if args.baseline:
            baseline = work / "baseline"
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet", str(baseline), args.baseline],
                check=True,
            )
            compileall.compile_dir(str(baseline / "jangar_tui"), quiet=1)
        settle = [settle_round(work, i) for i in range(args.rounds)]
        for i, r in enumerate(settle):
            print(f"round {i}: {r}", flush=True)
        starts = start_rounds(work, args.starts, baseline)
    finally:
        if baseline is not None:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(baseline)], check=False)
        shutil.rmtree(work, ignore_errors=True)

    settled = [float(r["settled_s"]) for r in settle]
    second = [float(r["second_agent_start_s"]) for r in settle]
    result: dict[str, Any] = {"settle": settle, "starts": starts, "baseline": args.baseline or None}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "runtime.json").write_text(json.dumps(result, indent=2))
    print("\n| measure | median | max | target |\n| --- | --- | --- | --- |")
    print(
        f"| kill -9 of the TUI → restart → `succeeded` ({len(settled)} rounds) | "
        f"{statistics.median(settled):.1f} s | {max(settled):.1f} s | ≤ {TARGET_SETTLE_S:g} s |"
    )
    print(f"| restart → the agent's second run starts | {statistics.median(second):.1f} s | {max(second):.1f} s | |")
    labels = {
        "adopt": "start → Temporal ● up, the data dir's server already running (adopted)",
        "cold": "start → Temporal ● up, starting the data dir's server",
        "baseline_running": f"same, {args.baseline}: a server already on the embedded port (another TUI's)",
        "baseline_cold": f"same, {args.baseline}: starting the server",
    }
    for key, values in starts.items():
        if not values:
            continue
        print(
            f"| {labels[key]} (median of {len(values)}) | {statistics.median(values):.2f} s | {max(values):.2f} s | |"
        )
    bad = [r for r in settle if r["status"] != "succeeded" or r["agent_starts"] != 2 or r["server_left"] == "True"]
    if bad:
        print(f"rounds that went wrong: {bad}", file=sys.stderr)
        return 1
    return 0 if statistics.median(settled) <= TARGET_SETTLE_S else 1


if __name__ == "__main__":
    sys.exit(main())
