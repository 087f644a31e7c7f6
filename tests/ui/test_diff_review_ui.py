"""Diff review in the work-order detail: a real work order in the embedded store, its worktree made
from a real bare repository, the change shown file by file, hostile content kept as text."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from git_support import seeded_bare_remote
from textual.pilot import Pilot
from ui_support import screen_text, until, words

from jangar_tui.models import EventKind, WorkOrder, WorkOrderEvent
from jangar_tui.orchestration.diff_review import ChangedFile, Diff, DiffSource, recorded_diff_event
from jangar_tui.orchestration.workspace import prepare_workspace, remove_workspace, workspace_dir
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore
from jangar_tui.ui.app import JangarApp
from jangar_tui.ui.screens.work_order_detail import WorkOrderDetailScreen, diff_title
from jangar_tui.ui.widgets.work_orders.diff_view import DiffView
from jangar_tui.ui.widgets.work_orders.event_log import event_lines
from jangar_tui.ui.widgets.work_orders.work_order_list import WorkOrderList

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from hostile import PAYLOADS, forbidden_in

REPO = "acme/app"
HOSTILE_NAME = "evil\x1b[31m[bold]name.txt"


@pytest.fixture
def remote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """git reaches "GitHub" at a local bare repository: nothing leaves the machine."""
    bare = seeded_bare_remote(tmp_path)
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", f"url.{bare}.insteadOf")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", f"https://github.com/{REPO}.git")
    return bare


async def _work_order_with_changes(service: JangarService, data: Path) -> tuple[WorkOrder, Path]:
    session = await service.new_session("Review")
    wo = await service.create_work_order(session.id, title="Greet", prompt="p", target_repo=REPO)
    worktree = await prepare_workspace(data, REPO, None, wo.id, allow_local=True)
    (worktree / "README.md").write_text("hello\nworld\n")
    for i in range(3):
        (worktree / f"notes-{i}.txt").write_text("".join(f"note {i}.{n}\n" for n in range(12)))
    (worktree / "blob.bin").write_bytes(bytes(range(256)) * 8)
    # No NUL: git takes a file with one for binary and shows no text of it.
    hostile = "\n".join(f"ZQ{name} {text}".replace("\x00", "") for name, text in PAYLOADS.items() if name != "long")
    (worktree / HOSTILE_NAME).write_text(hostile + "\n")
    return wo, worktree


async def _open_diff(pilot: Pilot[object], app: JangarApp) -> DiffView:
    await until(pilot, lambda: len(app.screen.query_one(WorkOrderList).work_orders) == 1, "listed")
    app.screen.query_one(WorkOrderList).focus()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, WorkOrderDetailScreen), "the detail screen")
    await pilot.press("d")
    view = app.screen.query_one(DiffView)
    await until(pilot, lambda: view.diff is not None, "the diff", polls=3000)
    await until(pilot, lambda: "files changed, +" in screen_text(pilot), "the diff on screen")
    return view


def terminal_bytes(pilot: Pilot[object]) -> bytes:
    """What the app would write to the terminal to draw the whole screen now."""
    update = pilot.app.screen._compositor.render_update(full=True)
    return update.render_segments(pilot.app.console).encode()


async def test_the_change_shows_file_by_file_at_80x24(store: LocalStore, tmp_path: Path, remote: Path) -> None:
    data = tmp_path / "data"
    service = JangarService(store, "alice", data_dir=data)
    wo, worktree = await _work_order_with_changes(service, data)
    app = JangarApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await _open_diff(pilot, app)
        assert view.diff is not None and view.diff.source == DiffSource.WORKTREE
        text = screen_text(pilot)
        assert f"6 files changed, +{view.diff.added} −0 against origin/main" in text
        assert " M           +1 −0  README.md" in text and "binary  blob.bin" in text
        assert "from the work order's worktree" in text
        assert "Requested by" not in text  # the fields give the diff the screen
        # n / ] and p / [ go from file to file (from the list above to the first file, then on).
        headers = [line for line in view.diff.patch.splitlines() if line.startswith("diff --git")]
        for header in headers[:4]:
            await pilot.press("n")
            await pilot.pause()
            assert screen_text(pilot).splitlines()[2].strip().startswith(header[:60].strip()), header
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert screen_text(pilot).splitlines()[2].strip().startswith(headers[2][:60].strip())
        # New changes show when the diff is opened again; d goes back to where it was.
        (worktree / "late.txt").write_text("late\n")
        await pilot.press("d")
        await until(pilot, lambda: not view.display, "the diff closed")
        await pilot.press("d")
        await until(pilot, lambda: "7 files changed" in screen_text(pilot), "the newer change")
        # Removed worktree: the branch in the cache still has what was committed.
    await remove_workspace(data, REPO, wo.id)


async def test_hostile_content_and_names_are_shown_never_obeyed(
    store: LocalStore, tmp_path: Path, remote: Path
) -> None:
    data = tmp_path / "data"
    service = JangarService(store, "alice", data_dir=data)
    await _work_order_with_changes(service, data)
    app = JangarApp(service)
    async with app.run_test(size=(160, 60)) as pilot:
        view = await _open_diff(pilot, app)
        assert view.diff is not None
        assert "evil␛[31m[bold]name.txt" in screen_text(pilot)  # the list: the path as it is, made visible
        # To the hostile file's diff (git's order: README.md, blob.bin, then it).
        for _ in range(3):
            await pilot.press("n")
        await pilot.pause()
        text = screen_text(pilot)
        assert '"b/evil\\033[31m[bold]name.txt"' in text  # the patch header, as git quotes it
        assert "+ZQcsi ␛[4242;4242H" in text and "+ZQmarkup [/] [link=file:///zq-link]L[/link]" in text
        assert "+ZQosc52 ␛]52;c;WlFPU0M1Mg==␇" in text
        raw = terminal_bytes(pilot)
        assert b"ZQcsi" in raw and forbidden_in(raw) == {}
        assert app.is_running


async def test_a_removed_worktree_falls_back_to_the_branch_then_to_the_recorded_copy(
    store: LocalStore, tmp_path: Path, remote: Path
) -> None:
    data = tmp_path / "data"
    service = JangarService(store, "alice", data_dir=data)
    wo, worktree = await _work_order_with_changes(service, data)
    diff = await service.work_order_diff(wo)
    assert diff is not None and diff.source == DiffSource.WORKTREE
    # As delivery does: the change is committed and recorded in the event log, then the worktree goes.
    text, metadata = recorded_diff_event(diff)
    await store.append_work_order_events(wo.id, [{"kind": "git", "text": text, "metadata": metadata}])
    for args in (("add", "-A"), ("-c", "user.name=j", "-c", "user.email=j@e.com", "commit", "-qm", "work")):
        await asyncio.to_thread(subprocess.run, ["git", *args], cwd=worktree, check=True, capture_output=True)
    await remove_workspace(data, REPO, wo.id)
    from_branch = await service.work_order_diff(wo)
    assert from_branch is not None and from_branch.source == DiffSource.BRANCH
    assert from_branch.files == diff.files
    # Another machine (no worktree, no cache): the copy in the run log.
    elsewhere = JangarService(store, "alice", data_dir=tmp_path / "elsewhere")
    recorded = await elsewhere.work_order_diff(wo)
    assert recorded is not None and recorded.source == DiffSource.RECORDED
    assert recorded.files == diff.files and recorded.patch == diff.patch
    await store.update_work_order_status(wo.id, "canceled")
    app = JangarApp(elsewhere)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_diff(pilot, app)
        assert "from the copy recorded when Jangar committed" in screen_text(pilot)


async def _detail_diff_note(pilot: Pilot[object], app: JangarApp, wo: WorkOrder, note: str) -> None:
    listed = app.screen.query_one(WorkOrderList)
    await until(pilot, lambda: any(w.id == wo.id for w in listed.work_orders), "listed")
    listed.focus()
    listed.choose(wo.id)
    await until(pilot, lambda: listed.chosen is not None and listed.chosen.id == wo.id, "chosen")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, WorkOrderDetailScreen), "the detail screen")
    await pilot.press("d")
    await until(pilot, lambda: note in screen_text(pilot), note)


async def test_no_repository_no_diff_and_a_git_failure_is_said(store: LocalStore, tmp_path: Path) -> None:
    data = tmp_path / "data"
    service = JangarService(store, "alice", data_dir=data)
    session = await service.new_session("Review")
    no_repo = await service.create_work_order(session.id, title="No repo", prompt="p")
    app = JangarApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await _detail_diff_note(pilot, app, no_repo, "names no repository")
    # A worktree git cannot read (no recorded copy to fall back on): git's reason, as text.
    broken = await service.create_work_order(session.id, title="Broken", prompt="p", target_repo=REPO)
    path = workspace_dir(data, REPO, broken.id)
    path.mkdir(parents=True)
    (path / ".git").write_text("gitdir: /nonexistent/\x1b[31m\n")
    app = JangarApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await _detail_diff_note(pilot, app, broken, "✗ git could not show the change")
        assert "Diff · ✗ the change could not be read" in screen_text(pilot)


def test_the_recorded_change_takes_one_line_in_the_run_log() -> None:
    diff = Diff(
        (ChangedFile("M", "a.txt", None, 1, 1),),
        "diff --git a/a.txt b/a.txt\n-x\n+y\n",
        False,
        "origin/main",
        DiffSource.WORKTREE,
    )
    text, metadata = recorded_diff_event(diff)
    event = WorkOrderEvent(
        id="e1", workOrderId="w", seq=1, kind=EventKind.GIT, text=text, metadata=metadata, createdAt=0, updatedAt=0
    )
    assert [line for line, _ in event_lines(event, "d")] == [
        "⎇ The change: 1 file changed, +1 −1 against origin/main.  (d shows the diff)"
    ]


def test_the_diff_title_counts_one_file_as_one() -> None:
    one = Diff((ChangedFile("A", "CHANGELOG.md", None, 1, 0),), "", False, "origin/main", DiffSource.WORKTREE)
    two = Diff((*one.files, ChangedFile("M", "a.txt", None, 1, 1)), "", False, "origin/main", DiffSource.WORKTREE)
    assert diff_title(one) == f"Diff · 1 file · from {DiffSource.WORKTREE.value}"
    assert diff_title(two) == f"Diff · 2 files · from {DiffSource.WORKTREE.value}"


async def test_a_note_instead_of_a_diff_wraps_at_80_columns(store: LocalStore, tmp_path: Path) -> None:
    """A draft's "no change yet" sentence is read whole at 80x24 (it was one line, cut at the
    border), and wraps again to a wider terminal."""
    service = JangarService(store, "alice", data_dir=tmp_path / "data")
    session = await service.new_session("Notes")
    draft = await service.create_work_order(session.id, title="Draft", prompt="p", target_repo=REPO)
    app = JangarApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await _detail_diff_note(pilot, app, draft, "No change yet")
        words = lambda: " ".join(screen_text(pilot).split())
        await until(pilot, lambda: "(it is made when the run starts)." in words(), "the whole note")
        await pilot.resize_terminal(160, 24)
        await until(
            pilot, lambda: "does not exist yet (it is made when the run starts)." in screen_text(pilot), "one line"
        )


def _git(worktree: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=worktree, check=True, capture_output=True, text=True)
    return done.stdout.strip()


async def _run_in(store: LocalStore, worktree: Path, wo: WorkOrder, path: str, text: str, *, record: bool) -> None:
    """A run as the worker records it (with `record`; a worker from before records neither): where
    it started, then its commit and range as the delivery logs them."""
    start = _git(worktree, "rev-parse", "HEAD")
    if record:
        meta = {"worker": "w", "attempt": 1, "startCommit": start}
        await store.append_work_order_events(wo.id, [{"kind": "setup", "text": "Running", "metadata": meta}])
    (worktree / path).write_text(text)
    _git(worktree, "add", "-A")
    _git(worktree, "-c", "user.name=j", "-c", "user.email=j@e.com", "commit", "-qm", path)
    if record:
        span = {"range": {"from": start, "to": _git(worktree, "rev-parse", "HEAD")}}
        await store.append_work_order_events(wo.id, [{"kind": "git", "text": "Committed", "metadata": span}])
    for status in ("submitted", "accepted", "running", "succeeded"):
        await store.update_work_order_status(wo.id, status)


async def test_each_work_order_of_a_chain_shows_its_own_runs_change(
    store: LocalStore, tmp_path: Path, remote: Path
) -> None:
    """A follow-up works in the first work order's worktree and branch: the first one's diff (the
    branch against main) showed the follow-up's change as its own, and nothing said so."""
    data = tmp_path / "data"
    service = JangarService(store, "alice", data_dir=data)
    session = await service.new_session("Chain")
    first = await service.create_work_order(session.id, title="First", prompt="p", target_repo=REPO)
    worktree = await prepare_workspace(data, REPO, None, first.id, allow_local=True)
    await _run_in(store, worktree, first, "first.txt", "one\n", record=True)
    follow = await service.follow_up_work_order(first.id, "and a second file", launch=False)
    await _run_in(store, worktree, follow, "second.txt", "two\n", record=True)

    mine = await service.work_order_diff(first)
    theirs = await service.work_order_diff(follow)
    assert mine is not None and [f.path for f in mine.files] == ["first.txt"] and mine.scope is None
    assert theirs is not None and [f.path for f in theirs.files] == ["second.txt"] and theirs.scope is None
    assert "where this run started" in mine.summary()
    # The worktree removed: the same ranges, read from the repository cache.
    await remove_workspace(data, REPO, first.id)
    assert [f.path for f in (await service.work_order_diff(first) or mine).files] == ["first.txt"]
    assert (await service.work_order_diff(first) or theirs).source == DiffSource.BRANCH


async def test_an_old_work_orders_diff_says_it_is_the_whole_branch(
    store: LocalStore, tmp_path: Path, remote: Path
) -> None:
    """Run before the worker recorded its range: the diff is the branch's, and it says so whole at 80x24."""
    data = tmp_path / "data"
    service = JangarService(store, "alice", data_dir=data)
    session = await service.new_session("Old")
    old = await service.create_work_order(session.id, title="Old", prompt="p", target_repo=REPO)
    worktree = await prepare_workspace(data, REPO, None, old.id, allow_local=True)
    (worktree / "extra.txt").write_text("x\n")
    await _run_in(store, worktree, old, "old.txt", "old\n", record=False)
    diff = await service.work_order_diff(old)
    assert diff is not None and diff.scope is not None and diff.scope.startswith("The whole branch against origin/")
    app = JangarApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_diff(pilot, app)
        await until(pilot, lambda: "any follow-up" in words(screen_text(pilot)), "what the diff covers")
        assert "so the changes of any follow-up on the same branch show here too." in words(screen_text(pilot))
        assert all(len(row) <= 80 for row in screen_text(pilot).splitlines())
