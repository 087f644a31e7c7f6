"""Untrusted text never drives the terminal: the real `jangar` in a pty whose every byte is kept.

Before the app starts, the store holds a hostile string of each kind (tests/e2e/hostile.py: CSI,
OSC 52, OSC 8, DCS, window title, C1, C0/DEL, Rich markup, wide/combining/bidi/zero-width, a very
long line) in every field that is shown: session titles, messages of every role (Markdown too),
a work order's title, prompt, repository, branch, issue and PR URL. A scripted agent prints them
all and fails, so they also come back as agent output, Temporal failure text and the result.
Then, through the keys, every view shows them: sidebar, transcript, work-order panel, detail,
both confirmation dialogs, notifications, help, palette and the filter.

The assertions are on the bytes the app wrote: none of the payloads' sequences (unique
parameters tell them from Textual's own), no C1, DEL, NUL, bidi or zero-width character, no OSC
52/8 at all; their visible forms (␛…) were drawn; the app is still running and quits cleanly.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile import ALL, PAYLOADS, forbidden_in, hostile

from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore
from jangar_tui.text_safety import one_line

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
]

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

from ptyapp import PtyApp

JANGAR = Path(sys.executable).parent / "jangar"
AGENT = REPO / "tests" / "agents" / "hostile_agent.py"
USER = "e2e"
COLS, ROWS = 160, 50  # wide: the work-order panel is shown next to the chat
STARTUP_S = 60.0
STEP_S = 20.0
WORKFLOW_S = 90.0
QUIT_S = 30.0
ESC_PAUSE_S = 0.5
# The key bars of the session list, the work-order panel and the detail: shown only while that
# pane (or screen) has the keys, never under a question or another screen.
LIST_KEYS = "f2 Rename"
PANEL_KEYS = "⏎ Detail"
DETAIL_KEYS = "esc Back"

KEY = {
    "enter": b"\r",
    "escape": b"\x1b",
    "tab": b"\t",
    "down": b"\x1b[B",
    "delete": b"\x1b[3~",
    "f1": b"\x1bOP",
    "ctrl+p": b"\x10",
    "ctrl+q": b"\x11",
    "ctrl+u": b"\x15",
    "ctrl+y": b"\x19",
}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _fill(db: Path) -> None:
    """A session per payload (titles), then the chat session (newest, so it opens first) with
    messages of every role and two work orders: one to launch, one with every field hostile."""
    store = LocalStore(db)
    service = JangarService(store, USER)
    try:
        for name in PAYLOADS:
            await service.new_session(hostile(name, 200))
        chat = await service.new_session("ZQchat " + PAYLOADS["markup"] + PAYLOADS["osc52"])
        await store.append_message(chat.id, "user", "ZQuser " + ALL)
        markdown = (
            f"ZQassistant **{hostile('csi')}** [link](file:///zq-mdlink) ![img](file:///zq-img)\n\n"
            f"```\n{hostile('osc8')}\n{hostile('c1')}\n```\n\n- {hostile('markup')}\n\n{ALL}"
        )
        await store.append_message(chat.id, "assistant", markdown)
        await store.append_message(chat.id, "system", "ZQsystem " + ALL)
        fields = await service.create_work_order(
            chat.id,
            title="ZQfields " + PAYLOADS["markup"] + PAYLOADS["osc8"],
            prompt="ZQprompt " + ALL,
            target_repo="acme/zq",
            target_branch="zq",
            github_issue_url="https://example.com/zq",
        )
        # (No NUL in the prompt it launches with: an argv cannot carry one; the run would fail
        # before the agent prints anything.)
        await service.create_work_order(
            chat.id,
            title="ZQlaunch " + PAYLOADS["osc52"] + PAYLOADS["markup"],
            prompt="ZQprompt " + ALL.replace("\x00", ""),
        )
    finally:
        await store.close()
    # Bytes the store's checks refuse (controls, markup and brackets in a repo, branch or URL) as
    # another client or an older version may have written them: the screen must survive those too.
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE work_orders SET targetRepo = ?, targetBranch = ?, githubIssueUrl = ?, prUrl = ? WHERE _id = ?",
            (
                "acme/zq[/]\x9b4242;4242H\u202e" + PAYLOADS["csi"] + PAYLOADS["dcs"],
                "zq[@click=app.quit]\u200b" + PAYLOADS["osc52"],
                "https://example.com/[link=file:///zq-link]/\x9d52;c;QzE=\x9c",
                "https://github.com/acme/zq/pull/1" + PAYLOADS["osc8"],
                fields.id,
            ),
        )


@pytest.fixture
def app_env(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path]]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("JANGAR_", "CONVEX_", "TEMPORAL_")) and name not in ("TMUX", "TMUX_PANE")
    }
    env.update(
        HOME=str(home),
        JANGAR_DATA_DIR=str(data_dir),
        JANGAR_USER=USER,
        JANGAR_EMBEDDED_TEMPORAL_PORT=str(free_port()),
        JANGAR_AGENT_COMMAND=f"{shlex.quote(sys.executable)} {shlex.quote(str(AGENT))}",
    )
    asyncio.run(_fill(data_dir / "jangar.sqlite3"))
    yield env, data_dir


def test_hostile_text_in_every_field_and_view_never_reaches_the_terminal(
    app_env: tuple[dict[str, str], Path],
) -> None:
    env, _ = app_env
    app = PtyApp([str(JANGAR)], env, cols=COLS, rows=ROWS)
    app.start()
    try:
        _drive(app)
        assert app.proc is not None and app.proc.poll() is None, "the app is still running"
        leaks = forbidden_in(app.raw())
        assert not leaks, f"data reached the terminal raw: {leaks}"
        app.send(KEY["ctrl+q"])
        assert app.proc.wait(QUIT_S) == 0
    finally:
        app.close()


def _step(app: PtyApp, keys: bytes, *markers: str, timeout_s: float = STEP_S) -> None:
    """Send `keys`, then wait until each marker has been drawn (after the keys were sent).

    A marker must be drawn only once the keys have done their work: a busy app repaints what was
    on screen before it reads them (a question being answered is painted again, its title too),
    and keys sent on such a marker reach the screen before the one they were meant for. So the
    markers are key bars (each screen and pane has its own) and texts new to the screen."""
    since = app.mark()
    app.send(keys)
    for marker in markers:
        app.wait_for(marker, timeout_s, since=since)
    if keys.endswith(KEY["escape"]):
        # A lone ESC is told from the start of a sequence only by a pause; keys sent right after
        # it would arrive as alt+key.
        time.sleep(ESC_PAUSE_S)


def _drive(app: PtyApp) -> None:
    # Start: every title in the sidebar (visible forms), the chat's messages in the transcript,
    # the work orders in the panel.
    app.wait_for("ZQchat", STARTUP_S)
    for name in ("csi", "osc52", "c1", "markup"):
        app.wait_for(one_line(hostile(name))[:20], STEP_S)
    for marker in ("ZQuser ZQcsi ␛[4242;4242H", "ZQsystem", "ZQassistant", "[@click=app.quit]Q[/]", "list[int]"):
        app.wait_for(marker, STEP_S)
    app.wait_for("ZQlaunch", STEP_S)
    app.wait_for("● up", STARTUP_S)  # the embedded Temporal, for the launch below

    # The work-order panel (the fourth stop of tab): launch the newest, whose agent prints every
    # payload and fails. "Launched “…”" quotes the hostile title.
    _step(app, KEY["tab"] * 3, "⏎ Detail")
    _step(app, b"l", "Launched")
    app.wait_for("✗ failed", WORKFLOW_S)
    app.wait_for("ZQstderr ZQ", STEP_S)  # the agent's output, in the chat as the run's last message
    # Its detail: fields, Temporal's state, the run log and the result (the agent's output), then
    # Temporal's event history (v).
    _step(app, KEY["enter"], "Run log", "ZQlaunch", "Result", "ZQstderr ZQ")
    _step(app, b"v", "Event history")
    _step(app, KEY["escape"], PANEL_KEYS)
    # The other work order: every field hostile; its detail, then the cancel question (declined).
    _step(app, KEY["down"] + KEY["enter"], DETAIL_KEYS, "ZQfields", "acme/zq")
    _step(app, KEY["escape"], PANEL_KEYS)
    _step(app, b"c", "Cancel “ZQfields")
    _step(app, b"n", PANEL_KEYS)

    # Back on the session list: the delete question quotes the title (declined), then a deletion
    # and its undo, whose notifications quote it too.
    _step(app, KEY["tab"], LIST_KEYS)
    _step(app, KEY["delete"], "Delete “ZQchat")
    _step(app, b"n", LIST_KEYS)
    # The chat has a draft: another session, the next one down.
    _step(app, KEY["down"] + KEY["delete"], "Delete “ZQlong")
    _step(app, KEY["ctrl+y"], "Deleted “ZQlong")
    _step(app, KEY["ctrl+u"], "Restored “ZQlong")
    # Help and the palette, drawn over the hostile screen; then the filter, typed on the list.
    _step(app, KEY["f1"], "All the keys")
    _step(app, KEY["escape"], LIST_KEYS)
    _step(app, KEY["ctrl+p"], "Search for commands")
    _step(app, KEY["escape"], LIST_KEYS)
    _step(app, b"ZQosc", "Sessions (2/")
