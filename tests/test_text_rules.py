"""The contract's text rules (jangar_tui/store/validation.py, twin of convex/lib/text.ts) held to
what they stand for: branch names to git's own check-ref-format. tests/contract/text.json,
urls.json and targets.json run the shared cases on every backend.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from jangar_tui.models import JangarError
from jangar_tui.store import validation

BRANCHES = [
    "main", "feature/x-1", "jangar/wo_1.2", "release@2", "a.b/c.d", "x.locked", "fix-ü",
    "a..b", "x.lock", "feat/x.lock", "x.lock/y", "@{-1}", "a@{b", "feat/", "/feat", "feat//x", ".hidden",
    "feat/.x", "a~1", "a^", "a:b", "a?", "a*", "a[b", "a\\b", "@", "end.", "a\x07b", "a\x7fb", "HEAD",
    "refs/heads/x", "-", "--", "a/-b", "a-", "a/b.", "a.", "@x", "x@", "{", "}", "a{b}",
]  # fmt: skip


def _git_accepts(branch: str, outside_any_repository: Path) -> bool:
    # Outside a repository: inside one, `--branch` expands "@{-1}" to the branch checked out before.
    result = subprocess.run(
        ["git", "check-ref-format", "--branch", branch],
        check=False,
        capture_output=True,
        cwd=outside_any_repository,
        env={**os.environ, "GIT_CEILING_DIRECTORIES": str(outside_any_repository.parent)},
    )
    return result.returncode == 0


def _we_accept(branch: str) -> bool:
    try:
        validation.target_branch(branch)
    except JangarError:
        return False
    return True


@pytest.mark.parametrize("branch", BRANCHES)
def test_branch_names_follow_git(branch: str, tmp_path: Path) -> None:
    # Beyond git: no leading "-" (it reads as an option), and "HEAD" is not a branch to make. "@"
    # is no ref name either (check-ref-format rule 9); `--branch` only accepts it as shorthand for
    # the current branch, which it expands.
    expected = _git_accepts(branch, tmp_path) and not branch.startswith("-") and branch not in ("HEAD", "@")
    assert _we_accept(branch) == expected


def test_trimming_is_the_contract_s_not_python_s() -> None:
    assert validation.trim("\ufeff\x85 Hi \u3000") == "Hi"  # str.strip() keeps the BOM
    assert validation.trim("\x1cHi\x1f") == "\x1cHi\x1f"  # str.strip() removes these
    assert validation.is_blank("\ufeff\u2028") and not validation.is_blank("\x1c")
