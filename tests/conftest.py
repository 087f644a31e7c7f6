"""Shared fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from codex_fixtures import codex_bin, codex_env, codex_home, standin  # noqa: F401 - real Codex on a stand-in
from temporal_fixtures import temporal_server  # noqa: F401 - one real dev server for the whole run

from jangar_tui.store.sqlite.store import LocalStore
from tests.convex_bridge.client import ConvexBridge


@pytest.fixture(autouse=True, scope="session")
def no_user_config_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The developer's own ~/.config/jangar/config.toml must not reach the suite, nor the jangar
    processes it starts (they inherit XDG_CONFIG_HOME even where JANGAR_* is stripped)."""
    patch = pytest.MonkeyPatch()
    patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
    yield
    patch.undo()


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
