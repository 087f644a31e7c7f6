"""What the UI remembers between runs, in the data dir: the theme chosen from the palette, and
when each user last left the board (its "attention" view is what ended since).

A setting (`JANGAR_THEME`, environment or config.toml) wins over what was remembered. The file is
small JSON written atomically, each change merged into what is there; a missing or unreadable one
means nothing was remembered.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

PREFERENCES_FILE = "ui-preferences.json"


def _read(data_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((data_dir / PREFERENCES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(data_dir: Path, data: dict[str, Any]) -> None:
    """Best effort: a read-only data dir loses the change, never the app."""
    path = data_dir / PREFERENCES_FILE
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        partial.write_text(json.dumps(data), encoding="utf-8")
        os.replace(partial, path)
    except OSError:
        pass


def remembered_theme(data_dir: Path) -> str | None:
    theme = _read(data_dir).get("theme")
    return theme if isinstance(theme, str) and theme else None


def remember_theme(data_dir: Path, theme: str) -> None:
    _write(data_dir, {**_read(data_dir), "theme": theme})


def remembered_board_seen(data_dir: Path, user: str) -> int | None:
    """When `user` last left the board (epoch ms), or None."""
    seen = _read(data_dir).get("boardSeenAt")
    at = seen.get(user) if isinstance(seen, dict) else None
    return at if isinstance(at, int) and not isinstance(at, bool) and at >= 0 else None


def remember_board_seen(data_dir: Path, user: str, at_ms: int) -> None:
    data = _read(data_dir)
    seen = data.get("boardSeenAt")
    data["boardSeenAt"] = {**(seen if isinstance(seen, dict) else {}), user: at_ms}
    _write(data_dir, data)
