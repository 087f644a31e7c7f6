"""What the contract's argument checks cost on the embedded store's hot paths.

    .venv/bin/python bench/bench_contract.py

Times, per call (the best of 5 rounds, each the mean of many calls, so the machine's other load
counts as little as it can): the metadata check (`validation.metadata_json`) against the plain
JSON serialization it replaced, for a completion message's metadata and for a ~52 KB one (600
tool calls, ~6,000 values); opening and making a page cursor; the title, URL and repository
checks; and `LocalStore.append_message` with each metadata. Prints a markdown table and writes
`bench/results/contract.json`. No target: the figures say what the definition costs.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jangar_tui.models import Role
from jangar_tui.store import validation as v
from jangar_tui.store.cursors import ListIdentity, encode_cursor, open_cursor
from jangar_tui.store.sqlite.store import LocalStore

RESULTS = ROOT / "bench" / "results"
COMPLETION = {
    "kind": "workOrderCompletion",
    "workOrderId": "wo_" + "a" * 32,
    "workflowId": "jangar-wo-00000000-0000-0000-0000-000000000000",
    "status": "succeeded",
    "prUrl": "https://github.com/acme/widgets/pull/1234",
    "exitCode": 0,
}
TOOLS = {
    "tools": [
        {"name": "shell", "args": ["ls", "-la", f"/tmp/{i}"], "usage": {"in": i, "out": 2 * i}} for i in range(600)
    ]
}


def per_call_us(fn: Callable[[], Any], number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def plain_json(metadata: Any) -> str:
    return json.dumps(metadata, allow_nan=False, separators=(",", ":"), ensure_ascii=False)


async def append_us(metadata: Any, count: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalStore(Path(tmp) / "bench.sqlite3")
        try:
            session = await store.create_session("bench", "Contract")
            best = float("inf")
            for _ in range(5):
                start = time.perf_counter()
                for _ in range(count):
                    await store.append_message(session.id, Role.ASSISTANT, "m", metadata)
                best = min(best, (time.perf_counter() - start) / count * 1e6)
            return best
        finally:
            await store.close()


def main() -> None:
    messages = ListIdentity("chatMessages:listBySession", "ses_" + "a" * 32)
    cursor = encode_cursor(messages, "1795960332891:123456")
    rows: dict[str, float] = {
        "metadata, completion (plain JSON before)": per_call_us(lambda: plain_json(COMPLETION), 20_000),
        "metadata, completion (the contract's check)": per_call_us(lambda: v.metadata_json(COMPLETION), 20_000),
        f"metadata, {len(plain_json(TOOLS)) // 1000} KB (plain JSON before)": per_call_us(
            lambda: plain_json(TOOLS), 50
        ),
        f"metadata, {len(plain_json(TOOLS)) // 1000} KB (the contract's check)": per_call_us(
            lambda: v.metadata_json(TOOLS), 50
        ),
        "page cursor, make": per_call_us(lambda: encode_cursor(messages, "1795960332891:123456"), 20_000),
        "page cursor, open": per_call_us(lambda: open_cursor(messages, cursor), 20_000),
        "title": per_call_us(lambda: v.title("  A title of a few words  "), 20_000),
        "http(s) URL": per_call_us(lambda: v.http_url("prUrl", "https://github.com/acme/widgets/pull/1234"), 20_000),
        "targetRepo": per_call_us(lambda: v.target_repo("git@github.com:acme/widgets.git"), 20_000),
        "targetBranch": per_call_us(lambda: v.target_branch("jangar/fix-the-flaky-test"), 20_000),
        "append_message, completion metadata": asyncio.run(append_us(COMPLETION, 300)),
        "append_message, 52 KB metadata": asyncio.run(append_us(TOOLS, 30)),
    }
    print("| call | µs per call |\n| --- | --- |")
    for name, value in rows.items():
        print(f"| {name} | {value:,.1f} |")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "contract.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
