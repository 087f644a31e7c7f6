"""The agent's workspace: a git worktree of the target repository, made from a per-repo cache.

Each repository is fetched into one bare cache under `data_dir/repos/` (one fetch per work order,
never a full clone); each work order gets its own worktree under `data_dir/workspaces/` (agents
edit, commit and push there) on its branch: the target branch when the work order names one, else
`jangar/<short id>`. A follow-up continues in the worktree of the first work order of its chain,
one run at a time (the record beside a worktree names its last user). A retried attempt finds its
worktree and fetches. Worktrees are removed after a retention, or on demand, never while the work
order that used them last runs (`remove_workspace`, `sweep_workspaces`); their size is
`workspace_info`'s.

`git` runs without a shell, with `--` before every user-supplied value and terminal prompts
disabled, so a repository that wants credentials fails instead of hanging. Processes sharing a
data dir take the cache's lock file while they fetch or add and remove worktrees.

The repository is checked here again with the contract's rule (`validation.target_repo`: a remote
repository; a local one only with JANGAR_ALLOW_LOCAL_REPOS), whatever the store let through, and
a fetch may use no git transport but https and ssh (and file with local repositories): `ext::`
runs a command, `fd::3` waits on a descriptor until the timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from jangar_tui.aio import lock_exclusive, within
from jangar_tui.models import ErrorCode, JangarError, WorkOrder
from jangar_tui.store import validation

GIT_TIMEOUT_S = 600.0
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_RECORD_SUFFIX = ".workspace.json"


class GitError(Exception):
    """A git command failed; the message carries the end of its output."""


class WorkspaceBusy(Exception):
    """The worktree a follow-up would use is in use by a work order that has not ended."""


def repo_url(target_repo: str, allow_local: bool = False) -> str:
    """The URL (or, when `allow_local`, local path) to fetch, if the contract's rule accepts it.
    `owner/repo` means a GitHub repository, never a directory that happens to have that name."""
    return _normalized(validation.target_repo(target_repo, allow_local))


def _normalized(target_repo: str) -> str:
    # Names only (the cache and worktree paths): a recorded repository is removed whatever it was.
    if validation.GITHUB_SHORTHAND.match(target_repo):
        return f"https://github.com/{target_repo}.git"
    return target_repo


def repo_key(target_repo: str) -> str:
    """One spelling of a repository to compare by: `acme/app`, `https://github.com/acme/app.git` and
    `https://github.com/acme/app/` are the same."""
    return _normalized(target_repo.strip()).rstrip("/").removesuffix(".git").lower()


def _repo_slug(url: str) -> str:
    name = url.rstrip("/").removesuffix(".git").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return _UNSAFE.sub("-", name).strip("-.") or "repo"


def workspace_dir(data_dir: Path, target_repo: str, work_order_id: str) -> Path:
    """`data_dir/workspaces/<repo name>-<work order id>`, safe as a single path component."""
    slug = _repo_slug(_normalized(target_repo))
    return data_dir / "workspaces" / f"{slug}-{_UNSAFE.sub('-', work_order_id)}"


def cache_dir(data_dir: Path, target_repo: str) -> Path:
    """The repository's bare cache: one per URL, shared by its work orders."""
    url = _normalized(target_repo)
    return data_dir / "repos" / f"{_repo_slug(url)}-{hashlib.sha256(url.encode()).hexdigest()[:12]}.git"


def work_branch(target_branch: str | None, work_order_id: str) -> str:
    """The branch a work order works on: its target branch, else `jangar/<short id>`."""
    if target_branch:
        return target_branch
    short = _UNSAFE.sub("", work_order_id).lower()[-8:] or "work"
    return f"jangar/{short}"


async def prepare_workspace(
    data_dir: Path,
    target_repo: str,
    target_branch: str | None,
    work_order_id: str,
    allow_local: bool = False,
    *,
    workspace_of: str | None = None,
    in_use: Callable[[str], Awaitable[bool]] | None = None,
) -> Path:
    """Fetch `target_repo` into its cache and give the work order its worktree on its branch.

    A follow-up works in the worktree of the work order it continues (`workspace_of`, the first of
    its chain), made again on the branch when it was removed. The record beside the worktree names
    the work order using it last; while `in_use` says that one has not ended, another is refused
    (`WorkspaceBusy`), so two runs never share a tree.
    """
    url = repo_url(target_repo, allow_local)
    owner = workspace_of or work_order_id
    path = workspace_dir(data_dir, target_repo, owner)
    branch = work_branch(target_branch, work_order_id)
    validation.target_branch(branch)
    await _check_branch_name(branch)
    cache = cache_dir(data_dir, target_repo)
    async with _locked(cache):
        user = _recorded_user(path)
        if user is not None and user != work_order_id and in_use is not None and await in_use(user):
            raise WorkspaceBusy(
                f"The worktree of this work order is in use by work order {user}, which has not ended; "
                "follow up once it has."
            )
        await _fetch(cache, url, "https:ssh:file" if allow_local else "https:ssh")
        record = {"workOrderId": work_order_id, "workspaceOf": owner, "targetRepo": target_repo, "setupDone": False}
        if (path / ".git").exists():
            record["setupDone"] = setup_done(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():  # a half-made worktree of a crashed attempt
                await _remove_tree(path)
            await _git("worktree", "prune", cwd=cache)
            await _git("worktree", "add", "--detach", str(path), await _default_ref(cache), cwd=cache)
        _record_path(path).write_text(json.dumps(record))
    await _checkout(path, branch)
    return path


async def remove_workspace(
    data_dir: Path, target_repo: str, work_order_id: str, in_use: Callable[[str], Awaitable[bool]] | None = None
) -> bool:
    """Remove the worktree of `work_order_id` (the first of its chain; its branch stays in the
    cache); False when it had none. Refused (`WorkspaceBusy`) while `in_use` says the work order
    that used it last has not ended, checked under the cache's lock, so a follow-up that has just
    taken the worktree keeps it."""
    path = workspace_dir(data_dir, target_repo, work_order_id)
    record = _record_path(path)
    if not path.exists() and not record.exists():
        return False
    cache = cache_dir(data_dir, target_repo)
    async with _locked(cache):
        user = _recorded_user(path)
        if user is not None and in_use is not None and await in_use(user):
            raise WorkspaceBusy(f"The worktree is in use by work order {user}, which has not ended.")
        if cache.exists():
            await _git_ok("worktree", "remove", "--force", str(path), cwd=cache)
        if path.exists():
            await _remove_tree(path)
        if cache.exists():
            await _git_ok("worktree", "prune", cwd=cache)
        record.unlink(missing_ok=True)
    return True


@dataclass(frozen=True)
class WorkspaceInfo:
    """A worktree as the disk has it: whose it is, who used it last, where, and its size."""

    workspaceOf: str  # the work order whose worktree it is (the first of a follow-up chain)
    lastUsedBy: str | None
    targetRepo: str
    path: Path
    exists: bool
    bytes: int


def workspace_info(data_dir: Path, target_repo: str, workspace_of: str) -> WorkspaceInfo:
    """The worktree of `workspace_of` (blocking: it measures the tree)."""
    path = workspace_dir(data_dir, target_repo, workspace_of)
    exists = (path / ".git").exists()
    return WorkspaceInfo(
        workspaceOf=workspace_of,
        lastUsedBy=_recorded_user(path),
        targetRepo=target_repo,
        path=path,
        exists=exists,
        bytes=disk_usage(path) if exists else 0,
    )


def list_workspaces(data_dir: Path) -> list[WorkspaceInfo]:
    """Every worktree the data dir has a record of (blocking: it measures each)."""
    found: list[WorkspaceInfo] = []
    for record_path in sorted((data_dir / "workspaces").glob(f"*{_RECORD_SUFFIX}")):
        record = _record(record_path.with_name(record_path.name.removesuffix(_RECORD_SUFFIX)))
        owner, repo = record.get("workspaceOf") or record.get("workOrderId"), record.get("targetRepo")
        if isinstance(owner, str) and isinstance(repo, str):
            found.append(workspace_info(data_dir, repo, owner))
    return found


def cache_usage(data_dir: Path) -> list[tuple[Path, int]]:
    """Each repository cache and the bytes it takes (blocking)."""
    repos = data_dir / "repos"
    if not repos.is_dir():
        return []
    return [(cache, disk_usage(cache)) for cache in sorted(repos.glob("*.git")) if cache.is_dir()]


async def sweep_workspaces(
    data_dir: Path,
    retention_s: float,
    get_work_order: Callable[[str], Awaitable[WorkOrder | None]],
    now_ms: int | None = None,
) -> list[str]:
    """Remove the worktrees whose last user (see `prepare_workspace`) ended more than `retention_s`
    ago (or was deleted); never one a work order that has not ended uses. Returns the ids of those
    last users."""
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    removed: list[str] = []
    for record in sorted((data_dir / "workspaces").glob(f"*{_RECORD_SUFFIX}")):
        try:
            info = json.loads(record.read_text())
            work_order_id, target_repo = str(info["workOrderId"]), str(info["targetRepo"])
            owner = str(info.get("workspaceOf") or work_order_id)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        work_order = await get_work_order(work_order_id)
        if work_order is not None and not work_order.status.is_terminal:
            continue
        if work_order is not None and now - work_order.updatedAt < retention_s * 1000:
            continue
        try:
            if await remove_workspace(data_dir, target_repo, owner, in_use=in_use_by(get_work_order)):
                removed.append(work_order_id)
        except WorkspaceBusy:
            continue  # a follow-up took it meanwhile
    return removed


def in_use_by(get_work_order: Callable[[str], Awaitable[WorkOrder | None]]) -> Callable[[str], Awaitable[bool]]:
    """The `in_use` check of a store: the work order exists and has not ended."""

    async def running(work_order_id: str) -> bool:
        work_order = await get_work_order(work_order_id)
        return work_order is not None and not work_order.status.is_terminal

    return running


def human_bytes(count: int) -> str:
    """`19.7 MiB`: a size for a person (binary units, as du -h)."""
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def disk_usage(path: Path) -> int:
    """Bytes the tree at `path` takes on disk (symlinks not followed); 0 when it is gone."""
    total = 0
    for root, dirs, files in os.walk(path):
        for name in files + dirs:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
    return total


def setup_done(path: Path) -> bool:
    """Whether the repository's setup command ran to success in the worktree at `path`."""
    return _record(path).get("setupDone") is True


def mark_setup_done(path: Path) -> None:
    """The setup command succeeded here: a retried attempt or a follow-up does not run it again."""
    update_record(path, {"setupDone": True})


def update_record(path: Path, changes: dict[str, object]) -> None:
    """Set `changes` in the record beside the worktree at `path` (none: nothing to update)."""
    record = _record(path)
    if record:
        _record_path(path).write_text(json.dumps({**record, **changes}))


def read_record(path: Path) -> dict[str, object]:
    """The record beside the worktree at `path` (empty when it has none)."""
    return _record(path)


def _record(path: Path) -> dict[str, object]:
    try:
        data = json.loads(_record_path(path).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _recorded_user(path: Path) -> str | None:
    user = _record(path).get("workOrderId")
    return user if isinstance(user, str) else None


def _record_path(path: Path) -> Path:
    # Beside the worktree, not in it: a file inside would be committed with the agent's changes.
    return path.with_name(path.name + _RECORD_SUFFIX)


@contextlib.asynccontextmanager
async def _locked(cache: Path) -> AsyncIterator[None]:
    cache.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(cache.with_name(cache.name + ".lock"), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        await lock_exclusive(fd)
        yield
    finally:
        os.close(fd)  # releases the lock


async def _fetch(cache: Path, url: str, protocols: str) -> None:
    if not (cache / "HEAD").exists():
        tmp = cache.with_name(cache.name + ".partial")
        if tmp.exists():
            await _remove_tree(tmp)
        await _git("init", "--bare", "-q", str(tmp))
        await _git("remote", "add", "origin", url, cwd=tmp)
        tmp.rename(cache)
    await _git("fetch", "--prune", "--quiet", "origin", cwd=cache, protocols=protocols)
    if not await _git_ok("rev-parse", "--verify", "--quiet", "refs/remotes/origin/HEAD", cwd=cache):
        await _git_ok("remote", "set-head", "origin", "--auto", cwd=cache, protocols=protocols)  # asks the remote: once


async def _default_ref(cache: Path) -> str:
    for ref in ("refs/remotes/origin/HEAD", "refs/remotes/origin/main", "refs/remotes/origin/master"):
        if await _git_ok("rev-parse", "--verify", "--quiet", ref, cwd=cache):
            return ref
    raise GitError("The repository has no default branch (origin/HEAD, main or master) to start the work from.")


async def _checkout(path: Path, branch: str) -> None:
    if await _git_ok("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", cwd=path):
        await _git("checkout", branch, "--", cwd=path)
        # What was pushed since (review fixes, a follow-up elsewhere) is where the work goes on;
        # a branch that went another way stays as it is.
        if await _git_ok("rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{branch}", cwd=path):
            await _git_ok("merge", "--ff-only", "--quiet", f"origin/{branch}", cwd=path)
    elif await _git_ok("rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{branch}", cwd=path):
        await _git("checkout", "-b", branch, "--track", f"origin/{branch}", cwd=path)
    else:
        await _git("checkout", "-b", branch, cwd=path)


async def _check_branch_name(branch: str) -> None:
    if branch.startswith("-") or not await _git_ok("check-ref-format", "--branch", branch):
        raise JangarError(ErrorCode.INVALID_ARGUMENT, f"{branch!r} is not a valid git branch name.")


def _env(protocols: str | None) -> dict[str, str]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": "", "LC_ALL": "C"}
    if protocols is not None:
        env["GIT_ALLOW_PROTOCOL"] = protocols  # the only transports git may use
    return env


async def _run(
    *args: str,
    cwd: Path | None,
    merge_stderr: bool = True,
    protocols: str | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[int, str]:
    try:
        proc = await asyncio.create_subprocess_exec(
            "git",
            *args,
            cwd=cwd,
            env={**_env(protocols), **(env or {})},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT if merge_stderr else asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise GitError("git is not installed on the worker, so the target repository cannot be prepared.") from None
    try:
        out, _ = await within(proc.communicate(), GIT_TIMEOUT_S)
    except BaseException:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    return proc.returncode or 0, out.decode(errors="replace")


async def _git(
    *args: str, cwd: Path | None = None, protocols: str | None = None, env: Mapping[str, str] | None = None
) -> None:
    code, out = await _run(*args, cwd=cwd, protocols=protocols, env=env)
    if code != 0:
        tail = out.strip()[-2000:]
        raise GitError(f"git {args[0]} failed (exit {code}): {tail}")


async def _git_ok(*args: str, cwd: Path | None = None, protocols: str | None = None) -> bool:
    code, _ = await _run(*args, cwd=cwd, protocols=protocols)
    return code == 0


# Public for the steps after a run (commit, push: `delivery`), which use the same git settings.
run_git = _git
git_env = _env


async def git_output(*args: str, cwd: Path, check: bool = True, env: Mapping[str, str] | None = None) -> str:
    """git's stdout (stripped); with `check`, a failure raises GitError. `env` is added to git's."""
    code, out = await _run(*args, cwd=cwd, merge_stderr=False, env=env)
    if check and code != 0:
        raise GitError(f"git {args[0]} failed (exit {code}).")
    return out.strip() if code == 0 else ""


async def _remove_tree(path: Path) -> None:
    await asyncio.to_thread(shutil.rmtree, path, True)
