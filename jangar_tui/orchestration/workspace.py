"""The agent's workspace: a clone of the target repository on the target branch.

Each work order gets its own clone under `data_dir/workspaces/` (agents edit, commit and push
there, so two work orders must not share a tree). A retried attempt finds the clone and fetches
instead of cloning again. `git` runs without a shell, with `--` before every user-supplied value
and terminal prompts disabled, so a repository that wants credentials fails instead of hanging.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from pathlib import Path

from jangar_tui.models import ErrorCode, JangarError

GIT_TIMEOUT_S = 600.0
_SHORTHAND = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")  # owner/repo
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class GitError(Exception):
    """A git command failed; the message carries the end of its output."""


def repo_url(target_repo: str) -> str:
    """The URL (or local path) to clone. `owner/repo` means a GitHub repository."""
    repo = target_repo.strip()
    if not repo or repo.startswith("-") or any(c.isspace() or ord(c) < 32 for c in repo):
        raise JangarError(ErrorCode.INVALID_ARGUMENT, f"{target_repo!r} is not a repository URL or path.")
    if _SHORTHAND.match(repo) and not Path(repo).exists():
        return f"https://github.com/{repo}.git"
    return repo


def workspace_dir(data_dir: Path, target_repo: str, work_order_id: str) -> Path:
    """`data_dir/workspaces/<repo name>-<work order id>`, safe as a single path component."""
    name = repo_url(target_repo).rstrip("/").removesuffix(".git").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    slug = _UNSAFE.sub("-", name).strip("-.") or "repo"
    return data_dir / "workspaces" / f"{slug}-{_UNSAFE.sub('-', work_order_id)}"


async def prepare_workspace(data_dir: Path, target_repo: str, target_branch: str | None, work_order_id: str) -> Path:
    """Clone (or fetch) `target_repo` and check out `target_branch`, creating it when it is new."""
    url = repo_url(target_repo)
    path = workspace_dir(data_dir, target_repo, work_order_id)
    if target_branch is not None:
        await _check_branch_name(target_branch)
    if (path / ".git").is_dir():
        await _git("fetch", "--prune", "origin", cwd=path)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A half-done clone from a crashed attempt is in the way: clone into a fresh directory.
        tmp = path.with_name(path.name + ".partial")
        if tmp.exists():
            await _remove_tree(tmp)
        await _git("clone", "--", url, str(tmp))
        tmp.rename(path)
    if target_branch is not None:
        await _checkout(path, target_branch)
    return path


async def _checkout(path: Path, branch: str) -> None:
    if await _git_ok("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", cwd=path):
        await _git("checkout", branch, "--", cwd=path)
    elif await _git_ok("rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{branch}", cwd=path):
        await _git("checkout", "-b", branch, "--track", f"origin/{branch}", cwd=path)
    else:
        await _git("checkout", "-b", branch, cwd=path)


async def _check_branch_name(branch: str) -> None:
    if branch.startswith("-") or not await _git_ok("check-ref-format", "--branch", branch):
        raise JangarError(ErrorCode.INVALID_ARGUMENT, f"{branch!r} is not a valid git branch name.")


def _env() -> dict[str, str]:
    return {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": "", "LC_ALL": "C"}


async def _run(*args: str, cwd: Path | None) -> tuple[int, str]:
    try:
        proc = await asyncio.create_subprocess_exec(
            "git",
            *args,
            cwd=cwd,
            env=_env(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise GitError("git is not installed on the worker, so the target repository cannot be prepared.") from None
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), GIT_TIMEOUT_S)
    except BaseException:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    return proc.returncode or 0, out.decode(errors="replace")


async def _git(*args: str, cwd: Path | None = None) -> None:
    code, out = await _run(*args, cwd=cwd)
    if code != 0:
        tail = out.strip()[-2000:]
        raise GitError(f"git {args[0]} failed (exit {code}): {tail}")


async def _git_ok(*args: str, cwd: Path | None = None) -> bool:
    code, _ = await _run(*args, cwd=cwd)
    return code == 0


async def _remove_tree(path: Path) -> None:
    await asyncio.to_thread(shutil.rmtree, path, True)
