"""The child process that runs the official `convex` client for `WorkerTransport`.

Why a process: the convex 0.8.x client holds the GIL while it waits on the network (measured: a
`query`, `mutation` or `subscribe` against an endpoint that accepts and never answers freezes
every Python thread of the process for as long as it waits). Run in the UI process, one slow call
would freeze the whole terminal UI. Here it can only freeze this worker, which the parent kills
and restarts when it stops answering.

Protocol: JSON lines. The first line on stdin is `{"url", "adminKey"?, "authToken"?}` (secrets
travel over the pipe, never argv or the environment); once its client exists the worker says
`{"ready": true}`. Then requests:
  {"id", "op": "query"|"mutation", "name", "args"}  ->  {"id", "value"} | {"id", "error"}
  {"id", "op": "ping"}                              ->  {"id", "value": "pong"}
  {"op": "subscribe", "sub", "name", "args"}        ->  {"sub", "value"} | {"sub", "error"} ...
                                                        (a value only when the result changed)
  {"op": "unsubscribe", "sub"}
Values and args are in Convex's JSON encoding. An error is `{"kind": "function"|"transport",
"message", "data"?}`. After a transport error the worker exits: its client is broken (the Rust
client reports "channel closed" once its connection task died) and the parent starts a fresh one.

The protocol goes to the original stdout; fd 1 is pointed at stderr before the client starts,
because the client writes Convex function logs to stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import sys
from typing import IO, Any

from convex.values import CoercibleToConvexValue, JsonValue, convex_to_json, json_to_convex

from convex import ConvexClient, ConvexError

# Messages of the Rust client that mean its connection machinery is gone, not that a function failed.
_TRANSPORT_MESSAGES = ("channel closed", "Failed to create PyConvexClient")
_LINE_LIMIT = 256 * 1024 * 1024
_PR_SET_PDEATHSIG = 1
_NOTHING = object()  # no result sent yet (a query may return null)


def _function_args(args: JsonValue) -> dict[str, CoercibleToConvexValue]:
    """A Convex function's arguments, always an object (a failure is reported like any other)."""
    value = json_to_convex(args)
    if not isinstance(value, dict):
        raise TypeError("the arguments of a Convex function must be an object")
    return {**value}


class _Worker:
    def __init__(self, client: ConvexClient, out: IO[str]) -> None:
        self._client = client
        self._out = out
        self._subs: dict[int, tuple[Any, asyncio.Task[None]]] = {}

    def emit(self, message: dict[str, Any]) -> None:
        self._out.write(json.dumps(message, separators=(",", ":")) + "\n")
        self._out.flush()

    def fail(self, key: str, ident: Any, exc: BaseException) -> None:
        """Report an exception; exit when it means the client is broken."""
        if isinstance(exc, ConvexError):
            error = {"kind": "function", "message": str(exc), "data": convex_to_json(exc.data)}
        else:
            message = str(exc) or type(exc).__name__
            kind = "transport" if any(text in message for text in _TRANSPORT_MESSAGES) else "function"
            error = {"kind": kind, "message": message}
        self.emit({key: ident, "error": error})
        if error["kind"] == "transport":
            self._out.flush()
            os._exit(3)

    def handle(self, request: dict[str, Any]) -> None:
        op = request.get("op")
        if op == "ping":
            self.emit({"id": request["id"], "value": "pong"})
        elif op in ("query", "mutation"):
            call = self._client.query if op == "query" else self._client.mutation
            try:
                # Blocks this process (GIL held) until Convex answers: the parent times it out.
                value = call(request["name"], _function_args(request["args"]))
            except Exception as exc:  # noqa: BLE001 - every failure is reported to the parent
                self.fail("id", request["id"], exc)
            else:
                self.emit({"id": request["id"], "value": convex_to_json(value)})
        elif op == "subscribe":
            sub_id = request["sub"]
            try:
                subscription = self._client.subscribe(request["name"], _function_args(request["args"]))
            except Exception as exc:  # noqa: BLE001
                self.fail("sub", sub_id, exc)
                return
            self._subs[sub_id] = (subscription, asyncio.create_task(self._pump(sub_id, subscription)))
        elif op == "unsubscribe":
            entry = self._subs.pop(request["sub"], None)
            if entry is not None:
                subscription, task = entry
                task.cancel()
                subscription.unsubscribe()

    async def _pump(self, sub_id: int, subscription: Any) -> None:
        last: Any = _NOTHING
        while True:
            try:
                # `anext` waits without holding the GIL: the worker stays responsive meanwhile.
                value = await subscription.__anext__()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a failing query may succeed after a change
                self.fail("sub", sub_id, exc)
                last = _NOTHING
                continue
            # The client yields every subscription's result again on every transition, changed or
            # not: pass on changes only (a watcher of many pages would otherwise resend them all).
            wire = convex_to_json(value)
            if wire != last:
                last = wire
                self.emit({"sub": sub_id, "value": wire})


async def _serve(worker: _Worker, reader: asyncio.StreamReader) -> None:
    while line := await reader.readline():
        worker.handle(json.loads(line))


def _tie_to_parent() -> None:
    """Die with the parent, even when stuck in a call that holds the GIL (no Python code runs then)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which stops us itself
    if sys.platform.startswith("linux"):
        parent = os.getppid()
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)


async def _main() -> None:
    _tie_to_parent()
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=_LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    init = json.loads(await reader.readline() or b"{}")
    client = ConvexClient(init["url"])
    if init.get("adminKey"):
        client.set_admin_auth(init["adminKey"])
    elif init.get("authToken"):
        client.set_auth(init["authToken"])
    worker = _Worker(client, out)
    worker.emit({"ready": True})  # the parent's call deadlines start now, not at our start
    await _serve(worker, reader)


if __name__ == "__main__":
    asyncio.run(_main())
