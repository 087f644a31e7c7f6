"""elia-chat, the comparison: its own venv, the bench data in its own SQLite schema, timed runs.

elia-chat 1.10.0 (a Textual chat TUI over SQLite via SQLModel) is installed by this script into
`bench/.elia-venv` (gitignored), never into the project venv. Its data and config directories
come from XDG_DATA_HOME / XDG_CONFIG_HOME, which we point at a temp dir, so no developer's elia
config or history is read or touched.

Schema: elia creates its own tables (`create_database()`, run in its venv); we then bulk-insert
the bench data set into `chat` and `message` exactly as elia itself would store it
(`elia_chat/database/models.py`: naive DateTime strings, `meta` JSON, the model's lookup key).
"""

from __future__ import annotations

import datetime
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from dataset import sessions

ELIA_VERSION = "1.10.0"
BENCH_DIR = Path(__file__).resolve().parent
VENV = BENCH_DIR / ".elia-venv"
_STAMP = VENV / f".installed-elia-chat-{ELIA_VERSION}"
MODEL = "elia-gpt-4o"  # a built-in model id, so elia resolves it without any config


def ensure_installed(log: Callable[[str], None] = print) -> Path:
    """Install elia-chat into its own venv once; returns the `elia` executable."""
    elia = VENV / "bin" / "elia"
    if _STAMP.exists() and elia.exists():
        return elia
    log(f"installing elia-chat=={ELIA_VERSION} into {VENV} (once) ...")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    subprocess.run(
        [
            str(VENV / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"elia-chat=={ELIA_VERSION}",
        ],
        check=True,
    )
    _STAMP.touch()
    return elia


def environ(root: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment elia runs with: XDG dirs under `root`, nothing from the developer's."""
    env = {k: v for k, v in (base or os.environ).items() if not k.startswith(("XDG_", "TEXTUAL", "ELIA_"))}
    env["XDG_DATA_HOME"] = str(root / "data")
    env["XDG_CONFIG_HOME"] = str(root / "config")
    # No model key anywhere: elia must never reach a provider during the bench.
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        env.pop(key, None)
    return env


def db_path(root: Path) -> Path:
    return root / "data" / "elia" / "elia.sqlite"


def _dt(ms: int) -> str:
    # SQLAlchemy's SQLite DateTime storage format; elia stores naive datetimes.
    return (
        datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    )


def seed(root: Path, now_ms: int) -> dict[str, int]:
    """Create elia's schema with elia's own code, then insert the bench data set."""
    env = environ(root)
    subprocess.run(
        [
            str(VENV / "bin" / "python"),
            "-c",
            (
                "import asyncio, elia_chat.database.models; "
                "from elia_chat.database.database import create_database; "
                "asyncio.run(create_database())"
            ),
        ],
        env=env,
        check=True,
    )
    (root / "config" / "elia").mkdir(parents=True, exist_ok=True)
    (root / "config" / "elia" / "config.toml").write_text("")
    conn = sqlite3.connect(db_path(root))
    chats = messages = 0
    meta = json.dumps({})
    with conn:
        for chat_id, s in enumerate(sessions(now_ms), start=1):
            conn.execute(
                "INSERT INTO chat (id, model, title, started_at, archived) VALUES (?, ?, ?, ?, 0)",
                (chat_id, MODEL, s.title, _dt(s.created_ms)),
            )
            conn.executemany(
                "INSERT INTO message (chat_id, role, content, timestamp, meta, parent_id, model)"
                " VALUES (?, ?, ?, ?, ?, NULL, ?)",
                [(chat_id, m.role, m.content, _dt(m.created_ms), meta, MODEL) for m in s.messages],
            )
            chats += 1
            messages += len(s.messages)
    conn.close()
    return {"sessions": chats, "messages": messages}


def argv() -> list[str]:
    return [str(VENV / "bin" / "elia")]


# How to drive elia (elia_chat/screens/home_screen.py, widgets/chat_list.py): it starts with the
# focus in the home prompt; "down" on an empty prompt moves the focus to the chat list, which
# highlights its first row (the newest chat, our long one); "enter" opens it.
FOCUS_LIST_KEYS = "\x1b[B"  # down
OPEN_KEYS = "\r"  # enter
