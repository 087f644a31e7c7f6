"""Jangar opens the pull request: real git against a bare repository, GitHub's API stood in on 127.0.0.1."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from git_support import seeded_bare_remote
from github_standin import GitHubStandIn, start_github_standin

from jangar_tui.models import EventKind
from jangar_tui.orchestration.delivery import DeliveryFailed, PullRequestSpec, deliver, github_repo, pr_body
from jangar_tui.orchestration.diff_review import diff_from_event
from jangar_tui.orchestration.event_log import EventLogWriter
from jangar_tui.store.sqlite.store import LocalStore

TOKEN = "ghp_test-token-never-shown"


def _git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def github() -> Iterator[GitHubStandIn]:
    standin = start_github_standin()
    try:
        yield standin
    finally:
        standin.close()


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare repository with one commit on main, standing in for GitHub."""
    return seeded_bare_remote(tmp_path)


@pytest.fixture
def workspace(tmp_path: Path, remote: Path) -> Path:
    path = tmp_path / "work"
    _git("clone", "-q", str(remote), str(path))
    _git("checkout", "-q", "-b", "jangar/abc123", cwd=path)
    return path


@pytest.fixture
async def log(local_store: LocalStore) -> AsyncIterator[tuple[LocalStore, str, EventLogWriter]]:
    session = await local_store.create_session("alice", "s")
    wo = await local_store.create_work_order(session.id, "jangar-wo-deliver")
    writer = EventLogWriter(local_store, wo.id)
    yield local_store, wo.id, writer
    await writer.close()


def spec(github: GitHubStandIn, token: str | None = TOKEN, issue: str | None = None) -> PullRequestSpec:
    return PullRequestSpec(
        target_repo="acme/app",
        title="Fix the greeting",
        prompt="Make the README greet the world.\n\nKeep it short.",
        github_issue_url=issue,
        author_name="Jangar Bot",
        author_email="jangar@example.com",
        api_url=github.url,
        token=token,
    )


async def test_changes_are_committed_pushed_and_the_pr_opened(
    workspace: Path, remote: Path, github: GitHubStandIn, log: tuple[LocalStore, str, EventLogWriter]
) -> None:
    store, wo_id, writer = log
    (workspace / "README.md").write_text("hello, world\n")
    issue = "https://github.com/acme/app/issues/7"
    delivery = await deliver(workspace, spec(github, issue=issue), None, writer)
    assert delivery.prUrl == "https://github.com/acme/app/pull/1" and delivery.pushed
    # The commit is on the pushed branch, by the configured author.
    assert _git("log", "-1", "--format=%an <%ae>|%s", "jangar/abc123", cwd=remote) == (
        "Jangar Bot <jangar@example.com>|Fix the greeting"
    )
    assert _git("show", "jangar/abc123:README.md", cwd=remote) == "hello, world"
    [created] = github.created
    assert (created["owner"], created["repo"], created["title"]) == ("acme", "app", "Fix the greeting")
    assert (created["head"], created["base"]) == ("jangar/abc123", "main")
    assert "> Make the README greet the world." in created["body"] and created["body"].endswith(f"Closes {issue}")
    assert github.headers[0]["Authorization"] == f"Bearer {TOKEN}"
    await writer.close()
    events = (await store.list_work_order_events(wo_id, 50)).page[::-1]
    assert [e.kind for e in events] == [EventKind.GIT, EventKind.GIT, EventKind.GIT, EventKind.PR]
    assert all(TOKEN not in e.text for e in events)
    # The change, recorded for review before the push (it outlives the worktree).
    recorded = diff_from_event(events[1].text, events[1].metadata)
    assert recorded is not None and [(f.status, f.path) for f in recorded.files] == [("M", "README.md")]
    assert "-hello\n+hello, world\n" in recorded.patch


async def test_no_changes_means_no_push_and_no_pr(
    workspace: Path, remote: Path, github: GitHubStandIn, log: tuple[LocalStore, str, EventLogWriter]
) -> None:
    delivery = await deliver(workspace, spec(github), None, log[2])
    assert (delivery.prUrl, delivery.pushed) == (None, False)
    assert "no changes" in delivery.note
    assert github.created == []
    assert "jangar/abc123" not in _git("branch", "--list", cwd=remote)


async def test_a_refused_push_fails_with_gits_reason(
    workspace: Path, remote: Path, github: GitHubStandIn, log: tuple[LocalStore, str, EventLogWriter]
) -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'branch protection: pushes need review' >&2\nexit 1\n")
    hook.chmod(0o755)
    (workspace / "new.txt").write_text("x\n")
    with pytest.raises(DeliveryFailed, match="branch protection: pushes need review"):
        await deliver(workspace, spec(github), None, log[2])
    assert github.created == []


async def test_an_existing_pr_is_found_not_opened_twice(
    workspace: Path, github: GitHubStandIn, log: tuple[LocalStore, str, EventLogWriter]
) -> None:
    github.exists["acme:jangar/abc123"] = "https://github.com/acme/app/pull/41"
    (workspace / "README.md").write_text("changed\n")
    delivery = await deliver(workspace, spec(github), None, log[2])
    assert delivery.prUrl == "https://github.com/acme/app/pull/41"
    assert github.created == []


async def test_the_agents_own_pr_is_kept(
    workspace: Path, remote: Path, github: GitHubStandIn, log: tuple[LocalStore, str, EventLogWriter]
) -> None:
    (workspace / "README.md").write_text("changed\n")
    delivery = await deliver(workspace, spec(github), "https://github.com/acme/app/pull/9", log[2])
    assert delivery.prUrl == "https://github.com/acme/app/pull/9" and delivery.pushed
    assert github.created == []
    assert _git("branch", "--list", "jangar/abc123", cwd=remote)


async def test_without_a_token_the_branch_is_pushed_and_the_note_says_how_to_open_the_pr(
    workspace: Path, remote: Path, github: GitHubStandIn, log: tuple[LocalStore, str, EventLogWriter]
) -> None:
    (workspace / "README.md").write_text("changed\n")
    delivery = await deliver(workspace, spec(github, token=None), None, log[2])
    assert delivery.prUrl is None and delivery.pushed
    assert "https://github.com/acme/app/compare/main...jangar/abc123?expand=1" in delivery.note
    assert "GITHUB_TOKEN" in delivery.note
    assert github.created == []
    assert _git("branch", "--list", "jangar/abc123", cwd=remote)


def test_github_repositories_are_recognized_and_bodies_bounded(tmp_path: Path) -> None:
    assert github_repo("acme/app") == ("acme", "app")
    assert github_repo("https://github.com/acme/app.git") == ("acme", "app")
    assert github_repo("git@github.com:acme/app.git") == ("acme", "app")
    assert github_repo("https://gitlab.com/acme/app") is None
    assert github_repo(str(tmp_path)) is None
    body = pr_body("x" * 5000, None)
    assert len(body) < 2000 and "Closes" not in body


async def test_a_follow_up_pushes_to_the_existing_pr_or_says_it_changed_nothing(
    workspace: Path, remote: Path, github: GitHubStandIn, log: tuple[LocalStore, str, EventLogWriter]
) -> None:
    existing = "https://github.com/acme/app/pull/9"
    (workspace / "README.md").write_text("first\n")
    await deliver(workspace, spec(github, token=None), None, log[2])
    # Nothing new since the branch was pushed: no push, the PR kept.
    unchanged = await deliver(workspace, spec(github), None, log[2], existing_pr_url=existing)
    assert (unchanged.prUrl, unchanged.pushed) == (existing, False) and "made no changes" in unchanged.note
    (workspace / "README.md").write_text("second\n")
    pushed = await deliver(workspace, spec(github), None, log[2], existing_pr_url=existing)
    assert (pushed.prUrl, pushed.pushed) == (existing, True)
    assert _git("show", "jangar/abc123:README.md", cwd=remote) == "second"
    assert github.created == []
