"""Jangar, measured: the bench data set in its embedded store and the environment `jangar` runs with.

Seeding goes through the store's own code for the schema (LocalStore opens the file and applies
its migrations) and its own id format, then bulk-inserts rows in one transaction, since 100,000
`append_message` calls would only time the seeding. `verify()` reads the result back through
LocalStore, so a seeding that the store would not accept fails loudly before anything is timed.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from collections.abc import Mapping
from pathlib import Path

from dataset import LONG_LAST_MARKER, LONG_TITLE, USER_ID, sessions

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from jangar_tui.store.sqlite.db import new_id
from jangar_tui.store.sqlite.store import LocalStore

DB_NAME = "jangar.sqlite3"  # Settings.db_path


def seed(data_dir: Path, now_ms: int) -> dict[str, int]:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / DB_NAME
    asyncio.run(LocalStore(path).close())  # schema and migrations, by the store itself
    conn = sqlite3.connect(path)
    count_sessions = count_messages = 0
    with conn:
        for s in sessions(now_ms):
            sid = new_id("chat_sessions")
            conn.execute(
                "INSERT INTO chat_sessions (_id, userId, title, lastMessageAt, createdAt, updatedAt)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (sid, USER_ID, s.title, s.last_ms, s.created_ms, s.last_ms),
            )
            conn.executemany(
                "INSERT INTO chat_messages (_id, sessionId, role, content, metadata, createdAt, updatedAt)"
                " VALUES (?, ?, ?, ?, NULL, ?, ?)",
                [(new_id("chat_messages"), sid, m.role, m.content, m.created_ms, m.created_ms) for m in s.messages],
            )
            count_sessions += 1
            count_messages += len(s.messages)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {"sessions": count_sessions, "messages": count_messages}


def verify(data_dir: Path) -> None:
    """The store sees what we wrote: the long session first, its newest message the marker one."""

    async def check() -> None:
        store = LocalStore(data_dir / DB_NAME)
        try:
            first = (await store.list_sessions(USER_ID, 2)).page
            assert first and first[0].title == LONG_TITLE, f"newest session is {first[0].title if first else None!r}"
            newest = (await store.list_messages(first[0].id, 1)).page[0]
            assert newest.content.startswith(LONG_LAST_MARKER), "the long session's newest message is not the marker"
        finally:
            await store.close()

    asyncio.run(check())


def environ(
    data_dir: Path, temporal_address: str, base: Mapping[str, str] | None = None, *, tree: Path | None = None
) -> dict[str, str]:
    """`jangar` on the embedded store in `data_dir`, Temporal at `temporal_address`, no worker.

    `tree`: another checkout of this repository whose `jangar_tui` runs instead (bench/compare.py).
    """
    drop = ("CONVEX_", "JANGAR_", "TEMPORAL_", "TEXTUAL")
    env = {k: v for k, v in (base or os.environ).items() if not k.startswith(drop)}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
        # `python -m`/`-c` would put the current directory first on sys.path, ahead of PYTHONPATH:
        # run from this checkout, "the other commit" would import this checkout's code.
        env["PYTHONSAFEPATH"] = "1"
    env.update(
        JANGAR_BACKEND="local",
        JANGAR_DATA_DIR=str(data_dir),
        JANGAR_USER=USER_ID,
        TEMPORAL_ADDRESS=temporal_address,
        JANGAR_EMBEDDED_WORKER="false",
        JANGAR_TASK_QUEUE="jangar-bench",
        JANGAR_AGENT_COMMAND="true",
    )
    return env


def argv(tree: Path | None = None) -> list[str]:
    """The `jangar` command; for another checkout, its entry point run by this venv's Python."""
    if tree is None:
        return [str(REPO / ".venv" / "bin" / "jangar")]
    python = str(REPO / ".venv" / "bin" / "python")
    if (tree / "jangar_tui" / "__main__.py").exists():
        return [python, "-m", "jangar_tui"]
    return [python, "-c", "import sys; from jangar_tui.cli import main; sys.exit(main())"]  # before __main__.py
