"""The change a work order's agent made: the files and the unified diff against the base.

Read from git, in this order (the first that exists):
1. the work order's worktree, while it exists: the working tree against the merge base with the
   default branch, so what the agent has not committed yet shows too, new files included (they
   are added as intent-to-add to a copy of the index, never to the agent's own);
2. its branch in the per-repository cache, once the worktree is removed (the branch stays there,
   with the commit Jangar made): the branch against its merge base;
3. a bounded copy recorded in the event log when Jangar committed (`recorded_diff_event`), for a
   UI that does not share the worker's data dir (a worker on another machine, a cache removed).

A work order's diff is its own run's (`RunRange`): a follow-up works in the same worktree and on the
same branch as the runs before it, so the branch against the default branch holds them all. The
worker records where its run started (`START_COMMIT_KEY`, the worktree's HEAD when the agent
starts) and, once Jangar has committed, the range (`RANGE_METADATA_KEY`: from, to). Without them
(a work order run before they were recorded) the diff is the whole branch's, and says so.

git runs without a shell, with a timeout, without external diff drivers or text conversions (a
repository's config must not run a program on the operator's machine), and its output is read
up to a bound: a big diff is cut at MAX_PATCH_BYTES / MAX_PATCH_LINES and says so. Paths and
patch text are returned as git wrote them: they are data, made visible by the UI.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jangar_tui.aio import within
from jangar_tui.orchestration.workspace import GitError, cache_dir, git_env, work_branch, workspace_dir

DIFF_TIMEOUT_S = 30.0
MAX_PATCH_BYTES = 1024 * 1024
MAX_PATCH_LINES = 20_000
# The copy in the event log: one event (its text is at most 16 KiB, its metadata 4 KiB).
RECORDED_PATCH_BYTES = 15 * 1024
RECORDED_FILES_BYTES = 3 * 1024
DIFF_METADATA_KEY = "diff"
START_COMMIT_KEY = "startCommit"  # in the metadata of the run's "Running on worker" event
RANGE_METADATA_KEY = "range"  # {"from": start, "to": the commit Jangar made}, once delivered
_BASE_REFS = ("refs/remotes/origin/HEAD", "refs/remotes/origin/main", "refs/remotes/origin/master")
_DIFF_OPTIONS = ("--no-color", "--no-ext-diff", "--no-textconv", "--find-renames", "--submodule=short")
_SAFE_CONFIG = ("-c", "core.fsmonitor=false", "-c", "core.quotePath=true", "-c", "diff.external=")


class DiffSource(str, enum.Enum):
    WORKTREE = "the work order's worktree"
    BRANCH = "its branch in the repository cache"
    RECORDED = "the copy recorded when Jangar committed"


@dataclass(frozen=True)
class ChangedFile:
    status: str  # git's letter: A added, M modified, D deleted, R renamed, C copied, T type changed
    path: str
    old_path: str | None = None  # renamed or copied from
    added: int | None = None  # None for a binary file
    removed: int | None = None

    @property
    def binary(self) -> bool:
        return self.added is None


@dataclass(frozen=True)
class RunRange:
    """Where a run's own change begins and, once Jangar committed it, ends (full commit ids)."""

    since: str
    until: str | None = None


@dataclass(frozen=True)
class Diff:
    files: tuple[ChangedFile, ...]
    patch: str  # the unified diff, cut at a line end when `truncated`
    truncated: bool
    base: str  # what the change is compared with ("origin/main")
    source: DiffSource
    scope: str | None = None  # what the diff covers, when it is not plainly the run's own change

    @property
    def added(self) -> int:
        return sum(f.added or 0 for f in self.files)

    @property
    def removed(self) -> int:
        return sum(f.removed or 0 for f in self.files)

    def summary(self) -> str:
        """'3 files changed, +10 −2 against origin/main'."""
        count = len(self.files)
        return f"{count} file{'s' if count != 1 else ''} changed, +{self.added:,} −{self.removed:,} against {self.base}"


# -- reading ------------------------------------------------------------------------------------


async def work_order_diff(
    data_dir: Path,
    target_repo: str | None,
    target_branch: str | None,
    work_order_id: str,
    run: RunRange | None = None,
) -> Diff | None:
    """The work order's change from its worktree, else its branch in the cache; None when this
    data dir has neither (no repository, never started here, or everything removed). With `run`,
    only that run's change: its range once committed, else the worktree since its start (its
    uncommitted change, gone with the worktree). `work_order_id` names the worktree's owner."""
    if not target_repo:
        return None
    worktree = workspace_dir(data_dir, target_repo, work_order_id)
    cache = cache_dir(data_dir, target_repo)
    if run is not None and run.until is not None:
        # The commits are in the cache's object store, which the worktree shares.
        where = worktree if (worktree / ".git").exists() else cache
        if (where / ".git").exists() or (where / "HEAD").exists():
            source = DiffSource.WORKTREE if where == worktree else DiffSource.BRANCH
            return await _diff((run.since, run.until), where, _since_name(run.since), source, {})
        return None
    if (worktree / ".git").exists():
        return await worktree_diff(worktree, since=run.since if run is not None else None)
    if run is not None:
        return None
    branch = work_branch(target_branch, work_order_id)
    if (cache / "HEAD").exists() and await _ok("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", cwd=cache):
        return await branch_diff(cache, branch)
    return None


def _since_name(commit: str) -> str:
    return f"{commit[:7]}, where this run started"


async def head_commit(worktree: Path) -> str | None:
    """The worktree's HEAD (a full commit id), or None when it has none (no commit, not a repository)."""
    try:
        return await _output("rev-parse", "--verify", "--quiet", "HEAD", cwd=worktree) or None
    except GitError:
        return None


async def worktree_diff(worktree: Path, *, since: str | None = None) -> Diff:
    """The working tree (committed or not, new files too) against `since`, else against its merge
    base with the default branch."""
    if since is not None:
        base_name, merge_base = _since_name(since), since
    else:
        base_ref, base_name = await _base(worktree)
        merge_base = await _output("merge-base", "HEAD", base_ref, cwd=worktree)
    index = (worktree / (await _output("rev-parse", "--git-path", "index", cwd=worktree))).resolve()
    with tempfile.TemporaryDirectory(prefix="jangar-diff-") as tmp:
        # New files show as added through a copy of the index, so the agent's own is never touched.
        copy = Path(tmp) / "index"
        if index.exists():
            await asyncio.to_thread(shutil.copyfile, index, copy)
        env = {"GIT_INDEX_FILE": str(copy)}
        await _output("add", "--intent-to-add", "--", ".", cwd=worktree, env=env)
        return await _diff((merge_base,), worktree, base_name, DiffSource.WORKTREE, env)


async def branch_diff(repository: Path, branch: str) -> Diff:
    """`branch` (with every commit on it) against its merge base with the default branch."""
    base_ref, base_name = await _base(repository)
    head = f"refs/heads/{branch}"
    merge_base = await _output("merge-base", head, base_ref, cwd=repository)
    return await _diff((merge_base, head), repository, base_name, DiffSource.BRANCH, {})


async def _diff(revs: tuple[str, ...], cwd: Path, base: str, source: DiffSource, env: Mapping[str, str]) -> Diff:
    status = await _output("diff", "-z", "--name-status", *_DIFF_OPTIONS, *revs, "--", cwd=cwd, env=env, strip=False)
    numstat = await _output("diff", "-z", "--numstat", *_DIFF_OPTIONS, *revs, "--", cwd=cwd, env=env, strip=False)
    raw, cut = await _bounded("diff", *_DIFF_OPTIONS, *revs, "--", cwd=cwd, env=env)
    patch, truncated = bound_patch(raw.decode(errors="replace"), cut)
    return Diff(files=parse_files(status, numstat), patch=patch, truncated=truncated, base=base, source=source)


def bound_patch(patch: str, cut: bool, max_lines: int | None = None) -> tuple[str, bool]:
    """The patch cut to whole lines: at `max_lines` (MAX_PATCH_LINES), and at the last line end
    when the bytes were cut."""
    max_lines = MAX_PATCH_LINES if max_lines is None else max_lines
    if cut:
        end = patch.rfind("\n")
        patch = patch[: end + 1] if end >= 0 else ""
    lines = patch.splitlines(keepends=True)
    if len(lines) > max_lines:
        return "".join(lines[:max_lines]), True
    return patch, cut


def parse_files(name_status: str, numstat: str) -> tuple[ChangedFile, ...]:
    """The files of `git diff -z --name-status` with their counts from `git diff -z --numstat`."""
    counts: dict[str, tuple[int | None, int | None]] = {}
    fields = numstat.split("\0")
    i = 0
    while i < len(fields) and fields[i]:
        plus, minus, path = fields[i].split("\t", 2)
        if path == "":  # a rename or copy: the two paths follow
            path = fields[i + 2]
            i += 3
        else:
            i += 1
        binary = plus == "-"
        counts[path] = (None if binary else int(plus), None if binary else int(minus))
    files: list[ChangedFile] = []
    fields = name_status.split("\0")
    i = 0
    while i < len(fields) and fields[i]:
        letter = fields[i][0]
        if letter in "RC":
            old, path = fields[i + 1], fields[i + 2]
            i += 3
        else:
            old, path = None, fields[i + 1]
            i += 2
        files.append(ChangedFile(letter, path, old, *counts.get(path, (0, 0))))
    return tuple(files)


async def _base(cwd: Path) -> tuple[str, str]:
    """The default branch's ref and a name for it ("origin/main")."""
    for ref in _BASE_REFS:
        if await _ok("rev-parse", "--verify", "--quiet", ref, cwd=cwd):
            name = await _output("rev-parse", "--abbrev-ref", ref, cwd=cwd)
            return ref, name or ref.removeprefix("refs/remotes/")
    raise GitError("The repository has no default branch (origin/HEAD, main or master) to compare the change with.")


# -- the copy in the event log ------------------------------------------------------------------


def recorded_diff_event(diff: Diff) -> tuple[str, dict[str, Any]]:
    """An event (text, metadata) holding the change in the store's bounds: the summary, then the
    patch up to RECORDED_PATCH_BYTES; the files (status, path, counts) as far as RECORDED_FILES_BYTES."""
    head = f"The change: {diff.summary()}.\n"
    room = RECORDED_PATCH_BYTES - len(head.encode())
    data = diff.patch.encode()
    truncated = diff.truncated or len(data) > room
    patch, _ = bound_patch(data[:room].decode(errors="ignore"), len(data) > room)
    files: list[list[Any]] = []
    size = 0
    for f in diff.files:
        row = [f.status, f.path, f.old_path, f.added, f.removed]
        size += len(json.dumps(row, ensure_ascii=False).encode()) + 1
        if size > RECORDED_FILES_BYTES:
            break
        files.append(row)
    metadata = {
        DIFF_METADATA_KEY: {
            "base": diff.base,
            "files": files,
            "fileCount": len(diff.files),
            "added": diff.added,
            "removed": diff.removed,
            "truncated": truncated,
        }
    }
    return head + patch, metadata


def diff_from_event(text: str, metadata: object) -> Diff | None:
    """The Diff an event made by `recorded_diff_event` holds; None for any other event."""
    if not isinstance(metadata, dict) or not isinstance(metadata.get(DIFF_METADATA_KEY), dict):
        return None
    info = metadata[DIFF_METADATA_KEY]
    files: list[ChangedFile] = []
    for row in info.get("files") or []:
        with contextlib.suppress(TypeError, ValueError):
            status, path, old, added, removed = row
            files.append(
                ChangedFile(
                    str(status)[:1] or "M",
                    str(path),
                    None if old is None else str(old),
                    added if isinstance(added, int) else None,
                    removed if isinstance(removed, int) else None,
                )
            )
    count = info.get("fileCount")
    listed_all = not isinstance(count, int) or count <= len(files)
    return Diff(
        files=tuple(files),
        patch=text.partition("\n")[2],
        truncated=bool(info.get("truncated")) or not listed_all,
        base=str(info.get("base") or "the base"),
        source=DiffSource.RECORDED,
    )


# -- git ----------------------------------------------------------------------------------------


async def _start(args: tuple[str, ...], cwd: Path, env: Mapping[str, str]) -> asyncio.subprocess.Process:
    try:
        return await asyncio.create_subprocess_exec(
            "git",
            *_SAFE_CONFIG,
            *args,
            cwd=cwd,
            env={**git_env(None), **env},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise GitError("git is not installed, so the change cannot be shown.") from None


async def _finish(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 9)
        await proc.wait()


async def _output(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, strip: bool = True, timeout: float = DIFF_TIMEOUT_S
) -> str:
    proc = await _start(args, cwd, env or {})
    try:
        out, err = await within(proc.communicate(), timeout)
    except TimeoutError:
        raise GitError(f"git {args[0]} took longer than {timeout:g} s and was stopped.") from None
    finally:
        await _finish(proc)
    if proc.returncode != 0:
        reason = err.decode(errors="replace").strip()[-500:]
        raise GitError(f"git {args[0]} failed (exit {proc.returncode}): {reason}")
    text = out.decode(errors="replace")
    return text.strip() if strip else text


async def _ok(*args: str, cwd: Path) -> bool:
    try:
        await _output(*args, cwd=cwd)
    except GitError:
        return False
    return True


async def _bounded(
    *args: str, cwd: Path, env: Mapping[str, str], timeout: float = DIFF_TIMEOUT_S
) -> tuple[bytes, bool]:
    """git's stdout up to MAX_PATCH_BYTES (then git is stopped); True when there was more."""
    limit = MAX_PATCH_BYTES
    proc = await _start(args, cwd, env)
    assert proc.stdout is not None and proc.stderr is not None
    chunks: list[bytes] = []
    size = 0

    async def read() -> bool:
        nonlocal size
        assert proc.stdout is not None
        while chunk := await proc.stdout.read(65536):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                return True
        return False

    try:
        cut = await within(read(), timeout)
        if not cut:
            err = await within(proc.stderr.read(), timeout)
            if await within(proc.wait(), timeout) != 0:
                raise GitError(f"git {args[0]} failed (exit {proc.returncode}): {err.decode(errors='replace')[-500:]}")
    except TimeoutError:
        raise GitError(f"git {args[0]} took longer than {timeout:g} s and was stopped.") from None
    finally:
        await _finish(proc)
    return b"".join(chunks)[:limit], cut
