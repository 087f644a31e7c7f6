"""Drive `codex app-server` (JSON-RPC, one JSON object per line over stdio) for one turn at a time.

`CodexAppServer.start` runs the binary in its own process group; `run_turn` does
`thread/resume` (or `thread/start` when there is no thread or codex no longer has it) →
`turn/start`, and yields typed events (`codex_events`) until `turn/completed`. `interrupt` sends
`turn/interrupt`; `close` ends the process group. Requests codex sends us (approvals) are
declined: chat turns run with `approvalPolicy: never`, so none should come.

The driver knows nothing of the store or Temporal, so work orders can reuse it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jangar_tui.agents.codex_events import CodexEvent, ThreadReady, TurnEnded, TurnStarted, decode_notification
from jangar_tui.aio import within

CLIENT_NAME = "jangar"
REQUEST_TIMEOUT_S = 30.0
_STOP_GRACE_S = 2.0
# One JSON-RPC line may carry a whole turn's items; asyncio's default 64 KiB limit is too small.
_LINE_LIMIT = 64 * 1024 * 1024
_STDERR_TAIL = 4096
# codex's refusal to resume a thread another app-server process has loaded.
_HELD_ELSEWHERE = "already has an active writer"


class CodexError(Exception):
    """codex could not be started, refused a request, or went away."""


class ThreadNotFound(CodexError):
    """`thread/resume` failed: codex has no record of the thread (another machine, a lost CODEX_HOME)."""


@dataclass(frozen=True)
class CodexOptions:
    """How to run codex for a chat: binary, working directory, sandbox, model and `-c` overrides."""

    binary: Sequence[str]
    cwd: Path
    sandbox: str = "read-only"
    model: str | None = None
    overrides: Sequence[str] = ()
    env: Mapping[str, str] | None = None  # None: this process's environment (CODEX_HOME passes through)
    ephemeral: bool = False


@dataclass
class CodexAppServer:
    proc: asyncio.subprocess.Process
    options: CodexOptions
    _next_id: int = 0
    _pending: dict[int, asyncio.Future[Any]] = field(default_factory=dict)
    _events: asyncio.Queue[tuple[str, dict[str, Any]] | None] = field(default_factory=asyncio.Queue)
    _stderr: bytearray = field(default_factory=bytearray)
    _reader: asyncio.Task[None] | None = None
    _stderr_reader: asyncio.Task[None] | None = None
    thread_id: str | None = None
    turn_id: str | None = None  # the running turn
    last_turn_id: str | None = None  # the newest turn started on this thread by this process
    # The thread's turns as `thread/resume` gave them (raw Turn objects), when asked for.
    turns: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    async def start(cls, options: CodexOptions) -> CodexAppServer:
        argv = [*options.binary, "app-server"]
        for override in options.overrides:
            argv += ["-c", override]
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=str(options.cwd),
                env=dict(options.env) if options.env is not None else None,
                start_new_session=True,
                limit=_LINE_LIMIT,
            )
        except FileNotFoundError:
            raise CodexError(
                f"The Codex binary {options.binary[0]!r} was not found. Install @openai/codex (make setup) "
                "or set JANGAR_CODEX_BIN to the codex binary."
            ) from None
        except PermissionError:
            raise CodexError(f"The Codex binary {options.binary[0]!r} cannot be run (permission denied).") from None
        server = cls(proc=proc, options=options)
        server._reader = asyncio.create_task(server._read_stdout())
        server._stderr_reader = asyncio.create_task(server._read_stderr())
        try:
            await server.request("initialize", {"clientInfo": {"name": CLIENT_NAME, "version": "1"}})
            await server._notify("initialized", None)
        except BaseException:
            await server.close()
            raise
        return server

    @property
    def stderr_tail(self) -> str:
        return self._stderr[-_STDERR_TAIL:].decode("utf-8", errors="replace")

    # -- JSON-RPC ---------------------------------------------------------------------------------

    async def _write(self, message: dict[str, Any]) -> None:
        stdin = self.proc.stdin
        if stdin is None or stdin.is_closing():
            raise CodexError("codex app-server is not running.")
        stdin.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        try:
            await stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            raise CodexError(f"codex app-server exited. {self.stderr_tail}".strip()) from None

    async def _notify(self, method: str, params: dict[str, Any] | None) -> None:
        message: dict[str, Any] = {"method": method}
        if params is not None:
            message["params"] = params
        await self._write(message)

    async def request(self, method: str, params: dict[str, Any], timeout_s: float = REQUEST_TIMEOUT_S) -> Any:
        self._next_id += 1
        request_id = self._next_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            await self._write({"id": request_id, "method": method, "params": params})
            return await within(future, timeout_s)
        except TimeoutError:
            raise CodexError(f"codex did not answer {method} within {timeout_s:g} s.") from None
        finally:
            self._pending.pop(request_id, None)

    async def _read_stdout(self) -> None:
        stdout = self.proc.stdout
        assert stdout is not None
        try:
            while line := await stdout.readline():
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if isinstance(message, dict):
                    await self._dispatch(message)
        finally:
            gone = CodexError(f"codex app-server exited. {self.stderr_tail}".strip())
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(gone)
            self._events.put_nowait(None)

    async def _dispatch(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        if "id" in message and method is None:  # a response to one of our requests
            future = self._pending.get(message["id"])
            if future is None or future.done():
                return
            if "error" in message:
                error = message["error"] if isinstance(message["error"], dict) else {}
                future.set_exception(CodexError(str(error.get("message", "codex refused the request."))))
            else:
                future.set_result(message.get("result"))
        elif "id" in message:
            # A request from codex (an approval): decline, so a turn never waits on us.
            with contextlib.suppress(CodexError):
                await self._write(
                    {"id": message["id"], "error": {"code": -32601, "message": "Jangar does not approve requests."}}
                )
        elif isinstance(method, str):
            params = message.get("params")
            self._events.put_nowait((method, params if isinstance(params, dict) else {}))

    async def _read_stderr(self) -> None:
        stderr = self.proc.stderr
        assert stderr is not None
        while chunk := await stderr.read(4096):
            self._stderr += chunk
            del self._stderr[: max(0, len(self._stderr) - _STDERR_TAIL)]

    # -- threads and turns ------------------------------------------------------------------------

    def _thread_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "cwd": str(self.options.cwd),
            "sandbox": self.options.sandbox,
            "approvalPolicy": "never",
        }
        if self.options.model:
            params["model"] = self.options.model
        return params

    async def open_thread(self, thread_id: str | None, *, with_turns: bool = False) -> ThreadReady:
        """Resume `thread_id` (ThreadNotFound when codex does not have it) or start a new thread.
        `with_turns` asks for the thread's earlier turns too (`self.turns`); without it codex
        skips reading them back, which makes the resume quicker."""
        self.turns = []
        if thread_id:
            params = {"threadId": thread_id, **self._thread_params(), "excludeTurns": not with_turns}
            try:
                result = await self.request("thread/resume", params)
            except CodexError as exc:
                if self.proc.returncode is not None:
                    raise
                if _HELD_ELSEWHERE not in str(exc):
                    raise ThreadNotFound(str(exc)) from None
                # Another app-server (another worker's, keeping it loaded) holds the thread: a
                # fork carries the whole conversation on in a new thread of our own.
                try:
                    result = await self.request("thread/fork", params)
                except CodexError as fork_exc:
                    if self.proc.returncode is not None:
                        raise
                    raise ThreadNotFound(str(fork_exc)) from None
            self.thread_id = str(result["thread"]["id"])
            turns = result["thread"].get("turns")
            self.turns = [turn for turn in turns if isinstance(turn, dict)] if isinstance(turns, list) else []
            return ThreadReady(threadId=self.thread_id, resumed=True)
        params = self._thread_params()
        if self.options.ephemeral:
            params["ephemeral"] = True
        result = await self.request("thread/start", params)
        self.thread_id = str(result["thread"]["id"])
        return ThreadReady(threadId=self.thread_id, resumed=False)

    async def run_turn(self, text: str, *, client_id: str | None = None) -> AsyncIterator[CodexEvent]:
        """Start a turn on the open thread and yield its events, ending with `TurnEnded`.
        `client_id` is recorded on the turn's user message (a retry finds the turn by it)."""
        if self.thread_id is None:
            raise CodexError("open_thread first.")
        params: dict[str, Any] = {"threadId": self.thread_id, "input": [{"type": "text", "text": text}]}
        if client_id is not None:
            params["clientUserMessageId"] = client_id
        result = await self.request("turn/start", params)
        self.turn_id = self.last_turn_id = str(result["turn"]["id"])
        yield TurnStarted(turnId=self.turn_id)
        async for event in self.events():
            yield event

    async def events(self) -> AsyncIterator[CodexEvent]:
        """The running turn's events until `TurnEnded` (also after an `interrupt`)."""
        while True:
            entry = await self._events.get()
            if entry is None:
                yield TurnEnded(status="failed", error=f"codex exited during the turn. {self.stderr_tail}".strip())
                return
            method, params = entry
            if params.get("turnId") not in (None, self.turn_id) and method != "turn/completed":
                continue
            event = decode_notification(method, params)
            if event is None or isinstance(event, TurnStarted):
                continue
            if isinstance(event, TurnEnded):
                self.turn_id = None  # before the yield: a caller that stops at the end never resumes us
                yield event
                return
            yield event

    async def interrupt(self) -> None:
        """Ask codex to stop the running turn; it then ends with status `interrupted`."""
        if self.thread_id is None or self.turn_id is None:
            return
        with contextlib.suppress(CodexError):
            await self.request("turn/interrupt", {"threadId": self.thread_id, "turnId": self.turn_id}, timeout_s=5)

    async def close(self) -> None:
        """End codex and everything it started (its process group)."""
        if self.proc.stdin is not None and not self.proc.stdin.is_closing():
            self.proc.stdin.close()
        if self.proc.returncode is None:
            _signal_group(self.proc.pid, signal.SIGTERM)
            try:
                await within(self.proc.wait(), _STOP_GRACE_S)
            except TimeoutError:
                _signal_group(self.proc.pid, signal.SIGKILL)
                await self.proc.wait()
        else:
            _signal_group(self.proc.pid, signal.SIGKILL)  # commands codex left behind in its group
        for task in (self._reader, self._stderr_reader):
            if task is not None:
                # Bounded: a command that left the group could hold the pipes open.
                await asyncio.wait({task}, timeout=1.0)
                task.cancel()  # nothing when it has ended
                if task.done() and not task.cancelled():
                    task.exception()  # a reader's failure ended the turns that saw it; retrieved here


def turn_for(turns: list[dict[str, Any]], client_id: str) -> dict[str, Any] | None:
    """The thread's turn (`CodexAppServer.turns`) that was started with `client_id` (by an earlier
    attempt), if any."""
    for turn in reversed(turns):
        items = turn.get("items")
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and item.get("type") == "userMessage" and item.get("clientId") == client_id:
                found: dict[str, Any] = turn
                return found
    return None


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
