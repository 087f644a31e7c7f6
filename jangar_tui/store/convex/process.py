"""`WorkerTransport`: the official Convex client, run in a child process, driven from asyncio.

The convex 0.8.x client holds the GIL while it waits on the network, so calling it from the UI
process (even from a thread) freezes the event loop for as long as a dead endpoint keeps it
waiting. This transport keeps the client in `worker` and talks to it over pipes with
asyncio streams: the event loop only ever waits on file descriptors.

- Every call has a deadline (`timeout_s`). A worker that misses it is killed; the caller gets
  `ConvexUnavailable` naming the host; the next call or the monitor starts a fresh worker.
  Starting a worker is not part of that deadline: the worker says when its client is ready, and
  its start has a deadline of its own (`WORKER_START_TIMEOUT_S`), so a busy machine that is slow
  to start a Python process is never taken for a deployment that does not answer.
- Subscriptions are remembered here and sent again to every new worker, so watchers resume on
  their own after an outage.
- The client exposes no connection state, so a monitor task asks the deployment over HTTP (see
  `convex_probe`) and pings the worker: LIVE while both answer, RECONNECTING after a failure,
  OFFLINE once failures have lasted `offline_after_s`.
- Secrets reach the worker over its stdin only, and every text coming back from it is scrubbed
  of them before it is raised or logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from jangar_tui.aio import cancel_and_wait, within
from jangar_tui.models import ConnectionState
from jangar_tui.store.convex.probe import probe, url_host
from jangar_tui.store.convex.transport import ConvexFunctionError, ConvexUnavailable, decode_value, encode_args

log = logging.getLogger("jangar_tui.store.convex")

_LINE_LIMIT = 256 * 1024 * 1024  # a page of 200 messages of 256 KiB each fits in one line
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
_CLOSED = object()
# A process start and the client's imports: about a second on a busy machine, far more when it
# is swapping. Generous, since nothing is sent to the deployment before the worker is ready.
WORKER_START_TIMEOUT_S = 30.0


def _new_future() -> asyncio.Future[bool]:
    return asyncio.get_running_loop().create_future()


@dataclass
class _Worker:
    """A running worker process and the subscriptions it has been sent."""

    proc: asyncio.subprocess.Process
    subscribed: set[int] = field(default_factory=set)
    # True once its client is ready, False when it went away before that.
    ready: asyncio.Future[bool] = field(default_factory=_new_future)

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None


@dataclass
class _Subscription:
    ident: int
    name: str
    wire_args: Any
    inbox: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)


class WorkerTransport:
    """A `ConvexTransport` over the official client in a child process (see module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        admin_key: SecretStr | None = None,
        auth_token: SecretStr | None = None,
        timeout_s: float = 10.0,
        probe_interval_s: float = 5.0,
        retry_interval_s: float = 1.0,
        offline_after_s: float | None = None,
    ) -> None:
        self._url = url
        self._host = url_host(url)
        self._admin_key = admin_key
        self._auth_token = auth_token
        self._timeout_s = timeout_s
        self._probe_interval_s = probe_interval_s
        self._retry_interval_s = retry_interval_s
        self._offline_after_s = 3 * timeout_s if offline_after_s is None else offline_after_s

        self._ids = itertools.count(1)
        self._worker: _Worker | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._spawn_lock = asyncio.Lock()
        self._pending: dict[int, tuple[_Worker, asyncio.Future[dict[str, Any]]]] = {}
        self._subs: dict[int, _Subscription] = {}

        self._state = ConnectionState.RECONNECTING
        self._detail: str | None = None  # why the deployment is not answering, while it is not
        self._failing_since: float | None = None
        self._listeners: set[asyncio.Queue[Any]] = set()
        self._monitor: asyncio.Task[None] | None = None
        self._probed = asyncio.Event()
        self._closed = False

    def __repr__(self) -> str:
        return f"WorkerTransport({self._host})"

    @property
    def host(self) -> str:
        return self._host

    @property
    def connection_detail(self) -> str | None:
        return None if self._state == ConnectionState.LIVE else self._detail

    @property
    def worker_pid(self) -> int | None:
        """The current worker's process id (tests check restarts with it)."""
        return self._worker.proc.pid if self._worker is not None and self._worker.alive else None

    # -- calls -------------------------------------------------------------------------------
    async def query(self, name: str, args: dict[str, Any]) -> Any:
        return await self._call("query", name, args)

    async def mutation(self, name: str, args: dict[str, Any]) -> Any:
        return await self._call("mutation", name, args)

    async def _call(self, op: str, name: str, args: dict[str, Any]) -> Any:
        self._start_monitor()
        try:
            reply = await self._request({"op": op, "name": name, "args": encode_args(args)})
        except ConvexUnavailable as exc:
            if op == "mutation" and exc.maybe_delivered:
                raise ConvexUnavailable(f"{exc} The change may or may not have been saved.") from None
            raise
        self._note_answer()
        if "error" in reply:
            error = reply["error"]
            data = decode_value(error["data"]) if "data" in error else None
            raise ConvexFunctionError(self._scrub(error["message"]), data, is_convex_error="data" in error)
        return decode_value(reply["value"])

    async def _request(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send one request to the worker and wait for its reply, within `timeout_s` in all."""
        if self._closed:
            raise ConvexUnavailable(f"The connection to Convex at {self._host} is closed.")
        ident = next(self._ids)
        worker = await self._ensure_worker()
        try:
            async with asyncio.timeout(self._timeout_s):
                future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
                self._pending[ident] = (worker, future)
                self._send(worker, {**message, "id": ident})
                assert worker.proc.stdin is not None
                await worker.proc.stdin.drain()
                reply = await future
        except TimeoutError:
            self._note_failure()
            await self._kill(worker, "it did not answer in time")
            raise ConvexUnavailable(
                f"Convex at {self._host} did not answer within {self._timeout_s:g}s; "
                "check the network and the deployment URL.",
                maybe_delivered=True,
            ) from None
        except ConnectionError:  # the worker's stdin is gone: it died before reading the request
            self._note_failure()
            raise ConvexUnavailable(f"Lost the connection worker for Convex at {self._host}; retrying.") from None
        finally:
            self._pending.pop(ident, None)
        error = reply.get("error")
        if error is not None and error.get("kind") == "transport":
            self._note_failure()
            raise ConvexUnavailable(
                f"Convex at {self._host} is not reachable ({self._scrub(error['message'])}); "
                "check the network and the deployment URL."
            )
        return reply

    # -- subscriptions -----------------------------------------------------------------------
    async def subscribe(self, name: str, args: dict[str, Any]) -> AsyncIterator[Any]:
        sub = _Subscription(next(self._ids), name, encode_args(args))
        self._subs[sub.ident] = sub
        self._start_monitor()
        try:
            # When no worker starts, the monitor starts one later, which subscribes to everything.
            with contextlib.suppress(ConvexUnavailable):
                worker = await self._ensure_worker()
                # A worker started by `_ensure_worker` already got every subscription.
                if sub.ident not in worker.subscribed:
                    self._send_subscribe(worker, sub)
            while True:
                message = await sub.inbox.get()
                if message is _CLOSED:
                    return
                error = message.get("error")
                if error is None:
                    self._note_answer()
                    yield decode_value(message["value"])
                elif error.get("kind") == "function":
                    data = decode_value(error["data"]) if "data" in error else None
                    raise ConvexFunctionError(self._scrub(error["message"]), data, is_convex_error="data" in error)
                # A transport error: that worker exits and its successor subscribes again.
        finally:
            self._subs.pop(sub.ident, None)
            current = self._worker
            if current is not None and current.alive:
                with contextlib.suppress(ConnectionError):
                    self._send(current, {"op": "unsubscribe", "sub": sub.ident})

    def _send_subscribe(self, worker: _Worker, sub: _Subscription) -> None:
        self._send(worker, {"op": "subscribe", "sub": sub.ident, "name": sub.name, "args": sub.wire_args})
        worker.subscribed.add(sub.ident)

    # -- connection state ----------------------------------------------------------------------
    async def watch_connection(self) -> AsyncIterator[ConnectionState]:
        inbox: asyncio.Queue[Any] = asyncio.Queue()
        self._listeners.add(inbox)
        self._start_monitor()
        try:
            # Report what the first probe found rather than a guess.
            with contextlib.suppress(TimeoutError):
                await within(self._probed.wait(), self._timeout_s + 1)
            last = self._state
            yield last
            while (state := await inbox.get()) is not _CLOSED:
                if state != last:
                    last = state
                    yield state
        finally:
            self._listeners.discard(inbox)

    def _note_answer(self) -> None:
        self._failing_since = None
        self._detail = None
        self._set_state(ConnectionState.LIVE)

    def _note_failure(self, detail: str | None = None) -> None:
        if detail is not None:
            self._detail = detail
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = now
        offline = now - self._failing_since >= self._offline_after_s
        self._set_state(ConnectionState.OFFLINE if offline else ConnectionState.RECONNECTING)

    def _set_state(self, state: ConnectionState) -> None:
        if state == self._state or self._closed:
            return
        previous, self._state = self._state, state
        if state == ConnectionState.LIVE:
            log.info("Convex at %s is answering.", self._host)
        elif previous == ConnectionState.LIVE or state == ConnectionState.OFFLINE:
            log.warning("Convex at %s is not answering (%s).", self._host, state.value)
        for inbox in self._listeners:
            inbox.put_nowait(state)

    def _start_monitor(self) -> None:
        if self._monitor is None and not self._closed:
            self._monitor = asyncio.get_running_loop().create_task(self._monitor_loop())

    async def _monitor_loop(self) -> None:
        while True:
            failure = await probe(self._url, min(self._timeout_s, 5.0))
            if failure is None and (self._subs or self.worker_pid is not None):
                # The deployment answers HTTP; make sure the worker (and so the subscriptions) does too.
                try:
                    await self._request({"op": "ping"})
                except ConvexUnavailable:
                    failure = "the Convex client process does not answer"
            if failure is None:
                self._note_answer()
            else:
                self._note_failure(failure)
            self._probed.set()
            await asyncio.sleep(self._retry_interval_s if failure else self._probe_interval_s)

    # -- the worker process --------------------------------------------------------------------
    async def _ensure_worker(self) -> _Worker:
        """The running worker, started when there is none, once its client is ready;
        `ConvexUnavailable` when it is not ready within `WORKER_START_TIMEOUT_S`."""
        async with self._spawn_lock:
            worker = self._worker
            if worker is None or not worker.alive:
                worker = await self._spawn_worker()
            try:
                async with asyncio.timeout(WORKER_START_TIMEOUT_S):
                    # Shielded: a caller that gives up does not cancel the start for the next one.
                    ready = await asyncio.shield(worker.ready)
            except TimeoutError:
                ready = False
                await self._kill(worker, "it did not start in time")
                why = f"did not start within {WORKER_START_TIMEOUT_S:g}s"
            else:
                why = "stopped while it started"
            if not ready:
                self._note_failure(f"the Convex client process {why}")
                raise ConvexUnavailable(f"The Convex client process for {self._host} {why}; retrying.")
            return worker

    async def _spawn_worker(self) -> _Worker:
        """Start a worker and send it the connection and every subscription (it reads them once
        its client is ready)."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "jangar_tui.store.convex.worker",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=_LINE_LIMIT,
            env=env,
        )
        worker = _Worker(proc)
        init: dict[str, str] = {"url": self._url}
        if self._admin_key is not None:
            init["adminKey"] = self._admin_key.get_secret_value()
        if self._auth_token is not None:
            init["authToken"] = self._auth_token.get_secret_value()
        self._send(worker, init)
        for sub in list(self._subs.values()):
            self._send_subscribe(worker, sub)
        self._worker = worker
        self._spawn_task(self._read_replies(worker))
        self._spawn_task(self._read_log(worker))
        log.debug("Started a Convex worker (pid %s) for %s.", proc.pid, self._host)
        return worker

    def _send(self, worker: _Worker, message: dict[str, Any]) -> None:
        assert worker.proc.stdin is not None
        worker.proc.stdin.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")

    async def _read_replies(self, worker: _Worker) -> None:
        assert worker.proc.stdout is not None
        try:
            while line := await worker.proc.stdout.readline():
                message = json.loads(line)
                if "ready" in message:
                    if not worker.ready.done():
                        worker.ready.set_result(True)
                elif "id" in message:
                    entry = self._pending.get(message["id"])
                    if entry is not None and not entry[1].done():
                        entry[1].set_result(message)
                elif "sub" in message and (sub := self._subs.get(message["sub"])) is not None:
                    sub.inbox.put_nowait(message)
        except (ValueError, ConnectionError) as exc:
            log.debug("Convex worker %s sent something unreadable: %s", worker.proc.pid, type(exc).__name__)
        finally:
            if self._worker is worker and not self._closed:
                self._note_failure()  # it died on its own: its client broke or it crashed
            self._forget(worker, "the connection worker stopped")

    async def _read_log(self, worker: _Worker) -> None:
        assert worker.proc.stderr is not None
        while line := await worker.proc.stderr.readline():
            log.debug("convex worker %s: %s", worker.proc.pid, self._scrub(line.decode(errors="replace").rstrip()))

    async def _kill(self, worker: _Worker, reason: str) -> None:
        log.debug("Stopping Convex worker %s: %s.", worker.proc.pid, reason)
        if worker.alive:
            with contextlib.suppress(ProcessLookupError):
                worker.proc.kill()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await worker.proc.wait()
        self._forget(worker, reason)

    def _forget(self, worker: _Worker, reason: str) -> None:
        """Fail what waits on a worker that is gone; the next call or the monitor starts another."""
        if self._worker is worker:
            self._worker = None
        if not worker.ready.done():
            worker.ready.set_result(False)
        for ident, (owner, future) in list(self._pending.items()):
            if owner is worker and not future.done():
                # The request may have reached Convex before the worker went away.
                future.set_exception(
                    ConvexUnavailable(f"Convex at {self._host}: {reason}; retrying.", maybe_delivered=True)
                )
                self._pending.pop(ident, None)

    def _spawn_task(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _scrub(self, text: str) -> str:
        for secret in (self._admin_key, self._auth_token):
            if secret is not None and secret.get_secret_value():
                text = text.replace(secret.get_secret_value(), "***")
        return text

    # -- lifecycle -----------------------------------------------------------------------------
    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._monitor is not None:
            await cancel_and_wait(self._monitor)
        for sub in self._subs.values():
            sub.inbox.put_nowait(_CLOSED)
        for inbox in self._listeners:
            inbox.put_nowait(_CLOSED)
        worker = self._worker
        if worker is not None:
            assert worker.proc.stdin is not None
            worker.proc.stdin.close()  # the worker exits at end of input, unless it is stuck in a call
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1):
                    await worker.proc.wait()
            await self._kill(worker, "closing")
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
