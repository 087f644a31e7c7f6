"""Real git for the tests that push work orders: a bare repository standing in for GitHub."""

from __future__ import annotations

import subprocess
from pathlib import Path


def seeded_bare_remote(tmp_path: Path) -> Path:
    """A bare repository at `tmp_path/remote.git` with one commit on main (README.md = "hello")."""
    seed = tmp_path / "seed"
    seed.mkdir()

    def git(*args: str, cwd: Path | None = seed) -> None:
        subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    (seed / "README.md").write_text("hello\n")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "seed")
    bare = tmp_path / "remote.git"
    git("clone", "-q", "--bare", str(seed), str(bare), cwd=None)
    return bare
