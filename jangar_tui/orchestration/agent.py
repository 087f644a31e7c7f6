"""Run the agent command: never through a shell, in its own process group, with bounded output.

The prompt is one argv element (or stdin), so no character of it is ever interpreted. The agent
gets its own session (`start_new_session=True`), which makes its process group the unit we stop:
whatever the agent spawned goes down with it on cancel, on timeout, or when a later attempt finds
the group of a crashed worker still running (see `kill_stale_group`).
"""

from __future__ import annotations

import asyncio
import codecs
import collections
import contextlib
import os
import re
import signal
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from jangar_tui.aio import cancel_and_wait, within
from jangar_tui.orchestration.payloads import OUTPUT_TAIL_CHARS, AgentResult

KILL_GRACE_S = 2.0
_DRAIN_TIMEOUT_S = 5.0
_READ_CHUNK = 64 * 1024
# A line longer than this is scanned for a PR URL only in its first part (bounded memory).
_MAX_LINE_CHARS = 8 * 1024
# An http(s) URL of a pull request (GitHub, Gitea...) or merge request (GitLab), up to its number:
# what follows (`/files`, `#discussion…`, `.`, `**`, `)`, `>`) is not part of the PR's address.
# It must start a URL (not sit inside another one's query string), and has no user info.
_PR_URL = re.compile(
    r"(?<![A-Za-z0-9/?&=%.:@-])https?://[A-Za-z0-9.-]+(?::\d{1,5})?(?:/[A-Za-z0-9._~%+-]+)*?"
    r"/(?:pull|pulls|merge_requests)/\d+(?![A-Za-z0-9-])"
)
# A Markdown link or image, [text](target "title"): only its target is an address; the text is
# what the author wanted shown, and may claim a PR the link does not go to.
_MD_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^\s()<>]*)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")


class AgentCannotStart(Exception):
    """The agent could not be started; the message says what to change. Retrying will not help."""


class AgentCommandNotFound(AgentCannotStart):
    """The configured agent command does not exist or cannot be executed."""

    def __init__(self, command: str, reason: str) -> None:
        self.command = command
        super().__init__(
            f"The agent command {command!r} {reason}. Install it, or set JANGAR_AGENT_COMMAND to the "
            "command that runs your agent (for example JANGAR_AGENT_COMMAND='codex exec')."
        )


class PromptNotPassable(AgentCannotStart):
    """The prompt holds a NUL character, which no command-line argument can carry."""

    def __init__(self) -> None:
        super().__init__(
            "The prompt contains a NUL character, which cannot be passed as a command-line argument. "
            "Remove it from the prompt, or set JANGAR_AGENT_PROMPT_VIA=stdin."
        )


def find_pr_urls(text: str) -> list[str]:
    """Every pull/merge request URL mentioned in `text`, in order: in plain text, in angle
    brackets, under emphasis, and as the target of a Markdown link (never its text)."""
    found: list[tuple[int, str]] = []
    outside: list[str] = []  # the text with each link replaced by spaces (positions kept)
    last = 0
    for link in _MD_LINK.finditer(text):
        outside.append(text[last : link.start()] + " " * (link.end() - link.start()))
        last = link.end()
        target = _PR_URL.fullmatch(link.group(1))
        if target is not None:
            found.append((link.start(), target.group(0)))
    outside.append(text[last:])
    found.extend((match.start(), match.group(0)) for match in _PR_URL.finditer("".join(outside)))
    return [url for _, url in sorted(found)]


def find_pr_url(text: str) -> str | None:
    """The PR an agent reports having opened: the LAST pull/merge request URL it mentions.

    Agents end with what they did ("Opened https://…/pull/42"); earlier mentions are mostly
    related or prior PRs they read on the way."""
    urls = find_pr_urls(text)
    return urls[-1] if urls else None


class OutputTail:
    """The last `limit` characters of a byte stream, decoded as UTF-8, plus the last PR URL seen
    (see `find_pr_url`)."""

    def __init__(self, limit: int = OUTPUT_TAIL_CHARS) -> None:
        self._limit = limit
        self._chunks: collections.deque[str] = collections.deque()
        self._size = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._line = ""
        self.pr_url: str | None = None

    def feed(self, data: bytes, *, final: bool = False) -> None:
        text = self._decoder.decode(data, final=final)
        if text:
            self._append(text)
            self._scan(text, final=final)
        elif final:
            self._scan("", final=True)

    def text(self) -> str:
        return "".join(self._chunks)[-self._limit :]

    def _append(self, text: str) -> None:
        self._chunks.append(text)
        self._size += len(text)
        while self._chunks and self._size - len(self._chunks[0]) >= self._limit:
            self._size -= len(self._chunks.popleft())

    def _scan(self, text: str, *, final: bool) -> None:
        *complete, rest = (self._line + text).split("\n")
        for line in complete:
            if url := find_pr_url(line):
                self.pr_url = url
        self._line = rest[:_MAX_LINE_CHARS]
        if final and (url := find_pr_url(self._line)):
            self.pr_url = url


@dataclass(frozen=True)
class ProcessMark:
    """Identifies an agent process group across worker restarts (kept in heartbeat details)."""

    host: str
    pgid: int
    startTime: str | None  # /proc start time of the group leader, so a reused pid is never hit

    def as_dict(self) -> dict[str, Any]:
        return {"host": self.host, "pgid": self.pgid, "startTime": self.startTime}


def mark_of(pid: int) -> ProcessMark:
    """The mark of a process that leads its own group (started with `start_new_session`)."""
    return ProcessMark(host=socket.gethostname(), pgid=pid, startTime=_start_time(pid))


class OutputLines:
    """Complete lines of a byte stream, decoded as UTF-8, handed to `emit` (long lines in pieces)."""

    def __init__(self, emit: Callable[[str], None]) -> None:
        self._emit = emit
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._rest = ""

    def feed(self, data: bytes, *, final: bool = False) -> None:
        *complete, self._rest = (self._rest + self._decoder.decode(data, final=final)).split("\n")
        for line in complete:
            self._emit(line.removesuffix("\r"))
        while len(self._rest) > _MAX_LINE_CHARS:
            self._emit(self._rest[:_MAX_LINE_CHARS])
            self._rest = self._rest[_MAX_LINE_CHARS:]
        if final and self._rest:
            self._emit(self._rest)
            self._rest = ""


class AgentProcess:
    """One running agent. `start()` spawns it, `wait()` collects its output, `stop()` kills its group."""

    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        prompt_stdin: bytes | None,
        on_line: Callable[[str, str], None] | None = None,
    ) -> None:
        self._proc = proc
        self.pid = proc.pid
        self.pgid = proc.pid  # start_new_session: the agent leads its own group
        self.stdout = OutputTail()
        self.stderr = OutputTail()
        lines = (
            (None, None)
            if on_line is None
            else (OutputLines(lambda text: on_line("stdout", text)), OutputLines(lambda text: on_line("stderr", text)))
        )
        self._io = asyncio.gather(
            self._pump(proc.stdout, self.stdout, lines[0]),
            self._pump(proc.stderr, self.stderr, lines[1]),
            self._feed_stdin(prompt_stdin),
        )

    @classmethod
    async def start(
        cls,
        command: Sequence[str],
        prompt: str,
        *,
        prompt_via: Literal["arg", "stdin"] = "arg",
        cwd: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        on_line: Callable[[str, str], None] | None = None,
    ) -> AgentProcess:
        """Spawn the agent; `on_line(stream, line)` sees each line of its stdout and stderr."""
        if not command:
            raise AgentCommandNotFound("", "is empty")
        if prompt_via == "arg" and "\x00" in prompt:
            raise PromptNotPassable()
        argv = [*command, prompt] if prompt_via == "arg" else list(command)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE if prompt_via == "stdin" else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=cwd,
                env=dict(env) if env is not None else None,
                start_new_session=True,
            )
        except FileNotFoundError:
            raise AgentCommandNotFound(command[0], "was not found") from None
        except PermissionError:
            raise AgentCommandNotFound(command[0], "is not executable") from None
        return cls(proc, prompt.encode() if prompt_via == "stdin" else None, on_line)

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode

    def mark(self) -> ProcessMark:
        return mark_of(self.pid)

    async def wait(self) -> AgentResult:
        """Wait for the agent to exit; whatever it left running in its group is stopped too."""
        code = await self._exited()
        await kill_group(self.pgid, grace_s=0)
        await self._drain(timeout_s=_DRAIN_TIMEOUT_S)
        return AgentResult(
            exitCode=code,
            output=self.stdout.text(),
            errorOutput=self.stderr.text(),
            prUrl=self.stdout.pr_url or self.stderr.pr_url,
        )

    async def _exited(self, poll_s: float = 0.02) -> int:
        """The exit code, as soon as the agent exits. (`Process.wait()` also waits until every
        pipe is closed, which a process the agent left behind can postpone forever.)"""
        while self._proc.returncode is None:
            await asyncio.sleep(poll_s)
        return self._proc.returncode

    async def stop(self, grace_s: float = KILL_GRACE_S) -> None:
        """SIGTERM the whole group, SIGKILL what is left after `grace_s`, and reap the agent."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_s
        _signal_group(self.pgid, signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await within(self._exited(), grace_s)
        await kill_group(self.pgid, grace_s=max(0.0, deadline - loop.time()), already_signalled=True)
        if self._proc.returncode is None:
            # The leader left its group. os.kill, not Process.kill: the latter polls (reaps)
            # the child itself, racing asyncio's watcher, which then reports exit code 255.
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        await self._exited()
        await self._drain(timeout_s=1.0)

    async def _drain(self, timeout_s: float) -> None:
        """Read what is left in the pipes; a process that left the group could hold them open
        forever, so the reading gets a bounded time."""
        try:
            await within(asyncio.shield(self._io), timeout_s)
        except TimeoutError:
            await cancel_and_wait(self._io)

    @staticmethod
    async def _pump(stream: asyncio.StreamReader | None, tail: OutputTail, lines: OutputLines | None) -> None:
        if stream is None:
            return
        while data := await stream.read(_READ_CHUNK):
            tail.feed(data)
            if lines is not None:
                lines.feed(data)
        tail.feed(b"", final=True)
        if lines is not None:
            lines.feed(b"", final=True)

    async def _feed_stdin(self, data: bytes | None) -> None:
        stdin = self._proc.stdin
        if stdin is None or data is None:
            return
        # An agent that exits without reading its prompt is not our failure: its exit code tells.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            stdin.write(data)
            await stdin.drain()
        stdin.close()


async def kill_group(
    pgid: int, *, grace_s: float = KILL_GRACE_S, poll_s: float = 0.05, already_signalled: bool = False
) -> None:
    """Stop every process of group `pgid`: SIGTERM, then SIGKILL what is left after `grace_s`."""
    if not _group_alive(pgid):
        return
    if not already_signalled and not _signal_group(pgid, signal.SIGTERM if grace_s > 0 else signal.SIGKILL):
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace_s
    while loop.time() < deadline:
        await asyncio.sleep(poll_s)
        if not _group_alive(pgid):
            return
    _signal_group(pgid, signal.SIGKILL)


async def kill_stale_group(details: Mapping[str, Any] | None) -> bool:
    """Kill the agent group an earlier attempt left behind (its worker died), when it is ours.

    Only on the same host, and only when the group leader still has the start time recorded, so
    a pid reused by an unrelated process is never signalled.
    """
    if not details:
        return False
    try:
        mark = ProcessMark(host=str(details["host"]), pgid=int(details["pgid"]), startTime=details.get("startTime"))
    except (KeyError, TypeError, ValueError):
        return False
    if mark.host != socket.gethostname() or mark.startTime is None or _start_time(mark.pgid) != mark.startTime:
        return False
    await kill_group(mark.pgid)
    return True


def _signal_group(pgid: int, sig: signal.Signals) -> bool:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:  # the group id now belongs to someone else's processes
        return False
    return True


def _group_alive(pgid: int) -> bool:
    """True while a process of the group still runs (zombies waiting to be reaped do not count)."""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        # fields[0] is the state, fields[2] the process group.
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            return True
    return False


def _start_time(pid: int) -> str | None:
    """The kernel's start time of `pid` (Linux), or None where /proc is not available."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None
