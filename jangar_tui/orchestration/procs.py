"""Processes identified across restarts: a pid plus its start time, so a reused pid is never hit.

A pid alone names a different process once the first one is gone; every record Jangar keeps in
the data dir (the dev server, attached instances' workers, agents) stores the start time too, and
nothing is signalled unless both still match.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from dataclasses import dataclass
from typing import Any

import psutil

STOP_GRACE_S = 5.0
_POLL_S = 0.05


@dataclass(frozen=True)
class ProcessId:
    """A process on a host: pid and its start time (`psutil.Process.create_time()`)."""

    host: str
    pid: int
    created: float

    @classmethod
    def of(cls, pid: int) -> ProcessId | None:
        try:
            created = psutil.Process(pid).create_time()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None
        return cls(host=socket.gethostname(), pid=pid, created=created)

    @classmethod
    def me(cls) -> ProcessId:
        me = cls.of(os.getpid())
        assert me is not None  # this process exists
        return me

    @classmethod
    def from_dict(cls, data: Any) -> ProcessId | None:
        try:
            return cls(host=str(data["host"]), pid=int(data["pid"]), created=float(data["created"]))
        except (KeyError, TypeError, ValueError):
            return None

    def as_dict(self) -> dict[str, Any]:
        return {"host": self.host, "pid": self.pid, "created": self.created}

    @property
    def local(self) -> bool:
        return self.host == socket.gethostname()

    def process(self) -> psutil.Process | None:
        """The live process this names (not a zombie), or None when it is gone or was replaced."""
        if not self.local:
            return None
        try:
            proc = psutil.Process(self.pid)
            if proc.create_time() != self.created or proc.status() == psutil.STATUS_ZOMBIE:
                return None
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None
        return proc

    def alive(self) -> bool:
        return self.process() is not None


def descendants(pid: int) -> list[ProcessId]:
    """Every live descendant of `pid`, including those that left its group or session."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return []
    found: list[ProcessId] = []
    host = socket.gethostname()
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            found.append(ProcessId(host=host, pid=child.pid, created=child.create_time()))
    return found


async def stop_processes(targets: list[ProcessId], *, group: bool, grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM each target still alive (its whole process group when `group`), wait up to
    `grace_s` for them to go, then SIGKILL what is left. A target whose start time no longer
    matches (its pid was reused) is never signalled."""
    live = [(target, proc) for target in targets if (proc := target.process()) is not None]
    if not live:
        return
    for target, proc in live:
        _signal(target, proc, signal.SIGTERM, group=group)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace_s
    while loop.time() < deadline and any(target.alive() for target, _ in live):
        await asyncio.sleep(_POLL_S)
    for target, proc in live:
        if target.alive():
            _signal(target, proc, signal.SIGKILL, group=group)
        elif group:
            # The leader is gone; whatever it left in its group goes too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(target.pid, signal.SIGKILL)
    while any(target.alive() for target, _ in live) and loop.time() < deadline + grace_s:
        await asyncio.sleep(_POLL_S)


def _signal(target: ProcessId, proc: psutil.Process, sig: signal.Signals, *, group: bool) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError, psutil.NoSuchProcess):
        if group:
            os.killpg(target.pid, sig)
        else:
            proc.send_signal(sig)
