"""The pinned scenes of the UI: fixed data, frozen clocks, each ready for a screenshot.

Shared by the snapshot tests (`test_snapshots.py`) and `scripts/screenshots.py`, so the README's
pictures are the very screens the snapshot tests pin. Data goes through the real LocalStore, with
its clock frozen (`frozen_store_time`), and the UI's relative times use a frozen clock too.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import shutil
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, TextArea
from ui_doubles import ChattingLauncher, FlakyStore, SimulatedLauncher
from ui_support import BASE_MS, DAY, HOUR, MINUTE, FakeTime, screen_text, until

from jangar_tui.models import Role, WorkOrderStatus
from jangar_tui.orchestration.workspace import workspace_dir
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite import db as _sqlite_db
from jangar_tui.store.sqlite.store import LocalStore
from jangar_tui.ui.app import JangarApp
from jangar_tui.ui.screens.board import BoardScreen
from jangar_tui.ui.screens.help import HelpScreen
from jangar_tui.ui.screens.main import MainScreen
from jangar_tui.ui.screens.search import SearchScreen
from jangar_tui.ui.screens.work_order_detail import WorkOrderDetailScreen
from jangar_tui.ui.screens.work_order_form import WorkOrderFormScreen
from jangar_tui.ui.widgets.chat.composer import ComposerInput
from jangar_tui.ui.widgets.chat.transcript import Transcript
from jangar_tui.ui.widgets.sessions.session_list import SessionList
from jangar_tui.ui.widgets.work_orders.work_order_list import WorkOrderList

S = WorkOrderStatus
SCENES = ("main", "empty", "form", "detail", "failed", "diff", "help", "offline", "board", "waiting", "search")
NOW_MS = BASE_MS + 5 * DAY + 2 * HOUR  # what the UI's clock says in every scene
# Workers that finish on their own (watchers never do; an action waits on its open dialog).
SETTLING_GROUPS = frozenset({"send", "detail-temporal", "detail-diff", "detail-result"})
FAILED_ERROR = (
    "stream disconnected before completion: the model server closed the connection after 600 s"
    " without an answer; retry the work order, or raise stream_idle_timeout_ms"
)
SCENE_ROOT = Path("/tmp/jangar-ui-scenes")  # fixed, so the status line shows the same path each run

ASSISTANT_REPLY = """Here is a plan for **dark mode**:

1. Add a `theme` setting (light, dark, system).
2. Read colours from the design tokens, not literals.
3. Cover both themes in the visual tests.

```python
def theme(setting: str) -> str:
    return setting if setting != "system" else detect()
```

Want me to turn this into a work order?"""


@dataclass
class Scene:
    name: str
    app: JangarApp
    store: LocalStore
    data_dir: Path
    prepare: Callable[[Pilot[object]], Awaitable[None]]


@contextlib.contextmanager
def frozen_store_time(clock: FakeTime) -> Iterator[None]:
    """The store's timestamps come from `clock` (for scripts; tests use monkeypatch)."""
    original = _sqlite_db.now_ms
    _sqlite_db.now_ms = clock  # type: ignore[assignment]
    try:
        yield
    finally:
        _sqlite_db.now_ms = original  # type: ignore[assignment]


async def _seed_sessions(service: JangarService, store: LocalStore, clock: FakeTime) -> str:
    """Three sessions (5d, 2h, 3m old); the newest holds a conversation and four work orders."""
    clock.set(BASE_MS)
    await service.new_session("Release checklist for 2.4")
    clock.set(NOW_MS - 2 * HOUR)
    flaky = await service.new_session("Flaky login test on CI")
    await store.append_message(flaky.id, Role.USER, "The login test fails one run in ten.")
    clock.set(NOW_MS - 20 * MINUTE)
    session = await service.new_session("Dark mode for the dashboard")
    clock.set(NOW_MS - 15 * MINUTE)
    await store.append_message(session.id, Role.USER, "Can we add a dark mode to the dashboard?")
    clock.set(NOW_MS - 14 * MINUTE)
    await store.append_message(session.id, Role.ASSISTANT, ASSISTANT_REPLY)
    clock.set(NOW_MS - 10 * MINUTE)
    await store.append_message(session.id, Role.USER, "Yes: acme/dashboard, branch feature/dark-mode.")
    specs = [
        ("Spike: theme tokens", S.CANCELED, None),
        ("Dark mode toggle", S.SUCCEEDED, "https://github.com/acme/dashboard/pull/412"),
        ("Dark mode charts", S.RUNNING, None),
        ("Dark mode docs", S.DRAFT, None),
    ]
    for index, (title, status, pr_url) in enumerate(specs, start=1):
        clock.set(NOW_MS - (9 - index) * MINUTE)
        work_order = await store.create_work_order(
            session.id,
            f"jangar-wo-00000000-0000-4000-8000-00000000000{index}",
            title=title,
            prompt="Add a dark mode to the dashboard.",
            requestedBy="alice",
            targetRepo="acme/dashboard",
            targetBranch="feature/dark-mode",
            githubIssueUrl="https://github.com/acme/dashboard/issues/97",
        )
        path = {
            S.CANCELED: [S.CANCELED],
            S.SUCCEEDED: [S.SUBMITTED, S.ACCEPTED, S.RUNNING, S.SUCCEEDED],
            S.RUNNING: [S.SUBMITTED, S.ACCEPTED, S.RUNNING],
            S.DRAFT: [],
        }[status]
        for step in path:
            await store.update_work_order_status(work_order.id, step)
        if pr_url:
            await store.update_work_order_result(work_order.id, pr_url)
    clock.set(NOW_MS - 3 * MINUTE)
    await store.append_message(session.id, Role.SYSTEM, "Work order “Dark mode charts” is running.")
    return session.id


def _seed_worktree(data_dir: Path, work_order_id: str) -> None:
    """The running work order's worktree, as the worker leaves it mid-run: a base commit on
    origin/main and the agent's uncommitted change (modified, added, renamed, deleted, binary)."""
    tree = workspace_dir(data_dir, "acme/dashboard", work_order_id)
    tree.mkdir(parents=True)

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tree, check=True, capture_output=True)

    files = {
        "src/theme.ts": "export const themes = ['light'];\n\nexport function theme(setting: string) {\n"
        "  return setting;\n}\n",
        "docs/theme.md": "# Themes\n\nOne theme: light.\n",
        "src/legacy.css": "body { color: black; }\n",
    }
    for path, text in files.items():
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_text(text)
    git("init", "-q", "-b", "feature/dark-mode")
    git("add", ".")
    git("-c", "user.name=seed", "-c", "user.email=seed@example.com", "commit", "-qm", "base")
    git("update-ref", "refs/remotes/origin/main", "HEAD")
    (tree / "src/theme.ts").write_text(
        "export const themes = ['light', 'dark', 'system'];\n\nexport function theme(setting: string) {\n"
        "  return setting !== 'system' ? setting : detect();\n}\n"
    )
    (tree / "src/dark.css").write_text(":root[data-theme='dark'] {\n  --bg: #101418;\n  --fg: #e6e6e6;\n}\n")
    git("mv", "docs/theme.md", "docs/theming.md")
    (tree / "src/legacy.css").unlink()
    (tree / "src/moon.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))


async def _seed_waiting(store: LocalStore, clock: FakeTime, session_id: str) -> None:
    """Codex answered the last message; two more wait: one being thought about, one queued."""
    messages = (await store.list_messages(session_id, 10)).page
    answered = next(m for m in messages if m.role == Role.USER)  # the newest
    usage = {
        "turn": {"inputTokens": 1200, "outputTokens": 86, "totalTokens": 1286},
        "thread": {"inputTokens": 2300, "outputTokens": 150, "totalTokens": 2450},
        "session": {"inputTokens": 2300, "outputTokens": 150, "totalTokens": 2450},
    }
    clock.set(NOW_MS - 9 * MINUTE)
    await store.append_message(
        session_id,
        Role.ASSISTANT,
        "Noted: **acme/dashboard**, branch `feature/dark-mode`.",
        {"kind": "chatReply", "replyTo": answered.id, "status": "completed", "agent": "codex", "usage": usage},
    )
    clock.set(NOW_MS - 40_000)
    await store.append_message(session_id, Role.USER, "Also make the charts follow the theme.")
    clock.set(NOW_MS - 10_000)
    await store.append_message(session_id, Role.USER, "And update the docs.")


async def _seed_failed(store: LocalStore, clock: FakeTime, session_id: str) -> None:
    """A fifth work order, whose run failed with Codex's own error (wider than 80 columns)."""
    clock.set(NOW_MS - 2 * MINUTE)
    work_order = await store.create_work_order(
        session_id,
        "jangar-wo-00000000-0000-4000-8000-000000000005",
        title="Dark mode visual tests",
        prompt="Cover both themes in the visual tests.",
        requestedBy="alice",
        targetRepo="acme/dashboard",
        targetBranch="feature/dark-mode",
    )
    for step in (S.SUBMITTED, S.ACCEPTED, S.RUNNING):
        await store.update_work_order_status(work_order.id, step)
    await store.append_work_order_events(
        work_order.id,
        [
            {"kind": "setup", "text": "Running on worker ci-7 (attempt 1).", "metadata": {"attempt": 1}},
            {"kind": "command", "text": "npx playwright test\n2 failed, 14 passed", "metadata": {"exitCode": 1}},
            {"kind": "agent_message", "text": "Two dark-theme screenshots differ from their baselines."},
            {"kind": "error", "text": FAILED_ERROR},
        ],
    )
    clock.set(NOW_MS - MINUTE)
    await store.append_message(
        session_id,
        Role.SYSTEM,
        f"Codex's turn failed.\n\n{FAILED_ERROR}",
        {"workOrderId": work_order.id, "kind": "workOrderCompletion", "status": "failed"},
    )
    await store.update_work_order_status(work_order.id, S.FAILED)


@contextlib.contextmanager
def scenes_locked() -> Iterator[None]:
    """Hold while a scene is built and shown.

    The scenes' data directory is fixed (the status line shows its path), so two suites on one
    machine take turns with it instead of deleting each other's data.
    """
    SCENE_ROOT.mkdir(parents=True, exist_ok=True)
    with open(SCENE_ROOT / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


def build_scene(name: str, clock: FakeTime) -> Scene:
    """Fresh data for `name` (the store's clock must be frozen to `clock` meanwhile)."""
    data_dir = SCENE_ROOT / name
    shutil.rmtree(data_dir, ignore_errors=True)
    db_path = data_dir / "jangar.sqlite3"
    store: LocalStore = FlakyStore(db_path) if name == "offline" else LocalStore(db_path)
    # Temporal as a double (fixed run ids and event times); "down" in the offline scene.
    # "waiting": an agent answers the chat, and two messages wait for their replies.
    launcher = ChattingLauncher(store) if name == "waiting" else SimulatedLauncher(store, up=name != "offline")
    service = JangarService(store, "alice", launcher, data_dir=data_dir)
    if name != "empty":
        session_id = asyncio.run(_seed_sessions(service, store, clock))
        if name == "waiting":
            asyncio.run(_seed_waiting(store, clock, session_id))
        if name == "failed":
            asyncio.run(_seed_failed(store, clock, session_id))
    if name == "diff":
        running = asyncio.run(store.list_work_orders_by_status(S.RUNNING)).page[0]
        _seed_worktree(data_dir, running.id)
    if isinstance(store, FlakyStore):
        store.offline = True
    app = JangarApp(service, clock=lambda: NOW_MS)

    def main_screen_ready() -> bool:
        screen = app.screen
        lists = screen.query(SessionList)  # empty until the screen has composed
        if not isinstance(screen, MainScreen) or not lists or not lists.first().loaded:
            return False
        shown = {"waiting": 7, "failed": 5}.get(name, 4)
        return name == "empty" or len(screen.query_one(Transcript).messages) == shown

    async def prepare(pilot: Pilot[object]) -> None:
        try:
            await navigate(pilot)
        except BaseException:
            app.exit()  # a failed wait must fail the test, not leave the headless app running
            raise

    async def navigate(pilot: Pilot[object]) -> None:
        await until(pilot, main_screen_ready, f"{name}: the main screen with its data")
        await until(pilot, lambda: "Temporal" in screen_text(pilot), "the status line")
        if name in ("main", "offline", "form", "detail", "failed", "help", "board", "waiting"):
            orders = 5 if name == "failed" else 4
            await until(pilot, lambda: len(app.screen.query_one(WorkOrderList).work_orders) == orders, "work orders")
        if name == "form":
            app.screen.query_one(Transcript).focus()
            await pilot.press("up", "up", "up", "w")  # the assistant's plan becomes the prompt
            await until(pilot, lambda: isinstance(app.screen, WorkOrderFormScreen), "the form")
        elif name == "detail":
            if not app.screen.query_one("#work-orders").display:
                await pilot.press("ctrl+t")  # folded away on a small terminal
            app.screen.query_one(WorkOrderList).focus()
            await pilot.press("down", "enter")  # the running one
            await until(pilot, lambda: isinstance(app.screen, WorkOrderDetailScreen), "the detail")
            await until(pilot, lambda: "ActivityTaskScheduled" in screen_text(pilot), "the history")
        elif name == "failed":
            if not app.screen.query_one("#work-orders").display:
                await pilot.press("ctrl+t")
            app.screen.query_one(WorkOrderList).focus()
            await pilot.press("home", "enter")  # the newest: the failed one
            await until(pilot, lambda: isinstance(app.screen, WorkOrderDetailScreen), "the detail")
            await until(pilot, lambda: "✗ Failed:" in screen_text(pilot), "the reason")
            await until(pilot, lambda: "stream_idle_timeout_ms" in screen_text(pilot), "the run log's error")
        elif name == "diff":
            if not app.screen.query_one("#work-orders").display:
                await pilot.press("ctrl+t")
            app.screen.query_one(WorkOrderList).focus()
            await pilot.press("down", "enter")  # the running one, whose worktree has a change
            await until(pilot, lambda: isinstance(app.screen, WorkOrderDetailScreen), "the detail")
            await pilot.press("d")
            await until(pilot, lambda: "files changed" in screen_text(pilot), "the diff")
        elif name == "help":
            await pilot.press("f1")
            await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        elif name == "offline":
            composer = app.screen.query_one(ComposerInput)
            composer.focus()
            composer.insert("Ship the toggle first, charts later.")
            await pilot.press("enter")
            await until(pilot, lambda: "Not sent" in screen_text(pilot), "the send error")
        elif name == "main":
            app.screen.query_one(Transcript).focus()
        elif name == "waiting":
            app.screen.query_one(ComposerInput).focus()
            await until(pilot, lambda: "queued" in screen_text(pilot), "the queued message")
        elif name == "board":
            await pilot.press("ctrl+g")
            await until(pilot, lambda: isinstance(app.screen, BoardScreen), "the board")
            await pilot.press("4")  # done: a canceled one and one with its PR
            await until(pilot, lambda: "#412" in screen_text(pilot), "the done view")
        elif name == "search":
            await pilot.press("ctrl+f")
            await until(pilot, lambda: isinstance(app.screen, SearchScreen), "the search")
            await pilot.press(*"dashb")
            await until(pilot, lambda: "Messages 2" in screen_text(pilot), "the hits")
        # (An empty list would mean "all workers" to wait_for_complete.)
        if settling := [w for w in app.workers if w.group in SETTLING_GROUPS]:
            await app.workers.wait_for_complete(settling)
        # A text field's cursor blinks every 0.5 s, and on a busy machine the capture comes that
        # long after the last key: the scenes show it steadily, as it is drawn right after a key.
        # TextArea caches its lines under one key for "no blink" and "blinking, in the hidden
        # phase": a line drawn in that phase would come back without its cursor unless dropped.
        for field in (*app.screen.query(TextArea), *app.screen.query(Input)):
            field.cursor_blink = False
            field.notify_style_update()
        await pilot.pause()

    return Scene(name, app, store, data_dir, prepare)
