"""The embedded Temporal of one data dir, shared by every Jangar instance on that data dir.

Everything lives in `data_dir/runtime/`:

- `lock`: `flock`ed while an instance reads or changes the record (start, adopt, stop).
- `server.json`: the dev server serving this data dir: pid and start time (so a reused pid is
  never taken for it), host, port. Written as soon as the process exists, so a server whose
  starter dies before it answers is still found.
- `instances/<pid>-<random>.lock`: one per attached instance (a TUI, a `jangar worker`), `flock`ed
  for the instance's lifetime. The kernel drops a lock when its process dies, however it dies
  (kill -9 included), so a file whose lock can be taken belongs to an instance that is gone.

Decisions:
- The port is `JANGAR_EMBEDDED_TEMPORAL_PORT` when set; otherwise the one in `server.json`
  (a restarted server comes back where clients already look), else a free one. Two data dirs
  therefore never share a server, and the task queue (config.py) is derived from the data dir too.
- Attaching takes the instance lock first, then the record lock: a server is found alive at
  `pid + start time + Temporal answering on its port` and adopted; a recorded process that
  does not answer within `ADOPT_TIMEOUT_S` is stopped and replaced; a dead one is forgotten,
  and its replacement takes its port once the dead one's last thread has let go of it (only a
  port still taken after `RELEASE_TIMEOUT_S` is someone else's): clients keep their address and
  the worker, with its running agents, stays.
- The server runs in its own session: it outlives the instance that started it for as long as
  another instance is attached, and a terminal's Ctrl-C or hang-up never reaches it.
- Detaching releases the instance lock, then, under the record lock, stops the server when no
  other instance lock is held: the last one out stops it. A server left by a killed last instance
  is adopted by the next one on the data dir, and stopped when that one leaves.
- The worker stays in the instances (the TUI's in-process worker or `jangar worker`), not in a
  detached host process: work in flight when the last instance quits is stopped with it and picks
  up again at the next start (the orphan sweep in `agent_records.py` makes that take seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from jangar_tui.aio import lock_exclusive
from jangar_tui.config import Settings
from jangar_tui.orchestration.client import connect
from jangar_tui.orchestration.devserver import DevServer, free_port, port_answers
from jangar_tui.orchestration.procs import ProcessId, stop_processes

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
RUNTIME_DIR = "runtime"
SERVER_RECORD = "server.json"
DEV_SERVER_LOG = "temporal.log"
DEV_SERVER_DB = "temporal.db"
ADOPT_TIMEOUT_S = 5.0
# A killed server's port closes once the last of its threads has exited, which on a busy machine
# can be a while after its process shows as gone (its main thread is a zombie, the others still
# hold the socket). Until then the port is its, not someone else's.
RELEASE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class ServerRecord:
    process: ProcessId
    port: int

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"


@dataclass(frozen=True)
class Endpoint:
    """Where this data dir's Temporal answers, and whether this call started it."""

    address: str
    started: bool
    pid: int | None


class EmbeddedTemporalError(Exception):
    """No server could be started or adopted for the data dir; the message says why."""


class EmbeddedTemporal:
    """One instance's attachment to its data dir's dev server: `attach()`, `ensure()`, `detach()`."""

    def __init__(
        self, settings: Settings, *, start_timeout_s: float = 30.0, on_starting: Callable[[], None] | None = None
    ) -> None:
        self.settings = settings
        self.dir = settings.data_dir / RUNTIME_DIR
        self._start_timeout_s = start_timeout_s
        self._on_starting = on_starting  # told when this instance starts a server (not on adopting)
        self._instance_file: IO[bytes] | None = None
        self._instance_path: Path | None = None
        self._server: DevServer | None = None  # the server this process started, while it is ours to reap
        self.endpoint: Endpoint | None = None

    # -- instances --------------------------------------------------------------------------------
    async def attach(self) -> Endpoint:
        """Register this instance, then start or adopt the data dir's server."""
        # Under the record lock, so a detaching instance never counts the others half-registered.
        async with self._locked():
            await asyncio.to_thread(self._register)
            endpoint = await self._adopt_or_start()
        self.endpoint = endpoint
        return endpoint

    def _register(self) -> None:
        instances = self.dir / "instances"
        instances.mkdir(parents=True, exist_ok=True)
        # One file per attachment (a process may attach twice, as tests do).
        path = instances / f"{os.getpid()}-{uuid.uuid4().hex[:12]}.lock"
        handle = open(path, "wb")  # noqa: SIM115 - held open (and locked) for the instance's lifetime
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        self._instance_file, self._instance_path = handle, path

    async def detach(self) -> None:
        """Unregister; the last instance out stops the server."""
        handle, path = self._instance_file, self._instance_path
        self._instance_file = self._instance_path = None
        if handle is None or path is None:
            return
        path.unlink(missing_ok=True)
        handle.close()
        async with self._locked():
            if self._other_instances():
                return
            record = self._read_record()
            if record is not None:
                await self._stop(record)
            (self.dir / SERVER_RECORD).unlink(missing_ok=True)

    def _other_instances(self) -> int:
        """How many other instances hold their lock; files of dead ones are removed."""
        alive = 0
        for path in (self.dir / "instances").glob("*.lock"):
            try:
                with open(path, "rb") as handle:
                    try:
                        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        alive += 1
                        continue
                    path.unlink(missing_ok=True)  # its process is gone (the lock was free)
            except FileNotFoundError:
                continue
        return alive

    # -- the server -------------------------------------------------------------------------------
    async def ensure(self) -> Endpoint:
        """The data dir's server, adopted when one answers, else started. Safe to call again
        whenever the server seems gone: it never starts a second one."""
        async with self._locked():
            endpoint = await self._adopt_or_start()
        self.endpoint = endpoint
        return endpoint

    async def _adopt_or_start(self) -> Endpoint:
        record = self._read_record()
        configured = self.settings.embedded_temporal_port
        if record is not None:
            if record.process.alive():
                if (configured is None or configured == record.port) and await self._answers(
                    record.address, ADOPT_TIMEOUT_S
                ):
                    return Endpoint(record.address, started=False, pid=record.process.pid)
                log.warning("the recorded Temporal server (pid %d) does not answer: stopping it", record.process.pid)
                await self._stop(record)
            (self.dir / SERVER_RECORD).unlink(missing_ok=True)
        port = configured or (record.port if record is not None else None)
        if record is not None and port == record.port:
            await _until_released(port, RELEASE_TIMEOUT_S)
        if port is not None and await port_answers(HOST, port):
            if configured is not None:
                # The configured port is someone else's: a Temporal there is used (never stopped:
                # it is not ours); anything else is an error the status line shows.
                if await self._answers(f"{HOST}:{port}", 2.0):
                    return Endpoint(f"{HOST}:{port}", started=False, pid=None)
                raise EmbeddedTemporalError(f"port {port} (JANGAR_EMBEDDED_TEMPORAL_PORT) is taken by something else")
            port = None  # the remembered port was taken meanwhile: choose another
        return await self._start(port or free_port(HOST))

    async def _start(self, port: int) -> Endpoint:
        if self._on_starting is not None:
            self._on_starting()
        data_dir = self.settings.data_dir
        server = DevServer(
            port=port,
            db_path=data_dir / DEV_SERVER_DB,
            log_path=data_dir / DEV_SERVER_LOG,
            namespace=self.settings.temporal_namespace,
            host=HOST,
            on_spawned=lambda pid: self._write_record(pid, port),
        )
        await server.start(self._start_timeout_s)  # DevServerError: the caller reports it
        self._server = server
        return Endpoint(server.address, started=True, pid=server.pid)

    async def _stop(self, record: ServerRecord) -> None:
        server, self._server = self._server, None
        if server is not None and server.pid == record.process.pid:
            await asyncio.to_thread(server.stop)  # our child: stopped and reaped
            return
        await stop_processes([record.process], group=True)

    async def _answers(self, address: str, timeout_s: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            try:
                await connect(address, self.settings.temporal_namespace, timeout_s=1.0)
                return True
            except ConnectionError:
                if loop.time() > deadline:
                    return False
            await asyncio.sleep(0.1)

    # -- the record -------------------------------------------------------------------------------
    def _read_record(self) -> ServerRecord | None:
        try:
            data: Any = json.loads((self.dir / SERVER_RECORD).read_text())
            process = ProcessId.from_dict(data)
            port = int(data["port"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return ServerRecord(process, port) if process is not None else None

    def _write_record(self, pid: int, port: int) -> None:
        process = ProcessId.of(pid)
        if process is None:
            return  # it died at once: the start reports why
        data = {**process.as_dict(), "port": port}
        tmp = self.dir / f"{SERVER_RECORD}.tmp"
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.dir / SERVER_RECORD)

    def _open_lock(self) -> IO[bytes]:
        self.dir.mkdir(parents=True, exist_ok=True)
        return open(self.dir / "lock", "wb")  # the caller closes it, which drops the lock

    @contextlib.asynccontextmanager
    async def _locked(self) -> AsyncIterator[None]:
        handle = await asyncio.to_thread(self._open_lock)
        try:
            await lock_exclusive(handle.fileno())
            yield
        finally:
            handle.close()


async def _until_released(port: int, timeout_s: float) -> None:
    """Wait (at most `timeout_s`) until nothing takes TCP connections on `port` any more."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline and await port_answers(HOST, port):
        await asyncio.sleep(0.05)


def recorded_address(data_dir: Path) -> str | None:
    """The address of the data dir's recorded server (for display before attaching), if any."""
    try:
        port = int(json.loads((data_dir / RUNTIME_DIR / SERVER_RECORD).read_text())["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return f"{HOST}:{port}"
