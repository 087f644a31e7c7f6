"""A small driver for one program running in a private tmux server: keys in, screen text out.

Each driver owns its own server (`tmux -L <socket>`, no user config), so it never touches the
developer's tmux, and `kill_server()` ends everything it started. The pane stays after the program
exits (`remain-on-exit`), so its exit status can still be read. Every wait polls the screen until
a deadline and, on timeout, fails with the last screen in the message.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

POLL_S = 0.1
TMUX_TIMEOUT_S = 10.0


class TmuxTimeout(AssertionError):
    """A wait reached its deadline; the message ends with the last screen."""


class TmuxDriver:
    def __init__(
        self, env: Mapping[str, str], *, width: int = 120, height: int = 40, term: str = "xterm-256color"
    ) -> None:
        self.socket = f"jangar-e2e-{uuid.uuid4().hex[:12]}"
        self.target = "e2e"
        self.env = dict(env)
        self.width, self.height, self.term = width, height, term
        self.socket_path: Path | None = None

    # -- tmux itself ----------------------------------------------------------------------------------
    def tmux(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=TMUX_TIMEOUT_S,
            check=False,  # a failure is raised below with tmux's own message
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def start(self, argv: Sequence[str]) -> None:
        """Start `argv` (no shell) in a fresh server whose environment is exactly `env`."""
        self.tmux(
            "start-server", ";",
            "set-option", "-g", "remain-on-exit", "on", ";",
            "set-option", "-g", "default-terminal", self.term, ";",
            "new-session", "-d", "-s", self.target, "-x", str(self.width), "-y", str(self.height), "--", *argv,
        )  # fmt: skip
        self.socket_path = Path(self._pane("#{socket_path}"))

    def kill_server(self) -> None:
        """End the server and all it runs; its socket file goes too (tmux leaves it behind)."""
        self.tmux("kill-server", check=False)
        if self.socket_path is not None:
            self.socket_path.unlink(missing_ok=True)

    def server_pid(self) -> int:
        return int(self.tmux("display-message", "-p", "-t", self.target, "#{pid}").strip())

    def _pane(self, fmt: str) -> str:
        return self.tmux("display-message", "-p", "-t", self.target, fmt).rstrip("\n")

    def pane_pid(self) -> int:
        return int(self._pane("#{pane_pid}"))

    def pane_dead(self) -> bool:
        return self._pane("#{pane_dead}") == "1"

    def pane_exit_status(self) -> int | None:
        """The program's exit status once tmux has reaped it, else None.

        tmux 3.3 sometimes misses the SIGCHLD of a pane's program (it stays a zombie with an empty
        `pane_dead_status`) until another child of the server exits; a `run-shell true` is such a
        child, and its SIGCHLD makes the server reap every exited child.
        """
        status = self._pane("#{pane_dead_status}")
        if not status and self.pane_dead():
            self.tmux("run-shell", "true")
            status = self._pane("#{pane_dead_status}")
        return int(status) if status else None

    # -- keys and screen ------------------------------------------------------------------------------
    def send_keys(self, *keys: str) -> None:
        """tmux key names: "C-n", "Enter", "Escape", "Up", "Tab"."""
        self.tmux("send-keys", "-t", self.target, *keys)

    def type_text(self, text: str) -> None:
        """Literal text, as typed (no key-name lookup)."""
        self.tmux("send-keys", "-t", self.target, "-l", text)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.target)

    # -- waiting --------------------------------------------------------------------------------------
    def wait_until(
        self,
        ready: Callable[[str], bool],
        what: str,
        *,
        timeout_s: float = 15.0,
        on_poll: Callable[[], None] | None = None,
    ) -> str:
        """Poll the screen until `ready(screen)`; returns that screen or fails showing the last one."""
        deadline = time.monotonic() + timeout_s
        while True:
            if on_poll is not None:
                on_poll()
            screen = self.screen()
            if ready(screen):
                return screen
            if time.monotonic() > deadline:
                raise TmuxTimeout(f"waited {timeout_s:g} s for {what}; the last screen was:\n{screen}")
            time.sleep(POLL_S)

    def wait_for_text(self, *texts: str, timeout_s: float = 15.0, on_poll: Callable[[], None] | None = None) -> str:
        """Wait until every one of `texts` is on the screen."""
        return self.wait_until(
            lambda screen: all(text in screen for text in texts),
            " and ".join(repr(text) for text in texts),
            timeout_s=timeout_s,
            on_poll=on_poll,
        )
