"""Benchmark of the run log in the work-order detail, on the real `jangar` in a pseudo-terminal.

    .venv/bin/python bench/bench_run_log.py [--events 10000] [--rate 500] [--presses 100]

One work order with `--events` events in the embedded store. Measured, at 120×40:
- opening the detail: from `enter` on the work order to its newest event on screen, with the
  log's title saying how many there are (the log shows the newest page; older pages load on
  scroll), and the CPU the app spent meanwhile (all its threads);
- following while a writer in another process (as the worker is) appends `--rate` events/s in
  batches every 50 ms: the key echo, from pressing `f` (follow on/off) to the title showing the
  new state, whether the log kept up (the newest event the screen showed at the end), and the
  CPU the app used meanwhile (user + system, all its threads, as a share of one core): on a
  loaded machine the wall-clock figures measure the load as much as the app, the CPU much less.

Prints a markdown table and writes `bench/results/run_log.json`. Targets: open ≤ 100 ms, key echo
p95 ≤ 50 ms while following 500 events/s. Exits non-zero when a target is missed.
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
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

import jangar_side
import psutil
from ptyapp import PtyApp
from stats import percentile

from jangar_tui.store.sqlite.store import LocalStore

RESULTS = BENCH / "results" / "run_log.json"
COLS, ROWS = 120, 40
TARGETS = {"open_ms": 100.0, "echo_p95_ms": 50.0}
TAB, ENTER, CTRL_T = "\t", "\r", "\x14"
TITLE = "Run log bench"

WRITER = r"""
import asyncio, sys, time
sys.path.insert(0, sys.argv[1])
from jangar_tui.store.sqlite.store import LocalStore

async def main(path, wo_id, rate, seconds, start):
    store = LocalStore(path)
    every = 0.05
    per_batch = max(1, round(rate * every))
    n = start
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        await store.append_work_order_events(wo_id, [{"kind": "output", "text": f"streamed {n + i}"} for i in range(per_batch)])
        n += per_batch
        await asyncio.sleep(max(0.0, t0 + (n - start) / rate - time.monotonic()))
    print(n - start, flush=True)
    await store.close()

asyncio.run(main(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])))
"""


async def seed(data_dir: Path, events: int) -> str:
    store = LocalStore(data_dir / jangar_side.DB_NAME)
    try:
        session = await store.create_session(jangar_side.USER_ID, TITLE)
        wo = await store.create_work_order(session.id, "jangar-wo-run-log-bench", title="Stream", prompt="p")
        for first in range(0, events, 100):
            batch = [
                {"kind": "command" if i % 50 == 0 else "output", "text": f"event {i}"}
                for i in range(first, min(first + 100, events))
            ]
            await store.append_work_order_events(wo.id, batch)
        return wo.id
    finally:
        await store.close()


def settle(app: PtyApp, quiet_s: float = 0.3, limit_s: float = 5.0) -> None:
    deadline = time.monotonic() + limit_s
    last = app.mark()
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        if app.mark() == last:
            return
        last = app.mark()


def run(events: int, rate: float, presses: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="jangar-bench-log-") as tmp:
        data = Path(tmp)
        wo_id = asyncio.run(seed(data, events))
        app = PtyApp(jangar_side.argv(), jangar_side.environ(data, "127.0.0.1:1"), cols=COLS, rows=ROWS)
        app.start()
        try:
            app.wait_for(TITLE, 60)
            app.wait_for("Stream", 30)  # the work-order panel lists it
            settle(app)
            # Focus the work-order panel: tab moves pane by pane (sessions, chat, input, orders).
            for _ in range(3):
                app.send(TAB)
                settle(app, 0.2)
            assert app.proc is not None
            measured = psutil.Process(app.proc.pid)
            mark = app.mark()
            cpu_before = sum(measured.cpu_times()[:2])
            pressed = app.send(ENTER)
            shown = app.wait_for(f"event {events - 1}", 10, since=mark)
            counted = app.wait_for(f"{events:,} events", 10, since=mark)
            open_ms = (max(shown, counted) - pressed) * 1000
            open_cpu_ms = (sum(measured.cpu_times()[:2]) - cpu_before) * 1000
            settle(app)
            writer = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    WRITER,
                    str(ROOT),
                    str(data / jangar_side.DB_NAME),
                    wo_id,
                    str(rate),
                    str(presses * 0.2 + 2),
                    str(events),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            time.sleep(1.0)  # streaming has started
            cpu_start, wall_start = sum(measured.cpu_times()[:2]), time.monotonic()
            echoes: list[float] = []
            following = True
            for _ in range(presses):
                mark = app.mark()
                pressed = app.send("f")
                following = not following
                state = "following" if following else "paused"
                echoes.append((app.wait_for(state, 5, since=mark) - pressed) * 1000)
                time.sleep(0.1)
            if not following:
                app.send("f")
            cpu_share = (sum(measured.cpu_times()[:2]) - cpu_start) / (time.monotonic() - wall_start)
            written = int((writer.communicate(timeout=60)[0] or "0").strip() or 0)
            last = events + written - 1
            settle(app, 0.5)
            caught_up = f"streamed {last}" in app.text()[-20000:]
        finally:
            app.close()
    return {
        "events": events,
        "open_ms": round(open_ms, 1),
        "open_cpu_ms": round(open_cpu_ms, 1),
        "rate_per_s": rate,
        "streamed": written,
        "caught_up": caught_up,
        "echo_ms_p50": round(statistics.median(echoes), 1),
        "echo_ms_p95": round(percentile(echoes, 95), 1),
        "presses": presses,
        "cpu_while_following_pct": round(cpu_share * 100, 1),
        "load_average": round(os.getloadavg()[0], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--presses", type=int, default=100)
    args = parser.parse_args()
    result = run(args.events, args.rate, args.presses)
    result["cpus"] = os.cpu_count()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\n### Run log: {result['events']:,} events, then {result['rate_per_s']:g} events/s streamed\n")
    print("| measure | result | target |")
    print("| --- | --- | --- |")
    print(f"| detail opens (enter → newest event and count shown) | {result['open_ms']} ms | ≤ 100 ms |")
    print(f"| the app's CPU meanwhile (all its threads) | {result['open_cpu_ms']} ms | |")
    print(
        f"| key echo while following (`f` → title), p50 / p95 | {result['echo_ms_p50']} / {result['echo_ms_p95']} ms"
        " | p95 ≤ 50 ms |"
    )
    print(f"| kept up (the last of {result['streamed']:,} streamed events on screen) | {result['caught_up']} | yes |")
    print(f"| the app's CPU while following (share of one core) | {result['cpu_while_following_pct']} % | |")
    print(f"\nLoad average at the end: {result['load_average']}")
    ok = (
        result["open_ms"] <= TARGETS["open_ms"]
        and result["echo_ms_p95"] <= TARGETS["echo_p95_ms"]
        and result["caught_up"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
