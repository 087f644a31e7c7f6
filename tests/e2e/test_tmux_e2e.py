"""End to end: the installed `jangar` in a real terminal (tmux), as an operator uses it.

A fresh data dir, the embedded Temporal dev server on a free port, the in-process worker, the real
Codex CLI answering the chat from a stand-in model server on 127.0.0.1 (its own CODEX_HOME), and a
scripted agent that prints a PR URL. Through the keys only: start a session, send a message, see
Codex's reply stream in, turn the message into a work order with the form, launch it, watch the
panel reach `succeeded` with the PR URL, quit. Then: the program exited cleanly, nothing it started is still running, and the work order
is stored as succeeded with its PR URL.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from codex_standin import StandIn, start_standin, write_codex_home
from tmux import TmuxDriver

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (the e2e test runs jangar in it)"),
]

REPO = Path(__file__).resolve().parents[2]
JANGAR = Path(sys.executable).parent / "jangar"  # the console script installed in this venv
PR_AGENT = REPO / "tests" / "agents" / "pr_agent.py"
PR_URL = "https://github.com/acme/widgets/pull/42"  # what pr_agent.py prints
MESSAGE = "Add a health endpoint to the API"
REPLY = "Hello from the stand-in."  # what the stand-in model server answers by default
DEVELOPER_CONFIG = ("JANGAR_", "CONVEX_", "TEMPORAL_")

STARTUP_S = 60.0  # the first start of the embedded dev server creates its database
UI_STEP_S = 15.0
WORKFLOW_S = 60.0
QUIT_S = 20.0  # the runtime stops the worker, then the dev server (SIGTERM, 5 s grace)
LEFTOVERS_S = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(data_dir: Path, home: Path, port: int, codex_home: Path | None = None) -> dict[str, str]:
    """The caller's environment without any developer configuration, plus this run's settings.

    Codex answers chat messages: its CODEX_HOME keeps it on 127.0.0.1, on a stand-in model server
    (`codex_home`) or, by default, on a closed port (the chat then says Codex could not answer)."""
    if codex_home is None:
        codex_home = write_codex_home(home / "codex-home", "http://127.0.0.1:9/v1")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(DEVELOPER_CONFIG) and name not in ("TMUX", "TMUX_PANE", "COLUMNS", "LINES")
    }
    env.update(
        HOME=str(home),
        TERM="xterm-256color",
        JANGAR_DATA_DIR=str(data_dir),
        JANGAR_EMBEDDED_TEMPORAL_PORT=str(port),
        JANGAR_AGENT_COMMAND=f"{shlex.quote(sys.executable)} {shlex.quote(str(PR_AGENT))}",
        CODEX_HOME=str(codex_home),  # the chat's codex talks to the stand-in only
    )
    return env


class ProcessWatch:
    """Every descendant the app had while it ran (sampled on each poll), to check they all end."""

    def __init__(self, root_pid: int) -> None:
        self.root = psutil.Process(root_pid)
        self.seen: dict[int, psutil.Process] = {}
        self.cmdlines: dict[int, str] = {}

    def poll(self) -> None:
        try:
            children = self.root.children(recursive=True)
        except psutil.NoSuchProcess:
            return
        for child in children:
            self.seen.setdefault(child.pid, child)
            # Read again on every poll: a child caught between fork and exec still shows the
            # parent's command line (jangar's own), and only a later look sees what it became.
            try:
                self.cmdlines[child.pid] = " ".join(child.cmdline())
            except psutil.Error:
                self.cmdlines.setdefault(child.pid, "?")

    def alive(self) -> list[psutil.Process]:
        """The app and its descendants still running (psutil checks identity, not just the pid)."""
        return [p for p in [self.root, *self.seen.values()] if running(p)]

    def describe(self, processes: list[psutil.Process]) -> str:
        return "; ".join(f"{p.pid}: {self.cmdlines.get(p.pid, 'jangar')}" for p in processes)


def running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def processes_with_env(name: str, value: str, exclude: set[int]) -> list[psutil.Process]:
    """Live processes whose environment has name=value: whatever this run started, wherever it went."""
    found = []
    for process in psutil.process_iter():
        if process.pid in exclude:
            continue
        try:
            if process.environ().get(name) == value and running(process):
                found.append(process)
        except psutil.Error:
            continue
    return found


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s:g} s: {what}")
        time.sleep(0.1)


def footer(screen: str) -> str:
    """The key bar: the last line of the screen."""
    return screen.rstrip("\n").splitlines()[-1].strip()


def panel(screen: str) -> str:
    """The work-order panel: the right-hand column of the main screen (after its left border)."""
    body = screen.splitlines()[1:-1]  # below the status line, above the footer
    return "\n".join(line.rpartition("▏")[2] for line in body if "▏" in line)


def kill_tree(watch: ProcessWatch) -> None:
    """After a failure: leave nothing running (the assertions have already spoken)."""
    for process in watch.alive():
        try:
            process.kill()
        except psutil.Error:
            pass


@pytest.fixture
def tmux_env(tmp_path: Path) -> Iterator[tuple[TmuxDriver, Path, int]]:
    home = tmp_path / "home"
    home.mkdir()
    data_dir = tmp_path / "data"
    port = free_port()
    standin: StandIn = start_standin()
    codex_home = write_codex_home(tmp_path / "codex-home", standin.base_url)
    driver = TmuxDriver(clean_env(data_dir, home, port, codex_home), width=120, height=40)
    try:
        yield driver, data_dir, port
    finally:
        driver.kill_server()
        standin.close()


def test_session_to_succeeded_work_order_then_clean_quit(tmux_env: tuple[TmuxDriver, Path, int]) -> None:
    tmux, data_dir, port = tmux_env
    assert JANGAR.is_file(), f"the jangar console script is not installed at {JANGAR} (pip install -e .)"
    tmux.start([str(JANGAR)])
    watch = ProcessWatch(tmux.pane_pid())
    try:
        assert watch.root.cmdline()[-1] == str(JANGAR)  # tmux ran the program itself, no shell between
        env = watch.root.environ()
        assert env["TERM"] == "xterm-256color" and env["JANGAR_DATA_DIR"] == str(data_dir)
        assert not [name for name in env if name.startswith(DEVELOPER_CONFIG) and not name.startswith("JANGAR_")]
        _drive(tmux, watch, port)
        _quit_and_check_nothing_left(tmux, watch, data_dir)
    finally:
        kill_tree(watch)
    _check_stored(data_dir / "jangar.sqlite3")


@pytest.mark.parametrize("quit_first", [True, False], ids=["hung-up-while-quitting", "hung-up"])
def test_a_terminal_that_hangs_up_leaves_nothing_running(
    tmux_env: tuple[TmuxDriver, Path, int], quit_first: bool
) -> None:
    """An ssh connection that drops, also in the seconds ctrl+q spends stopping Temporal.

    The kernel sends SIGHUP and then SIGCONT to a hung-up terminal's processes; Textual's driver
    answers SIGCONT by restarting its input thread, which on a dead terminal spun forever and kept
    jangar alive once its UI had stopped.
    """
    tmux, data_dir, port = tmux_env
    tmux.start([str(JANGAR)])
    watch = ProcessWatch(tmux.pane_pid())
    try:
        tmux.wait_for_text(f"embedded port {port} ● up", timeout_s=STARTUP_S, on_poll=watch.poll)
        watch.poll()
        assert any("start-dev" in cmd for cmd in watch.cmdlines.values()), watch.cmdlines
        if quit_first:
            tmux.send_keys("C-q")
            time.sleep(0.2)  # the UI is gone, Temporal is still being stopped
        tmux.kill_server()  # the terminal hangs up
        try:
            wait_until(lambda: not watch.alive(), "jangar and everything it started end", QUIT_S + LEFTOVERS_S)
        except AssertionError as error:
            raise AssertionError(f"{error}; still running: {watch.describe(watch.alive())}") from None
        strays = processes_with_env("JANGAR_DATA_DIR", str(data_dir), exclude={os.getpid()})
        assert not strays, f"left behind: {[(p.pid, p.name()) for p in strays]}"
    finally:
        kill_tree(watch)


def _drive(tmux: TmuxDriver, watch: ProcessWatch, port: int) -> None:
    poll = watch.poll
    tmux.wait_for_text(f"Temporal embedded port {port} ● up", "Sessions (0)", timeout_s=STARTUP_S, on_poll=poll)

    # A new session: the message input takes the focus (its keys show in the footer).
    tmux.send_keys("C-n")
    tmux.wait_for_text("Sessions (1)", "New session", "⏎ Send", timeout_s=UI_STEP_S, on_poll=poll)
    tmux.type_text(MESSAGE)
    tmux.wait_for_text(MESSAGE, timeout_s=UI_STEP_S, on_poll=poll)
    tmux.send_keys("Enter")
    # Sent and stored: the transcript shows it as the user's, the first message names the session.
    tmux.wait_until(
        lambda s: "▌you" in s and s.count(MESSAGE) >= 2 and "No work orders yet." in s,
        "the message in the transcript and as the session's title",
        timeout_s=UI_STEP_S,
        on_poll=poll,
    )
    # Codex answers (the worker runs the turn on the real codex binary, the stand-in replies).
    tmux.wait_until(
        lambda s: "◆ assistant" in s and REPLY in s and "writing…" not in s,
        "Codex's reply in the transcript",
        timeout_s=WORKFLOW_S,
        on_poll=poll,
    )

    # Leave the input for the transcript (the footer now offers the transcript's keys), select the
    # message (↑) and open the work-order form from it with the key the footer shows (w).
    tmux.send_keys("Escape")
    tmux.wait_until(
        lambda s: footer(s).startswith("↑↓ Select  w Work order  y Copy"),
        "the transcript focused, its keys in the footer",
        timeout_s=UI_STEP_S,
        on_poll=poll,
    )
    tmux.send_keys("Up")  # the reply
    tmux.wait_for_text("┃ ◆ assistant", timeout_s=UI_STEP_S, on_poll=poll)
    tmux.send_keys("Up")  # the message
    tmux.wait_for_text("┃ ▌you", timeout_s=UI_STEP_S, on_poll=poll)
    tmux.send_keys("w")
    # The form's own keys replace the main screen's in the footer.
    screen = tmux.wait_until(
        lambda s: (
            "New work order from the selected message" in s
            and "Save and launch ^l" in s
            and footer(s) == "^o Save draft  ^l Save and launch  esc Cancel"
        ),
        "the work-order form with its keys in the footer",
        timeout_s=UI_STEP_S,
        on_poll=poll,
    )
    assert screen.count(MESSAGE) >= 3, f"the form is not prefilled with the message:\n{screen}"

    # Save and launch; the panel follows the status to succeeded, with the agent's PR URL.
    tmux.send_keys("C-l")
    screen = tmux.wait_until(
        lambda s: "✓ succeeded" in panel(s) and shows_pr_url(panel(s)),
        f"the work order to reach succeeded with its PR URL ({PR_URL}) in the work-order panel",
        timeout_s=WORKFLOW_S,
        on_poll=poll,
    )
    assert "Work orders (1)" in screen, screen
    assert any("start-dev" in cmd and str(port) in cmd for cmd in watch.cmdlines.values()), (
        f"no embedded Temporal dev server among the app's processes: {watch.cmdlines}"
    )

    # The detail (enter on the work order): the full PR URL and the workflow as Temporal has it.
    tmux.send_keys("Enter")
    screen = tmux.wait_until(
        lambda s: f"Work order · {MESSAGE}" in s and PR_URL in s and "COMPLETED" in s,
        "the detail screen with the PR URL and the completed workflow",
        timeout_s=UI_STEP_S,
        on_poll=poll,
    )
    assert "✓ succeeded" in screen, screen
    tmux.send_keys("Escape")
    tmux.wait_for_text("Work orders (1)", "✓ succeeded", timeout_s=UI_STEP_S, on_poll=poll)


def shows_pr_url(panel_text: str) -> bool:
    """The panel's PR line shows the whole URL: on one line, or folded under itself over several
    (the panel is 44 columns), never cut."""
    lines = [line.strip() for line in panel_text.splitlines()]
    for index, line in enumerate(lines):
        if line.startswith("PR "):
            shown = line.removeprefix("PR ")
            for rest in lines[index + 1 :]:
                if shown == PR_URL or not PR_URL.startswith(shown) or not rest:
                    break
                shown += rest
            return shown == PR_URL
    return False


def _quit_and_check_nothing_left(tmux: TmuxDriver, watch: ProcessWatch, data_dir: Path) -> None:
    watch.poll()
    marked = {p.pid for p in processes_with_env("JANGAR_DATA_DIR", str(data_dir), exclude=set())}
    assert watch.root.pid in marked, "the environment scan below would not see this run's processes"
    tmux.send_keys("C-q")
    wait_until(lambda: not running(watch.root), "jangar exits after ctrl+q", QUIT_S)
    wait_until(tmux.pane_dead, "the tmux pane sees its program gone", 5.0)
    wait_until(lambda: tmux.pane_exit_status() is not None, "tmux reports the exit status", 5.0)
    after_exit = tmux.screen()  # what jangar printed once the terminal was restored
    assert tmux.pane_exit_status() == 0, f"jangar exited with {tmux.pane_exit_status()}:\n{after_exit}"
    assert "Traceback" not in after_exit and "jangar:" not in after_exit, after_exit

    try:
        wait_until(lambda: not watch.alive(), "every process jangar started has ended", LEFTOVERS_S)
    except AssertionError as error:
        raise AssertionError(f"{error}; still running: {watch.describe(watch.alive())}") from None
    # Also anything that escaped the tree (re-parented): it carries this run's data dir in its env.
    strays = processes_with_env("JANGAR_DATA_DIR", str(data_dir), exclude={tmux.server_pid(), os.getpid()})
    assert not strays, f"left behind: {[(p.pid, p.name()) for p in strays]}"


def _check_stored(db_path: Path) -> None:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        orders = conn.execute("SELECT status, prUrl, title, prompt FROM work_orders WHERE deletedAt IS NULL").fetchall()
        messages = conn.execute("SELECT role, content FROM chat_messages WHERE deletedAt IS NULL").fetchall()
        sessions = conn.execute("SELECT title FROM chat_sessions WHERE deletedAt IS NULL").fetchall()
    finally:
        conn.close()
    assert orders == [("succeeded", PR_URL, MESSAGE, MESSAGE)]
    assert ("user", MESSAGE) in messages
    assert ("assistant", REPLY) in messages  # Codex's chat reply, settled
    # The worker put the agent's answer in the chat.
    assert any(role == "assistant" and PR_URL in content for role, content in messages), messages
    assert sessions == [(MESSAGE,)]
