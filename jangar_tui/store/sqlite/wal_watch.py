"""Told when another process commits to the SQLite file, without a poll interval (Linux: inotify).

In WAL mode every commit writes the `-wal` file. An inotify watch on the database's directory
(the `-wal` file comes and goes with the last connection, so the file itself cannot be watched)
reports each write of it at once; the store then reads which tables' versions moved as it would
after a poll, so our own commits and checkpoints wake nobody, and another's wake only the watchers
of what it changed. Where inotify is missing (not Linux, no
watches left) `WalWatch.open` returns None and the store polls.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct
import sys
from pathlib import Path

_IN_MODIFY = 0x00000002
_IN_CREATE = 0x00000100
_IN_Q_OVERFLOW = 0x00004000  # events were lost: assume the file was written
_IN_NONBLOCK = 0o4000
_IN_CLOEXEC = 0o2000000
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then `len` bytes of name


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


class WalWatch:
    """A non-blocking inotify descriptor: readable when the `-wal` file was written or created."""

    def __init__(self, fd: int, wal_name: bytes) -> None:
        self._fd = fd
        self._wal_name = wal_name

    @classmethod
    def open(cls, db_path: Path) -> WalWatch | None:
        libc = _libc()
        if libc is None:
            return None
        fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            return None
        directory = os.fsencode(db_path.parent)
        if libc.inotify_add_watch(fd, directory, _IN_MODIFY | _IN_CREATE) < 0:
            os.close(fd)
            return None
        return cls(fd, os.fsencode(db_path.name) + b"-wal")

    def fileno(self) -> int:
        return self._fd

    def drain(self) -> bool:
        """Read every pending event; True when one was about the `-wal` file."""
        touched = False
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return touched
            if not data:
                return touched
            offset = 0
            while offset + _EVENT.size <= len(data):
                _, mask, _, length = _EVENT.unpack_from(data, offset)
                name = data[offset + _EVENT.size : offset + _EVENT.size + length].rstrip(b"\0")
                touched = touched or name == self._wal_name or bool(mask & _IN_Q_OVERFLOW)
                offset += _EVENT.size + length

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
