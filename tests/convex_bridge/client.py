"""Python side of the convex-test bridge: the Node process and a `ConvexTransport` over it.

`ConvexBridge` owns one `vite-node tests/convex_bridge/bridge.ts` process (the real schema and
functions of convex/, run by convex-test). It is synchronous and thread-safe so a module-scoped
fixture can share it between tests whatever their event loops; `BridgeTransport` drives it from
asyncio through a thread (plain pipe I/O, which releases the GIL).

convex-test has no push, so `BridgeTransport.subscribe` re-runs its query after every mutation
made through the transport and, like a deployment, delivers a result only when it changed: the
same snapshots a Convex subscription would deliver. With `journals=True` it also keeps a paginated
subscription's page end where its first answer put it, as a deployment's query journal does
(rows inserted into the page's range make it grow, rows removed make it shrink); without, every
re-run pages afresh, so page boundaries move, as on a backend without journals.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from jangar_tui.models import ConnectionState
from jangar_tui.store.convex.transport import ConvexFunctionError, decode_value, encode_args

REPO_ROOT = Path(__file__).resolve().parents[2]
BRIDGE_SCRIPT = Path(__file__).with_name("bridge.ts")
VITE_NODE = REPO_ROOT / "node_modules" / ".bin" / "vite-node"
_NOTHING = object()


class BridgeError(RuntimeError):
    """The bridge process itself failed (not a Convex function error)."""


class ConvexBridge:
    def __init__(self) -> None:
        if not VITE_NODE.exists():
            raise BridgeError(f"{VITE_NODE} is missing: run `npm ci` (make setup)")
        self._proc = subprocess.Popen(
            [str(VITE_NODE), str(BRIDGE_SCRIPT.relative_to(REPO_ROOT))],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._stderr: list[str] = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _drain_stderr(self) -> None:
        assert self._proc.stderr is not None
        for line in self._proc.stderr:
            self._stderr.append(line)

    def request(self, kind: str, name: str | None = None, wire_args: Any = None) -> dict[str, Any]:
        """One request, answered in order. Returns the raw reply `{"value"} | {"error"}`."""
        with self._lock:
            assert self._proc.stdin is not None and self._proc.stdout is not None
            ident = next(self._ids)
            message = {"id": ident, "kind": kind, "name": name, "args": wire_args}
            try:
                self._proc.stdin.write(json.dumps(message) + "\n")
                self._proc.stdin.flush()
            except BrokenPipeError:
                raise BridgeError(f"the bridge process died: {''.join(self._stderr)[-2000:]}") from None
            line = self._proc.stdout.readline()
            if not line:
                raise BridgeError(f"the bridge process died: {''.join(self._stderr)[-2000:]}")
            reply = json.loads(line)
            if reply.get("id") != ident:
                raise BridgeError(f"out-of-order reply {reply!r} to request {ident}")
            return reply

    def reset(self) -> None:
        """A fresh, empty backend (every contract scenario starts on one)."""
        self.request("reset")

    def close(self) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


class BridgeTransport:
    """A `ConvexTransport` over a `ConvexBridge`, raising what `WorkerTransport` raises."""

    host = "convex-test"
    connection_detail = None  # the bridge is always there

    def __init__(self, bridge: ConvexBridge, *, journals: bool = False) -> None:
        self._bridge = bridge
        self._journals = journals
        self._changes = 0
        self._changed: asyncio.Condition | None = None
        self._closed = False
        self.calls: list[tuple[str, str, dict[str, Any]]] = []  # what the adapter sent, for tests

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def _call(self, kind: str, name: str, args: dict[str, Any]) -> Any:
        self.calls.append((kind, name, args))
        reply = await asyncio.to_thread(self._bridge.request, kind, name, encode_args(args))
        if "error" in reply:
            error = reply["error"]
            has_data = "data" in error
            raise ConvexFunctionError(
                error["message"], decode_value(error["data"]) if has_data else None, is_convex_error=has_data
            )
        return decode_value(reply["value"])

    async def query(self, name: str, args: dict[str, Any]) -> Any:
        return await self._call("query", name, args)

    async def mutation(self, name: str, args: dict[str, Any]) -> Any:
        try:
            return await self._call("mutation", name, args)
        finally:
            # A refused mutation changes nothing, but re-running costs little and proves it.
            async with self._condition():
                self._changes += 1
                self._condition().notify_all()

    async def subscribe(self, name: str, args: dict[str, Any]) -> AsyncIterator[Any]:
        seen = -1
        previous: Any = _NOTHING
        while not self._closed:
            async with self._condition():
                await self._condition().wait_for(lambda seen=seen: self._changes != seen or self._closed)
                seen = self._changes
            if self._closed:
                return
            value = await self._call("query", name, args)
            if self._journals and "paginationOpts" in args and "endCursor" not in args["paginationOpts"]:
                # Pin the page's end (a finished page's cursor means "to the end of the range").
                args = {**args, "paginationOpts": {**args["paginationOpts"], "endCursor": value["continueCursor"]}}
            if value != previous:  # a deployment pushes a query's result only when it changed
                previous = value
                yield value

    async def watch_connection(self) -> AsyncIterator[ConnectionState]:
        yield ConnectionState.LIVE
        async with self._condition():
            await self._condition().wait_for(lambda: self._closed)

    async def close(self) -> None:
        self._closed = True
        async with self._condition():
            self._condition().notify_all()
