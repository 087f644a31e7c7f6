"""open_store picks the backend the settings ask for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from jangar_tui.config import load_settings
from jangar_tui.store.factory import open_store
from jangar_tui.store.sqlite.store import LocalStore


async def test_local_backend_opens_the_embedded_store_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings({"JANGAR_DATA_DIR": str(tmp_path)})
    store = open_store(settings)
    try:
        assert isinstance(store, LocalStore)
        assert store.description == f"embedded ({tmp_path / 'jangar.sqlite3'})"
        session = await store.create_session("alice", "Factory")
        assert (await store.get_session(session.id)) == session
    finally:
        await store.close()


def test_the_convex_adapter_is_imported_only_when_asked_for() -> None:
    code = (
        "import sys\n"
        "from jangar_tui.store.factory import open_store\n"
        "print('jangar_tui.store.convex' in sys.modules, 'convex' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
