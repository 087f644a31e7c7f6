"""Shared fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jangar_tui.store.local import LocalStore
from temporal_fixtures import temporal_server  # noqa: F401 - one real dev server for the whole run


@pytest.fixture
async def local_store(tmp_path: Path) -> AsyncIterator[LocalStore]:
    """A fresh embedded store on a database file under tmp_path, closed afterwards."""
    store = LocalStore(tmp_path / "data" / "jangar.sqlite3")
    try:
        yield store
    finally:
        await store.close()
