"""Shared fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from codex_fixtures import codex_bin, codex_env, codex_home, standin  # noqa: F401 - real Codex on a stand-in
from temporal_fixtures import temporal_server  # noqa: F401 - one real dev server for the whole run

from jangar_tui.store.sqlite.store import LocalStore
from tests.convex_bridge.client import ConvexBridge


@pytest.fixture
async def local_store(tmp_path: Path) -> AsyncIterator[LocalStore]:
    """A fresh embedded store on a database file under tmp_path, closed afterwards."""
    store = LocalStore(tmp_path / "data" / "jangar.sqlite3")
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture(scope="module")
def bridge() -> Iterator[ConvexBridge]:
    """The real convex/ functions under convex-test, in a Node process (one per test module)."""
    bridge = ConvexBridge()
    try:
        yield bridge
    finally:
        bridge.close()
