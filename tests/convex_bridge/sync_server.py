"""A stand-in Convex deployment for the official client: the sync WebSocket protocol, minimal.

It lets tests drive the REAL `convex` Python client (in `ConvexStore`'s worker process) end to
end without a Convex backend binary: the client speaks its WebSocket protocol to this server,
which runs every query and mutation through the convex-test bridge (the real functions and
validators of convex/). What it implements, after `convex/browser/sync/protocol` in node_modules:

- `Connect`, `Authenticate`, `ModifyQuerySet` (Add/Remove) -> one `Transition` each, whose
  `startVersion` is the version the client holds; queries answer `QueryUpdated`/`QueryFailed`;
- `Mutation` -> `MutationResponse` (with `ts`), then a `Transition` to that `ts` on every
  connection, carrying, as a deployment does, the queries whose result changed (that is how
  subscriptions see the change);
- plain HTTP requests (the adapter's liveness probe) get `200`.

Not implemented (Jangar does not use them): actions, journals, chunked transitions, pings.
`stop()` drops the listener and every connection (an outage); `start()` on the same port again
is the deployment coming back.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import struct
from typing import Any

from tests.convex_bridge.client import ConvexBridge

_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _u64(ts: int) -> str:
    return base64.b64encode(struct.pack("<Q", ts)).decode()


def _udf_path(path: str) -> str:
    module, _, function = path.rpartition(":")
    return f"{module.removesuffix('.js')}:{function}" if module else f"{path.removesuffix('.js')}:default"


class _WebSocket:
    """Server side of RFC 6455 over asyncio streams: text frames, ping/pong, close. No extensions."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def receive(self) -> str | None:
        """The next text message, or None when the peer closed."""
        message = b""
        while True:
            head = await self.reader.readexactly(2)
            fin, opcode = head[0] & 0x80, head[0] & 0x0F
            length = head[1] & 0x7F
            if length == 126:
                (length,) = struct.unpack(">H", await self.reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack(">Q", await self.reader.readexactly(8))
            mask = await self.reader.readexactly(4) if head[1] & 0x80 else b"\0\0\0\0"
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(await self.reader.readexactly(length)))
            if opcode == 0x8:
                self._frame(0x8, payload[:2])
                return None
            if opcode == 0x9:
                self._frame(0xA, payload)
                continue
            if opcode == 0xA:
                continue
            message += payload
            if fin:
                return message.decode()

    def send(self, message: dict[str, Any]) -> None:
        self._frame(0x1, json.dumps(message).encode())

    def _frame(self, opcode: int, payload: bytes) -> None:
        size = len(payload)
        if size < 126:
            header = struct.pack(">BB", 0x80 | opcode, size)
        elif size < 1 << 16:
            header = struct.pack(">BBH", 0x80 | opcode, 126, size)
        else:
            header = struct.pack(">BBQ", 0x80 | opcode, 127, size)
        self.writer.write(header + payload)


class _Client:
    """One WebSocket connection: its query set and the state version it holds."""

    def __init__(self, socket: _WebSocket) -> None:
        self.socket = socket
        self.queries: dict[int, tuple[str, Any]] = {}
        self.sent: dict[int, dict[str, Any]] = {}  # the last result sent for each query
        self.query_set = 0
        self.identity = 0
        # The version the client holds: the start of the next transition.
        self.held: dict[str, Any] = {"querySet": 0, "identity": 0, "ts": _u64(0)}

    def transition(self, ts: int, modifications: list[dict[str, Any]]) -> None:
        end = {"querySet": self.query_set, "identity": self.identity, "ts": _u64(ts)}
        for modification in modifications:
            if modification["type"] == "QueryRemoved":
                self.sent.pop(modification["queryId"], None)
            else:
                self.sent[modification["queryId"]] = modification
        self.socket.send(
            {"type": "Transition", "startVersion": self.held, "endVersion": end, "modifications": modifications}
        )
        self.held = end


class ConvexSyncServer:
    def __init__(self, bridge: ConvexBridge, port: int = 0) -> None:
        self.bridge = bridge
        self.port = port
        self._server: asyncio.Server | None = None
        self._clients: set[_Client] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()  # one function call at a time, like the bridge
        self._ts = 1
        self.connections = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """An outage: no more listener, every connection dropped."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._clients.clear()

    def _next_ts(self) -> int:
        self._ts += 1
        return self._ts

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
            if headers.get("upgrade", "").lower() != "websocket":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 14\r\nConnection: close\r\n\r\njangar-sync-0\n")
                await writer.drain()
                return
            accept = base64.b64encode(
                hashlib.sha1((headers["sec-websocket-key"] + _WS_GUID).encode()).digest()
            ).decode()
            writer.write(
                (
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
                ).encode()
            )
            self.connections += 1
            await self._serve(_Client(_WebSocket(reader, writer)))
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            self._writers.discard(writer)
            self._tasks.discard(task)
            writer.close()

    async def _serve(self, client: _Client) -> None:
        self._clients.add(client)
        try:
            while (text := await client.socket.receive()) is not None:
                await self._handle(client, json.loads(text))
                await client.socket.writer.drain()
        finally:
            self._clients.discard(client)

    async def _handle(self, client: _Client, message: dict[str, Any]) -> None:
        kind = message["type"]
        async with self._lock:
            if kind == "Authenticate":
                client.identity = message["baseVersion"] + 1
                client.transition(self._next_ts(), await self._run_all(client))
            elif kind == "ModifyQuerySet":
                modifications = []
                for change in message["modifications"]:
                    if change["type"] == "Add":
                        client.queries[change["queryId"]] = (_udf_path(change["udfPath"]), change["args"][0])
                        modifications.append(
                            await self._run_query(change["queryId"], *client.queries[change["queryId"]])
                        )
                    else:
                        client.queries.pop(change["queryId"], None)
                        modifications.append({"type": "QueryRemoved", "queryId": change["queryId"]})
                client.query_set = message["newVersion"]
                client.transition(self._next_ts(), modifications)
            elif kind == "Mutation":
                await self._mutation(client, message)
            elif kind == "Action":
                client.socket.send(
                    {
                        "type": "ActionResponse",
                        "requestId": message["requestId"],
                        "success": False,
                        "result": "actions are not supported by the test server",
                        "logLines": [],
                    }
                )

    async def _mutation(self, client: _Client, message: dict[str, Any]) -> None:
        reply = await asyncio.to_thread(
            self.bridge.request, "mutation", _udf_path(message["udfPath"]), message["args"][0]
        )
        response: dict[str, Any] = {"type": "MutationResponse", "requestId": message["requestId"], "logLines": []}
        ts = self._next_ts()
        if "error" in reply:
            response.update(success=False, result=_server_text(reply["error"]))
            if "data" in reply["error"]:
                response["errorData"] = reply["error"]["data"]
            client.socket.send(response)
            client.transition(ts, [])
            return
        client.socket.send({**response, "success": True, "result": reply["value"], "ts": _u64(ts)})
        for other in list(self._clients):
            results = await self._run_all(other)
            other.transition(ts, [result for result in results if other.sent.get(result["queryId"]) != result])
            with contextlib.suppress(ConnectionError):
                await other.socket.writer.drain()

    async def _run_all(self, client: _Client) -> list[dict[str, Any]]:
        return [await self._run_query(query_id, path, args) for query_id, (path, args) in client.queries.items()]

    async def _run_query(self, query_id: int, path: str, args: Any) -> dict[str, Any]:
        reply = await asyncio.to_thread(self.bridge.request, "query", path, args)
        if "error" not in reply:
            return {
                "type": "QueryUpdated",
                "queryId": query_id,
                "value": reply["value"],
                "logLines": [],
                "journal": None,
            }
        failed = {
            "type": "QueryFailed",
            "queryId": query_id,
            "errorMessage": _server_text(reply["error"]),
            "logLines": [],
            "journal": None,
        }
        if "data" in reply["error"]:
            failed["errorData"] = reply["error"]["data"]
        return failed


def _server_text(error: dict[str, Any]) -> str:
    # What a deployment sends: a request id banner before the function's error.
    return f"[Request ID: 0123456789abcdef] Server Error\n{error['message']}"
