"""A repository's setup command (`JANGAR_SETUP_COMMANDS`), run in a new worktree before the agent.

The operator's own command (dependencies, generated files), so it runs as the worker runs, outside
the agent's sandbox: without a shell unless the setting asks for one, in its own process group,
stdin closed, within `JANGAR_SETUP_TIMEOUT`. Each line it prints becomes a `setup` event of the
work order's log; a failure (a non-zero exit, a timeout, a program that is not there) fails the
work order with the command's own reason and the end of its output. A cancel stops its group.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections import deque
from collections.abc import Mapping
from pathlib import Path

from jangar_tui.aio import within
from jangar_tui.config import SetupCommand
from jangar_tui.models import EventKind
from jangar_tui.orchestration.event_log import EventLogWriter
from jangar_tui.orchestration.workspace import repo_key

# The failure's reason ends with this many of the command's last lines.
TAIL_LINES = 20
_LINE_LIMIT = 1024 * 1024
_STOP_GRACE_S = 2.0


class SetupFailed(Exception):
    """The setup command did not succeed; the message says why, for the operator."""


def setup_command_for(commands: Mapping[str, SetupCommand], target_repo: str) -> SetupCommand | None:
    """The command set for the repository however it is spelled (`acme/app`, its https URL)."""
    wanted = repo_key(target_repo)
    return next((command for repo, command in commands.items() if repo_key(repo) == wanted), None)


def describe(command: SetupCommand) -> str:
    return f"sh -c {command.argv[0]!r}" if command.shell else " ".join(command.argv)


async def run_setup(
    command: SetupCommand,
    cwd: Path,
    env: Mapping[str, str],
    timeout_s: float,
    log: EventLogWriter,
) -> None:
    """Run `command` in `cwd` to its end; SetupFailed when it does not succeed. Canceled, it
    stops the command's process group before it lets the cancel through."""
    shown = describe(command)
    argv = ["/bin/sh", "-c", command.argv[0]] if command.shell else command.argv
    log.add(EventKind.SETUP, f"Setup: {shown}", {"setup": command.argv, "shell": command.shell})
    started = time.monotonic()
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=dict(env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            limit=_LINE_LIMIT,
        )
    except FileNotFoundError:
        raise _failed(log, f"The setup command's program {argv[0]!r} was not found (JANGAR_SETUP_COMMANDS).") from None
    except PermissionError:
        raise _failed(log, f"The setup command's program {argv[0]!r} cannot be run (permission denied).") from None
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    try:
        code = await within(_follow(proc, log, tail), timeout_s)
    except TimeoutError:
        await _stop(proc)
        raise _failed(
            log, f"The setup command `{shown}` did not finish within {timeout_s:g} s (JANGAR_SETUP_TIMEOUT).", tail
        ) from None
    except BaseException:
        await _stop(proc)  # canceled: nothing it started is left running
        raise
    finally:
        await _stop_group(proc)  # whatever it left behind in its group
    if code != 0:
        raise _failed(log, f"The setup command `{shown}` exited with code {code}.", tail)
    log.add(EventKind.SETUP, f"Setup finished in {time.monotonic() - started:.1f} s.")


async def _follow(proc: asyncio.subprocess.Process, log: EventLogWriter, tail: deque[str]) -> int:
    assert proc.stdout is not None
    await _lines(proc.stdout, log, tail)
    return await proc.wait()


async def _lines(stream: asyncio.StreamReader, log: EventLogWriter, tail: deque[str]) -> None:
    while True:
        try:
            raw = await stream.readline()
        except ValueError:  # a line past the limit: take what is there
            raw = await stream.read(_LINE_LIMIT)
        if not raw:
            return
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        tail.append(line)
        log.add(EventKind.SETUP, line, {"stream": "setup"})


def _failed(log: EventLogWriter, reason: str, tail: deque[str] | None = None) -> SetupFailed:
    log.add(EventKind.ERROR, reason)
    output = "\n".join(tail or ())
    return SetupFailed(f"{reason}\n\n{output}" if output.strip() else reason)


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            await within(proc.wait(), _STOP_GRACE_S)
        except TimeoutError:
            _signal_group(proc.pid, signal.SIGKILL)
            await proc.wait()


async def _stop_group(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        _signal_group(proc.pid, signal.SIGKILL)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
