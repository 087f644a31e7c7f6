"""After a successful run: commit what the agent changed, push the branch, open the pull request.

Jangar, not the agent, opens the PR, through the GitHub REST API (`POST /repos/{owner}/{repo}/pulls`,
base URL settable for GitHub Enterprise). The outcomes an operator sees:
- changes → a commit (author from the settings), the branch pushed, the PR opened, its URL kept;
- the agent already opened a PR → that one is kept, no second is opened;
- no token, or a remote that is not on GitHub → the branch is pushed and the note says how to
  open the PR;
- no changes → nothing is pushed, and the note says so;
- the PR exists already (422) → the existing PR's URL;
- a refused push → `DeliveryFailed` with git's own reason;
- a follow-up → pushed to the branch of the PR the run it continues has, which it keeps (no
  second PR); no new changes → nothing pushed.
Every step is also an event in the work order's log (`git`, `pr`). The token is sent in a header
only and never written to the log, a message or an exception.
"""

from __future__ import annotations

import asyncio
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jangar_tui.models import EventKind
from jangar_tui.orchestration.diff_review import RANGE_METADATA_KEY, recorded_diff_event, worktree_diff
from jangar_tui.orchestration.event_log import EventLogWriter
from jangar_tui.orchestration.workspace import GitError, git_output, run_git

API_TIMEOUT_S = 30.0
PROMPT_SUMMARY_CHARS = 1500
_GITHUB_REPO = re.compile(
    r"^(?:https://github\.com/|git@github\.com:|ssh://git@github\.com/)?"
    r"(?P<owner>[A-Za-z0-9_.-]+)/(?P<repo>[A-Za-z0-9_.-]+?)(?:\.git)?/?$"
)
_ISSUE = re.compile(r"^https://github\.com/[^/]+/[^/]+/issues/\d+$")


class DeliveryFailed(Exception):
    """A step that must not be skipped failed (the push): the run fails with this reason."""


@dataclass(frozen=True)
class Delivery:
    """What delivering a run gave: the PR's URL (when there is one) and a note for the operator."""

    prUrl: str | None
    note: str
    pushed: bool


@dataclass(frozen=True)
class PullRequestSpec:
    target_repo: str
    title: str
    prompt: str | None
    github_issue_url: str | None
    author_name: str
    author_email: str
    api_url: str
    token: str | None


def github_repo(target_repo: str) -> tuple[str, str] | None:
    """(owner, repo) when `target_repo` is a GitHub repository (URL or `owner/repo`), else None."""
    if Path(target_repo).exists():
        return None
    match = _GITHUB_REPO.match(target_repo.strip())
    return (match["owner"], match["repo"]) if match else None


def pr_body(prompt: str | None, github_issue_url: str | None) -> str:
    """The PR's body: what the agent was asked (summarized), and `Closes <issue>` when there is one."""
    parts = ["Opened by Jangar for a work order run by a Codex background worker."]
    if prompt:
        summary = prompt.strip()
        if len(summary) > PROMPT_SUMMARY_CHARS:
            summary = summary[: PROMPT_SUMMARY_CHARS - 1].rstrip() + "…"
        parts.append("## Prompt\n\n" + "\n".join(f"> {line}" if line else ">" for line in summary.splitlines()))
    if github_issue_url:
        parts.append(f"Closes {github_issue_url}")
    return "\n\n".join(parts)


async def deliver(
    workspace: Path,
    spec: PullRequestSpec,
    agent_pr_url: str | None,
    log: EventLogWriter,
    *,
    existing_pr_url: str | None = None,
    start_commit: str | None = None,
) -> Delivery:
    """`existing_pr_url`: a follow-up's, the PR of the run it continues; its branch is pushed to it.
    `start_commit`: the worktree's HEAD when the agent started; with it, the change recorded in
    the log is this run's own (from it to the commit made here), and says so (`RANGE_METADATA_KEY`)."""
    branch = await git_output("branch", "--show-current", cwd=workspace)
    if not branch:
        raise DeliveryFailed("The workspace is not on a branch, so there is nothing to push.")
    base = await default_branch(workspace)
    committed = await _has_uncommitted(workspace)
    if committed:
        await run_git("add", "-A", cwd=workspace)
        await run_git(
            "-c",
            f"user.name={spec.author_name}",
            "-c",
            f"user.email={spec.author_email}",
            "commit",
            "-q",
            "-m",
            spec.title,
            cwd=workspace,
        )
        sha = await git_output("rev-parse", "--short", "HEAD", cwd=workspace)
        log.add(EventKind.GIT, f"Committed the agent's changes as {sha}.", {"commit": sha})
    run: dict[str, Any] = {}
    if start_commit:
        run[RANGE_METADATA_KEY] = {"from": start_commit, "to": await git_output("rev-parse", "HEAD", cwd=workspace)}
    ahead = int(await git_output("rev-list", "--count", f"origin/{base}..HEAD", cwd=workspace) or "0")
    if existing_pr_url and not committed and await _remote_branch_is_head(workspace, branch):
        note = f"The follow-up made no changes: nothing was pushed, and {existing_pr_url} stays as it was."
        log.add(EventKind.GIT, note, run or None)
        return Delivery(prUrl=existing_pr_url, note=note, pushed=False)
    if ahead == 0 and not await _remote_branch_differs(workspace, branch):
        note = "The agent made no changes: nothing was committed or pushed, and no pull request was opened."
        log.add(EventKind.GIT, note, run or None)
        return Delivery(prUrl=agent_pr_url, note=note, pushed=False)
    await _record_diff(workspace, log, start_commit, run)
    try:
        await run_git("push", "--porcelain", "origin", f"HEAD:refs/heads/{branch}", cwd=workspace)
    except GitError as exc:
        reason = f"Pushing {branch} was refused: {exc}"
        log.add(EventKind.ERROR, reason)
        raise DeliveryFailed(reason) from None
    log.add(EventKind.GIT, f"Pushed {branch} ({ahead} commit{'s' if ahead != 1 else ''} ahead of {base}).")
    if existing_pr_url:
        note = f"Pushed to {branch}: {existing_pr_url} has the new commits (no second pull request)."
        log.add(EventKind.PR, note, {"url": existing_pr_url})
        return Delivery(prUrl=existing_pr_url, note=note, pushed=True)
    if agent_pr_url:
        note = f"The agent opened {agent_pr_url}; Jangar kept it and opened no other."
        log.add(EventKind.PR, note, {"url": agent_pr_url})
        return Delivery(prUrl=agent_pr_url, note=note, pushed=True)
    repo = github_repo(spec.target_repo)
    if repo is None or not spec.token:
        note = _how_to_open(repo, branch, base, token_missing=not spec.token)
        log.add(EventKind.PR, note)
        return Delivery(prUrl=None, note=note, pushed=True)
    url = await open_pull_request(spec, repo, branch, base, log)
    return Delivery(prUrl=url, note=f"Opened {url}.", pushed=True)


async def open_pull_request(
    spec: PullRequestSpec, repo: tuple[str, str], branch: str, base: str, log: EventLogWriter
) -> str:
    owner, name = repo
    assert spec.token is not None
    payload = {"title": spec.title, "head": branch, "base": base, "body": pr_body(spec.prompt, spec.github_issue_url)}
    status, answer = await _api(spec, "POST", f"/repos/{owner}/{name}/pulls", payload)
    if status == 201 and isinstance(answer.get("html_url"), str):
        log.add(EventKind.PR, f"Opened {answer['html_url']}", {"url": answer["html_url"]})
        return str(answer["html_url"])
    if status == 422:
        # Most often: a PR for this branch exists already. Find it rather than open a second.
        query = urllib.parse.urlencode({"head": f"{owner}:{branch}", "state": "open"})
        found_status, found = await _api(spec, "GET", f"/repos/{owner}/{name}/pulls?{query}", None)
        if found_status == 200 and isinstance(found, list) and found and isinstance(found[0].get("html_url"), str):
            log.add(
                EventKind.PR, f"A pull request was open already: {found[0]['html_url']}", {"url": found[0]["html_url"]}
            )
            return str(found[0]["html_url"])
    message = answer.get("message") if isinstance(answer, dict) else None
    reason = f"GitHub answered {status} to opening the pull request" + (f": {message}" if message else ".")
    log.add(EventKind.ERROR, reason)
    raise DeliveryFailed(f"{reason} The branch {branch} was pushed; open the PR by hand.")


async def default_branch(workspace: Path) -> str:
    """The branch the PR targets: the remote's default (origin/HEAD), else main or master."""
    head = await git_output(
        "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD", cwd=workspace, check=False
    )
    if head.startswith("origin/"):
        return head.removeprefix("origin/")
    for candidate in ("main", "master"):
        if await git_output(
            "rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{candidate}", cwd=workspace, check=False
        ):
            return candidate
    raise DeliveryFailed("The remote has no default branch (origin/HEAD, main or master) to open the PR against.")


async def _record_diff(workspace: Path, log: EventLogWriter, start_commit: str | None, run: dict[str, Any]) -> None:
    """The change, bounded, in the event log (this run's own since `start_commit`, else the
    branch's): the detail's diff review once the worktree is gone and wherever the UI does not
    share the worker's data dir; `run` (its range) is added to its metadata. Never fails the delivery."""
    try:
        diff = await worktree_diff(workspace, since=start_commit)
    except GitError as exc:
        log.add(EventKind.GIT, f"The change could not be recorded for review: {exc}", run or None)
        return
    text, metadata = recorded_diff_event(diff)
    log.add(EventKind.GIT, text, {**metadata, **run})


async def _has_uncommitted(workspace: Path) -> bool:
    return bool(await git_output("status", "--porcelain", cwd=workspace))


async def _remote_branch_differs(workspace: Path, branch: str) -> bool:
    """Commits the agent made itself, on a branch that already exists upstream, also count."""
    remote = await git_output(
        "rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{branch}", cwd=workspace, check=False
    )
    head = await git_output("rev-parse", "HEAD", cwd=workspace)
    return bool(remote) and remote != head


async def _remote_branch_is_head(workspace: Path, branch: str) -> bool:
    remote = await git_output(
        "rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{branch}", cwd=workspace, check=False
    )
    return bool(remote) and remote == await git_output("rev-parse", "HEAD", cwd=workspace)


def _how_to_open(repo: tuple[str, str] | None, branch: str, base: str, *, token_missing: bool) -> str:
    why = "No GITHUB_TOKEN or GH_TOKEN is set" if token_missing else "The remote is not a GitHub repository"
    if repo is not None:
        owner, name = repo
        return (
            f"{why}, so Jangar pushed {branch} without opening the pull request. Open it at "
            f"https://github.com/{owner}/{name}/compare/{base}...{branch}?expand=1"
        )
    return f"{why}, so Jangar pushed {branch} without opening a pull request; open one from {branch} into {base}."


async def _api(spec: PullRequestSpec, method: str, path: str, payload: dict[str, Any] | None) -> tuple[int, Any]:
    url = spec.api_url.rstrip("/") + path
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/vnd.github+json")
    request.add_header("X-GitHub-Api-Version", "2022-11-28")
    request.add_header("Authorization", f"Bearer {spec.token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")

    def call() -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(request, timeout=API_TIMEOUT_S) as response:
                return response.status, _json(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, _json(exc.read())
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryFailed(f"GitHub's API at {spec.api_url} could not be reached ({exc}).") from None

    return await asyncio.to_thread(call)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        return {}
