"""The embedded store shared by several processes (the TUI and a Temporal worker on one file)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

from jangar_tui.models import WorkOrderStatus
from jangar_tui.store.sqlite.store import LocalStore

REPO = Path(__file__).resolve().parent.parent
# Safety net against a hang, not a speed assertion.
STEP_TIMEOUT_S = 30

# Runs in a child process: executes one JSON command per stdin line on its own LocalStore and
# answers "ok" after each commit, so the parent knows exactly which change it must see next.
DRIVER = """
import asyncio, json, sys
from jangar_tui.store.sqlite.store import LocalStore

async def main():
    store = LocalStore(sys.argv[1])
    try:
        for line in sys.stdin:
            command = json.loads(line)
            await getattr(store, command["method"])(**command["args"])
            print("ok", flush=True)
    finally:
        await store.close()

asyncio.run(main())
"""

# Runs in a child process: waits for "go", then appends `count` messages as fast as it can.
APPENDER = """
import asyncio, sys
from jangar_tui.store.sqlite.store import LocalStore

async def main():
    path, session_id, tag, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    store = LocalStore(path)
    try:
        sys.stdin.readline()
        for k in range(count):
            await store.append_message(session_id, "assistant", f"{tag}-{k}")
    finally:
        await store.close()

asyncio.run(main())
"""


async def _spawn(code: str, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        *args,
        cwd=REPO,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )


class Child:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def do(self, method: str, **args: Any) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write((json.dumps({"method": method, "args": args}) + "\n").encode())
        await self.process.stdin.drain()
        answer = await asyncio.wait_for(self.process.stdout.readline(), STEP_TIMEOUT_S)
        assert answer == b"ok\n", f"child failed on {method}: {answer!r}"

    async def finish(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.close()
        return await asyncio.wait_for(self.process.wait(), STEP_TIMEOUT_S)


async def test_changes_by_another_process_reach_watchers_one_by_one_in_order(local_store: LocalStore) -> None:
    session = await local_store.create_session("alice", "Shared")
    order = await local_store.create_work_order(session.id, "jangar-wo-shared")
    child = Child(await _spawn(DRIVER, str(local_store.path)))
    messages = local_store.watch_messages(session.id, 100)
    orders = local_store.watch_work_orders(session.id)
    try:
        assert await anext(messages) == []
        assert [w.status for w in await anext(orders)] == [WorkOrderStatus.DRAFT]
        count = 15
        for k in range(count):
            await child.do("append_message", sessionId=session.id, role="assistant", content=f"change {k}")
            snapshot = await asyncio.wait_for(anext(messages), STEP_TIMEOUT_S)
            assert [m.content for m in snapshot] == [f"change {j}" for j in range(k + 1)]
        for status in ("submitted", "accepted", "running", "succeeded"):
            await child.do("update_work_order_status", workOrderId=order.id, status=status)
            snapshot = await asyncio.wait_for(anext(orders), STEP_TIMEOUT_S)
            assert [w.status.value for w in snapshot] == [status]
        await child.do("update_work_order_result", workOrderId=order.id, prUrl="https://github.com/acme/app/pull/3")
        [done] = await asyncio.wait_for(anext(orders), STEP_TIMEOUT_S)
        assert done.prUrl == "https://github.com/acme/app/pull/3"
        assert await child.finish() == 0
    finally:
        await messages.aclose()  # type: ignore[attr-defined]
        await orders.aclose()  # type: ignore[attr-defined]
        if child.process.returncode is None:
            child.process.kill()
            await child.process.wait()


async def test_two_writer_processes_lose_nothing(local_store: LocalStore) -> None:
    session = await local_store.create_session("alice", "Contended")
    per_writer = 5_000
    writers = [await _spawn(APPENDER, str(local_store.path), session.id, tag, str(per_writer)) for tag in "ab"]
    try:
        for writer in writers:  # start both together, so their transactions interleave
            assert writer.stdin is not None
            writer.stdin.write(b"go\n")
            await writer.stdin.drain()
        codes = await asyncio.wait_for(asyncio.gather(*(w.wait() for w in writers)), 120)
        assert codes == [0, 0]
    finally:
        for writer in writers:
            if writer.returncode is None:
                writer.kill()
                await writer.wait()

    conn = sqlite3.connect(local_store.path)
    try:
        rows = conn.execute(
            "SELECT content, createdAt FROM chat_messages WHERE sessionId = ? ORDER BY _seq", (session.id,)
        ).fetchall()
        (last_message_at,) = conn.execute(
            "SELECT lastMessageAt FROM chat_sessions WHERE _id = ?", (session.id,)
        ).fetchone()
    finally:
        conn.close()
    assert len(rows) == 2 * per_writer
    for tag in "ab":  # each writer's messages all there, in its own order
        assert [c for c, _ in rows if c.startswith(f"{tag}-")] == [f"{tag}-{k}" for k in range(per_writer)]
    created = [t for _, t in rows]
    assert created == sorted(created), "createdAt follows commit order"
    assert last_message_at == max(created)
    stored = await local_store.get_session(session.id)
    assert stored is not None and stored.lastMessageAt == max(created)
    # Interleaved for real: neither writer ran entirely before the other.
    tags = [c[0] for c, _ in rows]
    assert tags.index("b") < len(rows) - tags[::-1].index("a") - 1


async def test_a_second_store_in_one_process_leaves_the_first_ones_file_locks(tmp_path: Path) -> None:
    """Closing any descriptor of a file drops every POSIX lock the process holds on it, SQLite's
    too. Were opening a store to open and close the database file itself, a second store in the
    process (tests, benchmarks) would leave the first one unlocked: another process closing its
    store would then think itself the last, checkpoint and delete the WAL under the first, which
    from then on reads a stale or malformed file."""
    db = tmp_path / "data" / "jangar.sqlite3"
    first = LocalStore(db)
    try:
        session = await first.create_session("alice", "Shared")
        second = LocalStore(db)
        try:
            for k in range(2):  # each child opens, writes and closes its own store; then each of ours writes
                child = Child(await _spawn(DRIVER, str(db)))
                await child.do("append_message", sessionId=session.id, role="assistant", content=f"child {k}")
                assert await child.finish() == 0
                await second.append_message(session.id, "user", f"second {k}")
                await first.append_message(session.id, "user", f"first {k}")
            for store in (first, second):
                page = await store.list_messages(session.id)  # newest first
                assert [m.content for m in reversed(page.page)] == [
                    f"{who} {k}" for k in range(2) for who in ("child", "second", "first")
                ]
        finally:
            await second.close()
    finally:
        await first.close()
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM chat_messages").fetchone()[0] == 6
    finally:
        conn.close()
