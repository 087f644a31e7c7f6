"""What another process's run log costs the UI sitting on the chat screen (embedded store).

    .venv/bin/python bench/bench_watch_wakes.py [--seconds 20] [--rate 500]

The real `JangarApp` on the embedded store runs headless at 120×40 in this process, on the chat
screen of a session with 200 messages, among 50 sessions. A writer in another process (as a
`jangar worker` is) appends `--rate` events/s to a running work order's run log, in batches every
50 ms. Three phases of `--seconds` each:
- idle: nobody writes;
- elsewhere: the streamed work order belongs to another session (nothing on screen shows it);
- here: it belongs to the session on screen, whose work-order panel shows its latest activity.
Measured per phase: this process's CPU (user + system, every thread: the app and its store) as a
share of one core, and how many times the store's watchers re-ran their queries per second, by
query (each `SqliteDb.recent_*` call counted, on any version of the store), with the store's
checks of what changed (`changed_tables`, or `data_version` before it) per second, and how many
times the work-order panel's rows were drawn again per second (each such repaint renders every row
of the list).

What the table versions cost the writer: the CPU of an `append_message` and of a 25-event batch
(`SqliteDb` called directly, best of 5 rounds of 300 / 100), with the version triggers and with
them dropped from a scratch file.

Prints markdown tables and writes `bench/results/watch_wakes.json`. No target: a commit to a table
no watcher on screen reads should cost those watchers no query.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import jangar_tui
from jangar_tui.models import WorkOrderStatus
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite import db as db_module
from jangar_tui.store.sqlite.schema import SCHEMA_VERSION
from jangar_tui.store.sqlite.store import LocalStore
from jangar_tui.ui.app import JangarApp
from jangar_tui.ui.screens.main import MainScreen
from jangar_tui.ui.widgets.chat.transcript import Transcript
from jangar_tui.ui.widgets.work_orders.panel import WorkOrderPanel
from jangar_tui.ui.widgets.work_orders.work_order_list import WorkOrderList

RESULTS = ROOT / "bench" / "results" / "watch_wakes.json"
USER = "bench"
SESSIONS = 50
MESSAGES = 200
QUERIES = (
    "recent_sessions",
    "recent_messages",
    "recent_work_orders",
    "recent_work_order_events",
    "recent_work_orders_by_status",
)
CHECKS = ("changed_tables", "data_version")  # this version's, or the one before table versions
REPAINTS = "work-order row repaints"
RUNNING = (WorkOrderStatus.SUBMITTED, WorkOrderStatus.ACCEPTED, WorkOrderStatus.RUNNING)

WRITER = r"""
import asyncio, sys, time
sys.path.insert(0, sys.argv[1])
from jangar_tui.store.sqlite.store import LocalStore

async def main(path, wo_id, rate, seconds):
    store = LocalStore(path)
    every = 0.05
    per_batch = max(1, round(rate * every))
    n = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        await store.append_work_order_events(wo_id, [{"kind": "output", "text": f"streamed {n + i}"} for i in range(per_batch)])
        n += per_batch
        await asyncio.sleep(max(0.0, t0 + n / rate - time.monotonic()))
    print(n, flush=True)
    await store.close()

asyncio.run(main(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])))
"""

calls: Counter[str] = Counter()


def count_calls() -> None:
    """Count every call of the store's watch queries and change checks, whoever makes them."""
    for name in (*QUERIES, *CHECKS):
        real = getattr(db_module.SqliteDb, name, None)
        if real is None:
            continue

        def counted(self: Any, *args: Any, _real: Callable[..., Any] = real, _name: str = name) -> Any:
            calls[_name] += 1
            return _real(self, *args)

        setattr(db_module.SqliteDb, name, functools.wraps(real)(counted))
    real_repaint = WorkOrderList.replace_option_prompt_at_index

    def repainted(self: Any, *args: Any) -> Any:
        calls[REPAINTS] += 1
        return real_repaint(self, *args)

    WorkOrderList.replace_option_prompt_at_index = functools.wraps(real_repaint)(repainted)  # type: ignore[method-assign]


async def seed(path: Path) -> tuple[str, str]:
    """A running work order in another session, and a draft one in the session on screen."""
    store = LocalStore(path)
    try:
        sessions = [(await store.create_session(USER, f"session {n:02d}")).id for n in range(SESSIONS - 1)]
        elsewhere = await store.create_work_order(sessions[0], "jangar-wo-elsewhere", title="elsewhere", prompt="p")
        for status in RUNNING:
            await store.update_work_order_status(elsewhere.id, status)
        shown = await store.create_session(USER, "On screen")
        here = await store.create_work_order(shown.id, "jangar-wo-here", title="here", prompt="p")
        for work_order in (elsewhere, here):
            await store.append_work_order_events(work_order.id, [{"kind": "output", "text": "started"}])
        for n in range(MESSAGES):  # last: the newest session, the one the app opens on
            await store.append_message(shown.id, "user" if n % 2 == 0 else "assistant", f"message {n}")
        return elsewhere.id, here.id
    finally:
        await store.close()


async def until(pilot: Any, predicate: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the chat screen never got there")
        await pilot.pause(0.05)


def chat_ready(app: JangarApp) -> bool:
    """The session on screen, its newest message shown and its work order listed."""
    screen = app.screen
    if not isinstance(screen, MainScreen) or screen.session is None:
        return False
    messages = screen.query_one(Transcript).messages
    orders = screen.query_one(WorkOrderPanel).work_order_list.work_orders
    return bool(messages) and messages[-1].content == f"message {MESSAGES - 1}" and bool(orders)


def following(app: JangarApp, work_order_id: str) -> bool:
    """The work order's panel row shows its latest activity."""
    orders = app.screen.query_one(WorkOrderPanel).work_order_list
    return work_order_id in orders._activity


async def phase(path: Path, work_order_id: str | None, rate: float, seconds: float) -> dict[str, Any]:
    writer = None
    if work_order_id is not None:
        writer = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WRITER,
            str(ROOT),
            str(path),
            work_order_id,
            str(rate),
            str(seconds + 2),
            stdout=asyncio.subprocess.PIPE,
        )
        await asyncio.sleep(1.0)  # streaming has started
    before, cpu, wall = Counter(calls), time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    counted = calls - before
    streamed = 0
    if writer is not None:
        out, _ = await asyncio.wait_for(writer.communicate(), 120)
        streamed = int(out.decode().strip() or 0)
    return {
        "cpu_pct": round(cpu / wall * 100, 1),
        "requeries_per_s": round(sum(counted[q] for q in QUERIES) / wall, 1),
        "by_query_per_s": {q: round(counted[q] / wall, 1) for q in QUERIES if counted[q]},
        "checks_per_s": round(sum(counted[c] for c in CHECKS) / wall, 1),
        "row_repaints_per_s": round(counted[REPAINTS] / wall, 1),
        "events_streamed": streamed,
        "seconds": round(wall, 1),
    }


def write_cost(triggers: bool) -> dict[str, float]:
    """CPU µs of an append_message and of a 25-event batch, with or without the version triggers."""
    with tempfile.TemporaryDirectory(prefix="jangar-bench-write-") as tmp:
        db = db_module.SqliteDb.open(Path(tmp) / "jangar.sqlite3")
        try:
            if not triggers:
                names = db._w.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_version_%'"
                )
                for (name,) in names.fetchall():
                    db._w.execute(f"DROP TRIGGER {name}")
            session = db.create_session(USER, "writes")
            work_order = db.create_work_order(session.id, "jangar-wo-writes")
            message_s = batch_s = float("inf")
            for _ in range(5):
                start = time.process_time()
                for n in range(300):
                    db.append_message(session.id, "user", f"message {n}")
                middle = time.process_time()
                for n in range(100):
                    db.append_work_order_events(
                        work_order.id, [{"kind": "output", "text": f"event {n}.{k}"} for k in range(25)]
                    )
                message_s = min(message_s, (middle - start) / 300)
                batch_s = min(batch_s, (time.process_time() - middle) / 100)
        finally:
            db.close()
    return {"append_message_us": round(message_s * 1e6), "event_batch_25_us": round(batch_s * 1e6)}


async def measure(rate: float, seconds: float) -> dict[str, Any]:
    count_calls()
    with tempfile.TemporaryDirectory(prefix="jangar-bench-wakes-") as tmp:
        path = Path(tmp) / "jangar.sqlite3"
        elsewhere, here = await seed(path)
        # One store in this process: a second one's open would drop the first's file locks.
        store = LocalStore(path)
        app = JangarApp(JangarService(store, USER))
        try:
            async with app.run_test(size=(120, 40)) as pilot:
                await until(pilot, lambda: chat_ready(app))
                await asyncio.sleep(2.0)  # the first snapshots and paints are over
                phases = {
                    "idle": await phase(path, None, rate, seconds),
                    "elsewhere": await phase(path, elsewhere, rate, seconds),
                }
                # Now the session on screen has a running work order: its panel row follows it.
                for status in RUNNING:
                    await store.update_work_order_status(here, status)
                await until(pilot, lambda: following(app, here))
                await asyncio.sleep(2.0)
                phases["here"] = await phase(path, here, rate, seconds)
                return phases
        finally:
            await store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=500.0)
    args = parser.parse_args()
    phases = asyncio.run(measure(args.rate, args.seconds))
    writes = {"with the version triggers": write_cost(True), "without them": write_cost(False)}
    result = {
        "rate_per_s": args.rate,
        "phases": phases,
        "write_cpu": writes,
        "schema_version": SCHEMA_VERSION,
        "jangar_tui": str(Path(jangar_tui.__file__).parent),
        "load_average": round(os.getloadavg()[0], 1),
        "cpus": os.cpu_count(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    print(
        f"\n### The chat screen while another process streams {args.rate:g} run-log events/s "
        f"(schema v{SCHEMA_VERSION}, load {result['load_average']}, {result['jangar_tui']})\n"
    )
    print(
        "| phase | UI CPU (share of a core) | watch re-queries/s | by query /s | change checks/s "
        "| row repaints/s | events streamed |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, p in phases.items():
        by_query = ", ".join(f"{q.removeprefix('recent_')} {n}" for q, n in p["by_query_per_s"].items()) or "–"
        print(
            f"| {name} | {p['cpu_pct']} % | {p['requeries_per_s']} | {by_query} | {p['checks_per_s']} "
            f"| {p['row_repaints_per_s']} | {p['events_streamed']:,} |"
        )
    print("\n| writer's CPU (best of 5) | append_message | 25-event batch |\n| --- | --- | --- |")
    for name, cost in writes.items():
        print(f"| {name} | {cost['append_message_us']} µs | {cost['event_batch_25_us']} µs |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
