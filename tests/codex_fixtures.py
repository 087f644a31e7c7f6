"""pytest fixtures for tests that run the real Codex CLI against the stand-in model server.

Every codex run in the suite gets its own CODEX_HOME (`codex_home`), whose config points codex at
the stand-in on 127.0.0.1 and turns off everything that would reach further (analytics, plugins,
retries). The binary is the one `npm ci` installs from package-lock.json.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from codex_standin import CODEX_BIN, StandIn, start_standin, write_codex_home


@pytest.fixture
def codex_bin() -> Path:
    if not os.access(CODEX_BIN, os.X_OK):
        pytest.fail(f"the Codex binary is missing ({CODEX_BIN}); run make setup (npm ci installs @openai/codex)")
    return CODEX_BIN


@pytest.fixture
def standin() -> Iterator[StandIn]:
    server = start_standin()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def codex_home(tmp_path: Path, standin: StandIn) -> Path:
    return write_codex_home(tmp_path / "codex-home", standin.base_url)


@pytest.fixture
def codex_env(codex_home: Path) -> dict[str, str]:
    """This process's environment with CODEX_HOME set to the test's own."""
    return {**os.environ, "CODEX_HOME": str(codex_home)}
