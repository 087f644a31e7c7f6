"""What the UI remembers between runs (the theme chosen from the palette), in the data dir.

A setting (`JANGAR_THEME`, environment or config.toml) wins over what was remembered. The file is
small JSON written atomically; a missing or unreadable one means nothing was remembered.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

PREFERENCES_FILE = "ui-preferences.json"


def remembered_theme(data_dir: Path) -> str | None:
    try:
        data = json.loads((data_dir / PREFERENCES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    theme = data.get("theme") if isinstance(data, dict) else None
    return theme if isinstance(theme, str) and theme else None


def remember_theme(data_dir: Path, theme: str) -> None:
    """Best effort: a read-only data dir loses the choice, never the app."""
    path = data_dir / PREFERENCES_FILE
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        partial.write_text(json.dumps({"theme": theme}), encoding="utf-8")
        os.replace(partial, path)
    except OSError:
        pass
