"""Shared fixtures."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from codex_fixtures import codex_bin, codex_env, codex_home, standin  # noqa: F401 - real Codex on a stand-in
from temporal_fixtures import temporal_server  # noqa: F401 - one real dev server for the whole run

from jangar_tui.store.sqlite.store import LocalStore
from tests.convex_bridge.client import ConvexBridge

# What a developer's shell may carry that Jangar, git, Codex, Temporal's CLI or Textual read. The
# suite's own (JANGAR_TEST_*, and the snapshot plugin's, set before any fixture) stay.
DEVELOPER_VARIABLES = ("JANGAR_", "CONVEX_", "TEMPORAL_", "GIT_", "TEXTUAL")
SUITE_VARIABLES = ("JANGAR_TEST_", "TEXTUAL_SNAPSHOT_")
DEVELOPER_NAMES = (
    *("CODEX_HOME", "GITHUB_TOKEN", "GH_TOKEN", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"),
    *("TMUX", "TMUX_PANE", "TERM_PROGRAM", "LC_TERMINAL", "NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES"),
)


@pytest.fixture(autouse=True, scope="session")
def no_developer_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The developer's own settings must not reach the suite, nor the processes it starts (they
    inherit this environment): no JANGAR_*/CONVEX_*/TEMPORAL_* variable, no ~/.config/jangar or
    ~/.codex, no ~/.gitconfig or /etc/gitconfig (a signing key there failed every test that
    commits), no data dir under the real home."""
    patch = pytest.MonkeyPatch()
    for name in list(os.environ):
        if name in DEVELOPER_NAMES or (name.startswith(DEVELOPER_VARIABLES) and not name.startswith(SUITE_VARIABLES)):
            patch.delenv(name)
    patch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
    patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
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
