"""Benchmark of the embedded store (LocalStore) at 1,000 sessions and 1,000,000 messages.

    .venv/bin/python bench/bench_store.py [--quick]

Measures, through the async API: append latency, the newest page of 50 from a 100,000-message
session, the first page of sessions, page reads at 10k / 100k / 1M rows (they should not grow),
and write -> watcher latency from another process. Prints a markdown table and writes
`bench/results/store.json`. Targets: append p99 <= 2 ms, page reads <= 5 ms, cross-process p95
<= 100 ms.

The datasets are fixtures, not code under test: they are bulk-inserted with executemany into
files under `bench/results/` (reused when present) after LocalStore created the schema.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stats import percentile

from jangar_tui.store.sqlite.store import LocalStore

RESULTS = ROOT / "bench" / "results"
USER = "bench"
SESSIONS = 1_000
SIZES = (10_000, 100_000, 1_000_000)
PAGE = 50
TARGETS = {"append_p99_ms": 2.0, "page_ms": 5.0, "cross_process_p95_ms": 100.0}
CONTENT = "A message of a realistic length, say a sentence or two from an operator or the agent. " * 2


# --- dataset -------------------------------------------------------------------------------------


def dataset(total: int) -> tuple[Path, dict[str, Any]]:
    """A file with `total` messages over SESSIONS sessions; one "big" session holds total/10."""
    path = RESULTS / f"store-{total}.sqlite3"
    meta_path = path.with_suffix(".json")
    spec = {"total": total, "sessions": SESSIONS, "schema": "v2"}
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("spec") == spec:
            return path, meta
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    asyncio.run(_create_schema(path))
    meta = _bulk_insert(path, total)
    meta["spec"] = spec
    meta["build_s"] = round(time.perf_counter() - started, 1)
    meta_path.write_text(json.dumps(meta))
    return path, meta


async def _create_schema(path: Path) -> None:
    store = LocalStore(path)
    await store.close()


def _bulk_insert(path: Path, total: int) -> dict[str, Any]:
    big = total // 10
    rest = total - big
    counts = [big] + [rest // (SESSIONS - 1) + (1 if i < rest % (SESSIONS - 1) else 0) for i in range(SESSIONS - 1)]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -262144")  # 256 MiB while building
    conn.execute("BEGIN")
    clock = int(time.time() * 1000) - total - 10_000  # one ms per message, ending about now
    session_ids = [f"ses_{secrets.token_hex(16)}" for _ in range(SESSIONS)]
    sessions = []
    for index, (session_id, count) in enumerate(zip(session_ids, counts, strict=True)):
        created = clock
        rows = []
        for k in range(count):
            clock += 1
            role = "user" if k % 2 == 0 else "assistant"
            rows.append((f"msg_{secrets.token_hex(16)}", session_id, role, f"{k}: {CONTENT}", None, clock, clock))
        conn.executemany(
            "INSERT INTO chat_messages (_id, sessionId, role, content, metadata, createdAt, updatedAt) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        sessions.append((session_id, USER, f"Session {index}", clock, created, clock))
    conn.executemany(
        "INSERT INTO chat_sessions (_id, userId, title, lastMessageAt, createdAt, updatedAt) VALUES (?, ?, ?, ?, ?, ?)",
        sessions,
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {"big_session": session_ids[0], "big_count": big}


# --- measurements ----------------------------------------------------------------------------------


async def timed(samples: list[float], coro: Any) -> Any:
    started = time.perf_counter()
    result = await coro
    samples.append((time.perf_counter() - started) * 1000)
    return result


async def measure_reads(path: Path, meta: dict[str, Any], repeats: int) -> dict[str, float]:
    store = LocalStore(path)
    big = meta["big_session"]
    newest: list[float] = []
    middle: list[float] = []
    sessions: list[float] = []
    get: list[float] = []
    try:
        # A cursor half-way down the big session: a deep page must cost what the first one does.
        cursor = None
        for _ in range(meta["big_count"] // 200 // 2):
            cursor = (await store.list_messages(big, 200, cursor)).continueCursor
        for _ in range(50):  # warm the page cache (and the code paths) like a running app would have
            await store.list_messages(big, PAGE)
            await store.list_messages(big, PAGE, cursor)
            await store.list_sessions(USER, PAGE)
            await store.get_session(big)
        for _ in range(repeats):
            page = await timed(newest, store.list_messages(big, PAGE))
            assert len(page.page) == PAGE
            await timed(middle, store.list_messages(big, PAGE, cursor))
            first = await timed(sessions, store.list_sessions(USER, PAGE))
            assert len(first.page) == PAGE
            await timed(get, store.get_session(big))
    finally:
        await store.close()
    return {
        "messages_newest_page_p50_ms": statistics.median(newest),
        "messages_newest_page_p99_ms": percentile(newest, 99),
        "messages_middle_page_p50_ms": statistics.median(middle),
        "messages_middle_page_p99_ms": percentile(middle, 99),
        "sessions_first_page_p50_ms": statistics.median(sessions),
        "sessions_first_page_p99_ms": percentile(sessions, 99),
        "get_session_p50_ms": statistics.median(get),
    }


async def measure_appends(path: Path, count: int) -> dict[str, float]:
    store = LocalStore(path)
    samples: list[float] = []
    try:
        session = await store.create_session(USER, "Append benchmark")
        for _ in range(50):  # warm-up, not counted
            await store.append_message(session.id, "user", CONTENT)
        for n in range(count):
            await timed(samples, store.append_message(session.id, "assistant", f"{n}: {CONTENT}"))
    finally:
        await store.close()
    _drop_session(path, session.id)
    return {
        "append_p50_ms": statistics.median(samples),
        "append_p99_ms": percentile(samples, 99),
        "append_max_ms": max(samples),
        "append_count": count,
    }


def _drop_session(path: Path, session_id: str) -> None:
    """Keep the reusable dataset at its nominal size (fixture housekeeping, not the app's delete)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DELETE FROM chat_messages WHERE sessionId = ?", (session_id,))
    conn.execute("DELETE FROM chat_sessions WHERE _id = ?", (session_id,))
    conn.close()


WRITER = """
import asyncio, random, sys, time
from jangar_tui.store.sqlite.store import LocalStore

async def main():
    store = LocalStore(sys.argv[1])
    session_id, count = sys.argv[2], int(sys.argv[3])
    rng = random.Random(7)
    try:
        sys.stdin.readline()
        for _ in range(count):
            # Off the poll rhythm on purpose: every phase of the 50 ms period gets sampled.
            await asyncio.sleep(rng.uniform(0.02, 0.09))
            await store.append_message(session_id, "assistant", repr(time.monotonic()))
    finally:
        await store.close()

asyncio.run(main())
"""


async def measure_cross_process(path: Path, count: int) -> dict[str, float]:
    store = LocalStore(path)
    session = await store.create_session(USER, "Cross-process benchmark")
    latencies: list[float] = []
    in_process: list[float] = []
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, str(path), session.id, str(count), cwd=ROOT, stdin=asyncio.subprocess.PIPE
    )
    watcher = store.watch_messages(session.id, count + 10)
    try:
        assert await anext(watcher) == []
        assert child.stdin is not None
        child.stdin.write(b"go\n")
        await child.stdin.drain()
        seen = 0
        while seen < count:
            snapshot = await asyncio.wait_for(anext(watcher), 30)
            now = time.monotonic()
            for message in snapshot[seen:]:
                latencies.append((now - float(message.content)) * 1000)
            seen = len(snapshot)
        assert await child.wait() == 0
        # The same watcher, woken by a write through this very store (no polling involved).
        for _ in range(100):
            started = time.perf_counter()
            await store.append_message(session.id, "user", "local")
            await anext(watcher)
            in_process.append((time.perf_counter() - started) * 1000)
    finally:
        await watcher.aclose()  # type: ignore[attr-defined]
        if child.returncode is None:
            child.kill()
            await child.wait()
        await store.close()
    _drop_session(path, session.id)
    return {
        "cross_process_p50_ms": statistics.median(latencies),
        "cross_process_p95_ms": percentile(latencies, 95),
        "cross_process_max_ms": max(latencies),
        "cross_process_count": len(latencies),
        "in_process_write_to_watcher_p50_ms": statistics.median(in_process),
    }


# --- report ---------------------------------------------------------------------------------------


def table(results: dict[str, Any]) -> str:
    big = results["datasets"][str(SIZES[-1])]
    rows = [
        (
            "append (async API), p50 / p99",
            f"{results['append_p50_ms']:.2f} / {results['append_p99_ms']:.2f} ms",
            f"p99 ≤ {TARGETS['append_p99_ms']:g} ms",
        ),
        (
            "newest page of 50, 100k-message session, p50 / p99",
            f"{big['messages_newest_page_p50_ms']:.2f} / {big['messages_newest_page_p99_ms']:.2f} ms",
            f"≤ {TARGETS['page_ms']:g} ms",
        ),
        (
            "first page of 50 sessions (of 1,000), p50 / p99",
            f"{big['sessions_first_page_p50_ms']:.2f} / {big['sessions_first_page_p99_ms']:.2f} ms",
            f"≤ {TARGETS['page_ms']:g} ms",
        ),
        (
            "write → watcher, other process, p50 / p95",
            f"{results['cross_process_p50_ms']:.1f} / {results['cross_process_p95_ms']:.1f} ms",
            f"p95 ≤ {TARGETS['cross_process_p95_ms']:g} ms",
        ),
        ("write → watcher, same process, p50", f"{results['in_process_write_to_watcher_p50_ms']:.2f} ms", ""),
    ]
    out = ["| measure | result | target |", "| --- | --- | --- |"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    out += [
        "",
        "| messages in the table | newest page p50 | page half-way down p50 | sessions page p50 | get p50 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for size in SIZES:
        r = results["datasets"][str(size)]
        out.append(
            f"| {size:,} | {r['messages_newest_page_p50_ms']:.2f} ms | {r['messages_middle_page_p50_ms']:.2f} ms "
            f"| {r['sessions_first_page_p50_ms']:.2f} ms | {r['get_session_p50_ms']:.2f} ms |"
        )
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (for a smoke run)")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    repeats, appends, crossings = (50, 300, 40) if args.quick else (1000, 3000, 200)

    results: dict[str, Any] = {"datasets": {}}
    for size in SIZES:
        path, meta = dataset(size)
        print(f"dataset {size:,} messages: {path} ({os.path.getsize(path) / 1e6:.0f} MB)", file=sys.stderr)
        results["datasets"][str(size)] = asyncio.run(measure_reads(path, meta, repeats))
    path, _ = dataset(SIZES[-1])
    results.update(asyncio.run(measure_appends(path, appends)))
    results.update(asyncio.run(measure_cross_process(path, crossings)))
    big = results["datasets"][str(SIZES[-1])]
    results["targets_met"] = {
        "append_p99": results["append_p99_ms"] <= TARGETS["append_p99_ms"],
        "page_reads": max(big["messages_newest_page_p99_ms"], big["sessions_first_page_p99_ms"]) <= TARGETS["page_ms"],
        "cross_process_p95": results["cross_process_p95_ms"] <= TARGETS["cross_process_p95_ms"],
    }
    results["machine"] = {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }
    (RESULTS / "store.json").write_text(json.dumps(results, indent=2))
    print(table(results))
    return 0 if all(results["targets_met"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
