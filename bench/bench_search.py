"""Benchmark of search on the embedded store: 1,000,000 messages, FTS5 (schema v5).

    .venv/bin/python bench/bench_search.py [--quick] [--messages N]

1. Bulk-inserts 1,000 sessions and N messages (default 1,000,000; words drawn from a Zipf-like
   vocabulary of 20,000, 10-40 words each, plus a rare marker in 10 messages) into a file at schema
   v4 (no search index), in one transaction with executemany; 5% of the sessions are another user's.
2. Opens it with `LocalStore` as the app does and times that (the migration: the session and work
   order indexes are built in it, the message index is not), then the message index's build in the
   background after the open, until search no longer says it is being built. Reports the file size
   before and after.
3. Times `LocalStore.search` (the app's whole path: the FTS5 query, the joins that drop deleted
   rows and other users' rows, the excerpts) for a few query shapes, p50 / p95 over the repetitions.
4. The cost the index adds to writing: `append_message` and the growing-reply `update_message` on
   that 1M-message file, against a copy of the same rows at v4 (no index), interleaved.

Target: first results (one `search` call) <= 100 ms. Prints a markdown table, writes
`bench/results/search.json`, exits non-zero when the target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import secrets
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stats import percentile

from jangar_tui.store.sqlite.schema import MIGRATIONS, SEARCH_SCHEMA_VERSION, migrate
from jangar_tui.store.sqlite.store import LocalStore

RESULTS = ROOT / "bench" / "results"
USER, OTHER = "bench", "someone-else"
SESSIONS = 1_000
VOCABULARY = 20_000
RARE = "quetzalcoatl"
RARE_COUNT = 10
TARGET_MS = 100.0


def vocabulary(rnd: random.Random) -> tuple[list[str], list[float]]:
    words = sorted(
        {"".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(3, 9))) for _ in range(VOCABULARY)}
    )
    rnd.shuffle(words)
    cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(words))))
    return words, cumulative


def build(path: Path, messages: int) -> dict[str, Any]:
    """A v4 file (no search index) holding the data set; returns what it holds."""
    rnd = random.Random(16)
    words, cumulative = vocabulary(rnd)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    migrate(conn, MIGRATIONS[: SEARCH_SCHEMA_VERSION - 1])
    started = time.perf_counter()
    conn.execute("BEGIN")
    sessions = [f"ses_{i:032x}" for i in range(SESSIONS)]
    conn.executemany(
        "INSERT INTO chat_sessions (_id, userId, title, lastMessageAt, createdAt, updatedAt) VALUES (?,?,?,?,?,?)",
        [
            (sid, OTHER if i % 20 == 0 else USER, " ".join(rnd.choices(words, cum_weights=cumulative, k=3)), i, i, i)
            for i, sid in enumerate(sessions)
        ],
    )
    rare_at = set(rnd.sample(range(messages), RARE_COUNT))

    def rows() -> Any:
        for i in range(messages):
            text = rnd.choices(words, cum_weights=cumulative, k=rnd.randint(10, 40))
            if i in rare_at:
                text[len(text) // 2] = RARE
            role = "user" if i % 2 == 0 else "assistant"
            yield (f"msg_{i:032x}", sessions[rnd.randrange(SESSIONS)], role, " ".join(text), 10_000 + i, 10_000 + i)

    conn.executemany(
        "INSERT INTO chat_messages (_id, sessionId, role, content, createdAt, updatedAt) VALUES (?,?,?,?,?,?)", rows()
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {
        "messages": messages,
        "sessions": SESSIONS,
        "insert_s": round(time.perf_counter() - started, 1),
        "common": [words[0], words[1]],
        "mid": words[200],
    }


def size_mb(path: Path) -> float:
    return sum(os.path.getsize(f"{path}{s}") for s in ("", "-wal") if os.path.exists(f"{path}{s}")) / 1e6


async def index_build(path: Path) -> tuple[float, float, int]:
    """Seconds to open the v4 file (its migration: what an operator waits for before the UI starts),
    seconds after that until the background build has indexed every message, and how many times
    search said how far it was meanwhile (asked every 0.5 s)."""
    started = time.perf_counter()
    store = LocalStore(path)
    opened = time.perf_counter() - started
    try:
        progress = 0
        while (await store.search(USER, "zzzzqqqq")).indexing is not None:  # starts the build
            progress += 1
            await asyncio.sleep(0.5)
        built = time.perf_counter() - started - opened
    finally:
        await store.close()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return opened, built, progress


async def time_queries(path: Path, queries: dict[str, str], repeat: int) -> dict[str, dict[str, Any]]:
    store = LocalStore(path)
    try:
        out: dict[str, dict[str, Any]] = {}
        # The very first search after opening (cold page cache for the index), reported on its own.
        started = time.perf_counter()
        await store.search(USER, next(iter(queries.values())))
        out["first search after opening (cold)"] = {
            "query": next(iter(queries.values())),
            "ms": round((time.perf_counter() - started) * 1000, 2),
        }
        print(f"  cold: {out['first search after opening (cold)']}", file=sys.stderr, flush=True)
        for name, text in queries.items():
            samples, hits = [], 0
            for _ in range(repeat):
                started = time.perf_counter()
                results = await store.search(USER, text)
                samples.append((time.perf_counter() - started) * 1000)
                hits = len(results.all())
            out[name] = {
                "query": text,
                "hits": hits,
                "p50_ms": round(statistics.median(samples), 2),
                "p95_ms": round(percentile(samples, 95), 2),
                "max_ms": round(max(samples), 2),
            }
            print(f"  {name}: {out[name]}", file=sys.stderr, flush=True)
        return out
    finally:
        await store.close()


async def write_costs(indexed: Path, plain: Path, count: int) -> dict[str, Any]:
    """append_message and a growing reply's update_message, with and without the index, interleaved."""
    stores = {"indexed": LocalStore(indexed), "plain": LocalStore(plain)}
    try:
        session = f"ses_{1:032x}"
        appends: dict[str, list[float]] = {name: [] for name in stores}
        updates: dict[str, list[float]] = {name: [] for name in stores}
        words = ["deploy", "worker", "queue", "retry", "cluster", "review"]
        replies = {name: await store.append_message(session, "assistant", "…") for name, store in stores.items()}
        reply_text = {name: "" for name in stores}
        for i in range(count):
            for name, store in stores.items():
                text = f"bench append {i} " + " ".join(random.choices(words, k=20))
                started = time.perf_counter()
                await store.append_message(session, "user", text)
                appends[name].append((time.perf_counter() - started) * 1000)
                # A reply growing by ~60 characters a write, as a streaming answer does (up to ~12 KB).
                if len(reply_text[name]) > 12_000:
                    replies[name] = await store.append_message(session, "assistant", "…")
                    reply_text[name] = ""
                reply_text[name] += " ".join(random.choices(words, k=8)) + " "
                started = time.perf_counter()
                await store.update_message(replies[name].id, content=reply_text[name])
                updates[name].append((time.perf_counter() - started) * 1000)

        def summary(samples: list[float]) -> dict[str, float]:
            return {"p50_ms": round(statistics.median(samples), 3), "p95_ms": round(percentile(samples, 95), 3)}

        return {
            "append": {name: summary(s) for name, s in appends.items()},
            "update_growing_reply": {name: summary(s) for name, s in updates.items()},
            "count": count,
        }
    finally:
        for store in stores.values():
            await store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 messages, fewer repetitions")
    parser.add_argument("--messages", type=int, default=None)
    args = parser.parse_args()
    messages = args.messages or (100_000 if args.quick else 1_000_000)
    repeat, writes = (10, 200) if args.quick else (40, 1_000)
    RESULTS.mkdir(parents=True, exist_ok=True)
    tag = secrets.token_hex(3)
    indexed = RESULTS / f"search-{messages}-{tag}.sqlite3"
    plain = RESULTS / f"search-{messages}-{tag}-unindexed.sqlite3"
    try:
        print(f"building {messages:,} messages…", file=sys.stderr, flush=True)
        data = build(indexed, messages)
        size_before = size_mb(indexed)
        # A copy without the index, for the write costs: marked as having had search's migration,
        # then given the ones after it (no FTS5 tables, no triggers: writes without index upkeep).
        shutil.copy(indexed, plain)
        conn = sqlite3.connect(plain, isolation_level=None)
        conn.execute(f"PRAGMA user_version = {SEARCH_SCHEMA_VERSION}")
        migrate(conn)
        conn.close()
        print("building the FTS5 indexes (v4 -> v5)…", file=sys.stderr, flush=True)
        open_s, build_s, progress_answers = asyncio.run(index_build(indexed))
        size_after = size_mb(indexed)
        common, second = data["common"]
        queries = {
            "common word": common,
            "two common words": f"{common} {second}",
            "mid-frequency word": data["mid"],
            "rare word (10 messages)": RARE,
            "word in no message": "zzzzqqqq",
            "1 letter, as typed": common[:1],
            "prefix of 2 letters, as typed": common[:2],
            "prefix of 3 letters, as typed": data["mid"][:3],
            "common word + rare prefix": f"{common} {RARE[:5]}",
            'hostile: "x" NEAR(* -:': f'"{common}" NEAR(* -:',
        }
        print("timing queries…", file=sys.stderr, flush=True)
        timings = asyncio.run(time_queries(indexed, queries, repeat))
        print("timing writes…", file=sys.stderr, flush=True)
        costs = asyncio.run(write_costs(indexed, plain, writes))
    finally:
        for path in (indexed, plain):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    cold = timings.pop("first search after opening (cold)")
    worst = max(t["p95_ms"] for t in timings.values())
    report = {
        "sqlite": sqlite3.sqlite_version,
        "load_average": os.getloadavg(),
        "data": data,
        "open_s": round(open_s, 2),
        "index_build_s": round(build_s, 1),
        "searches_saying_how_far": progress_answers,
        "size_mb": {"without_index": round(size_before, 1), "with_index": round(size_after, 1)},
        "queries": timings,
        "cold_first_search_ms": cold["ms"],
        "writes": costs,
        "target_first_results_ms": TARGET_MS,
        "worst_p95_ms": worst,
    }
    (RESULTS / "search.json").write_text(json.dumps(report, indent=1))
    print(f"\n## Search, {messages:,} messages (load average {os.getloadavg()[0]:.1f})\n")
    print(
        f"open of the v4 file (its migration, before the UI can start): {open_s:.2f} s; then the message "
        f"index built in the background: {build_s:.1f} s ({progress_answers} searches meanwhile said how far); "
        f"file {size_before:.0f} MB -> {size_after:.0f} MB\n"
    )
    print(f"first search after opening the store (cold cache, `{cold['query']}`): {cold['ms']} ms\n")
    print("| query | hits | p50 | p95 |\n| --- | --- | --- | --- |")
    for name, t in timings.items():
        print(f"| {name} (`{t['query']}`) | {t['hits']} | {t['p50_ms']} ms | {t['p95_ms']} ms |")
    print("\n| write | without index p50 / p95 | with index p50 / p95 |\n| --- | --- | --- |")
    for kind in ("append", "update_growing_reply"):
        p, i = costs[kind]["plain"], costs[kind]["indexed"]
        print(f"| {kind} | {p['p50_ms']} / {p['p95_ms']} ms | {i['p50_ms']} / {i['p95_ms']} ms |")
    met = worst <= TARGET_MS
    print(f"\nfirst results, worst p95 {worst} ms: {'met' if met else 'NOT MET'} (target {TARGET_MS:.0f} ms)")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
