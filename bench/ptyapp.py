"""Run a real terminal program in a pseudo-terminal and time what appears on its screen.

The program gets a pty of a fixed size as stdin/stdout/stderr, like in a terminal emulator. A
reader thread drains the pty (so the program never blocks on output), strips escape sequences
into plain text (a cursor move becomes a newline, so words from different screen places never
join) and timestamps each chunk. `wait_for(marker)` returns the time of the chunk that completed
the marker: the moment the frame holding it reached the terminal.
"""

from __future__ import annotations

import bisect
import codecs
import contextlib
import fcntl
import os
import re
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Self

import psutil

# CSI (ESC [ ... final), OSC (ESC ] ... BEL/ST), DCS/APC/PM/SOS (ESC P|_|^|X ... ST), 2-char ESC.
_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
    r"|\x1b[P_^X][^\x1b]*\x1b\\"
    r"|\x1b[^\[\]P_^X]"
)
_CURSOR_MOVE_FINALS = "HfABCDEFGd"


def _plain(text: str) -> str:
    def repl(match: re.Match[str]) -> str:
        seq = match.group(0)
        return "\n" if seq.startswith("\x1b[") and seq[-1] in _CURSOR_MOVE_FINALS else ""

    return _ESCAPE.sub(repl, text)


class PtyApp:
    """One program running in its own pty and process group."""

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        cols: int = 120,
        rows: int = 40,
        cwd: str | None = None,
    ) -> None:
        self._argv = list(argv)
        self._env = dict(env)
        self._cols, self._rows, self._cwd = cols, rows, cwd
        self._text: list[str] = []  # plain text pieces
        self._joined = ""
        self._chunk_ends: list[int] = []  # plain-text length after each chunk
        self._chunk_times: list[float] = []
        self._pending = ""  # an escape sequence cut by a read boundary
        self._raw = bytearray()  # every byte the program wrote, as the terminal received it
        self._cond = threading.Condition()
        self._closed = False
        self.proc: subprocess.Popen[bytes] | None = None
        self.t_spawn = 0.0

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> float:
        """Spawn the program; returns the perf_counter time just before the spawn."""
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self._rows, self._cols, 0, 0))
        env = {
            **self._env,
            "TERM": "xterm-256color",
            "COLORTERM": "truecolor",
            "LINES": str(self._rows),
            "COLUMNS": str(self._cols),
        }
        self.t_spawn = time.perf_counter()
        self.proc = subprocess.Popen(
            self._argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=self._cwd,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self._master = master
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        return self.t_spawn

    def close(self, grace_s: float = 3.0) -> None:
        """Stop the program and everything it started (its process group), then the reader."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            descendants = _descendants(proc.pid)
            # start_new_session made the program a group leader: its group id is its pid.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(grace_s)
            for child in descendants:  # anything that left the group (setsid) goes too
                with contextlib.suppress(psutil.NoSuchProcess):
                    child.kill()
        with self._cond:
            self._closed = True
        try:
            os.close(self._master)
        except OSError:
            pass
        self._reader.join(2)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- io -------------------------------------------------------------------------------
    def send(self, keys: str | bytes) -> float:
        """Type keys; returns the perf_counter time right after the write."""
        data = keys.encode() if isinstance(keys, str) else keys
        os.write(self._master, data)
        return time.perf_counter()

    def mark(self) -> int:
        """The current end of the screen text: pass it to `wait_for` to see only newer output."""
        with self._cond:
            return len(self._joined_text())

    def wait_for(self, marker: str, timeout_s: float, since: int = 0) -> float:
        """perf_counter time of the chunk that completed `marker` after text offset `since`."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                text = self._joined_text()
                found = text.find(marker, since)
                if found >= 0:
                    end = found + len(marker)
                    return self._chunk_times[bisect.bisect_left(self._chunk_ends, end)]
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    tail = text[-400:].replace("\n", " | ")
                    raise TimeoutError(f"{marker!r} not shown within {timeout_s}s; screen tail: {tail!r}")
                if self.proc is not None and self.proc.poll() is not None:
                    raise RuntimeError(
                        f"program exited ({self.proc.returncode}) before showing {marker!r}: {text[-800:]!r}"
                    )
                self._cond.wait(min(left, 0.05))

    def wait_output(self, timeout_s: float, since: int) -> float:
        """perf_counter time of the first output after text offset `since` (the next repaint)."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                self._joined_text()
                index = bisect.bisect_right(self._chunk_ends, since)
                if index < len(self._chunk_ends):
                    return self._chunk_times[index]
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    raise TimeoutError(f"no output within {timeout_s}s")
                self._cond.wait(min(left, 0.05))

    def first_output_at(self) -> float:
        """perf_counter time of the first output chunk."""
        with self._cond:
            return self._chunk_times[0]

    def text(self) -> str:
        with self._cond:
            return self._joined_text()

    def raw(self) -> bytes:
        """Every byte the program has written to its terminal so far, escape sequences included."""
        with self._cond:
            return bytes(self._raw)

    def cpu_seconds(self) -> float:
        """User + system CPU time the program has used so far (threads included).

        Read next to a wall-clock interval, it tells the program's own work apart from waiting
        for a core that other processes hold."""
        assert self.proc is not None
        times = psutil.Process(self.proc.pid).cpu_times()
        return times.user + times.system

    def rss_bytes(self) -> tuple[int, int]:
        """(RSS of the program, RSS of the program plus all its descendants)."""
        assert self.proc is not None
        main = psutil.Process(self.proc.pid)
        own = main.memory_info().rss
        total = own
        for child in _descendants(self.proc.pid):
            try:
                total += child.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return own, total

    # -- internals ----------------------------------------------------------------------
    def _joined_text(self) -> str:
        if len(self._text) > 1:
            self._joined = "".join(self._text)
            self._text = [self._joined]
        elif self._text:
            self._joined = self._text[0]
        return self._joined

    def _read_loop(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while True:
            try:
                data = os.read(self._master, 1 << 16)
            except OSError:
                data = b""
            now = time.perf_counter()
            if not data:
                with self._cond:
                    self._closed = True
                    self._cond.notify_all()
                return
            raw = self._pending + decoder.decode(data)
            # Hold back a trailing escape sequence that the read boundary cut in two.
            cut = raw.rfind("\x1b")
            if cut >= 0 and len(raw) - cut < 256 and not _ESCAPE.match(raw, cut):
                raw, self._pending = raw[:cut], raw[cut:]
            else:
                self._pending = ""
            plain = _plain(raw)
            with self._cond:
                self._raw += data
                self._text.append(plain)
                previous = self._chunk_ends[-1] if self._chunk_ends else 0
                self._chunk_ends.append(previous + len(plain))
                self._chunk_times.append(now)
                self._cond.notify_all()


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
