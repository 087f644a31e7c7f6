"""A stand-in model server for the real Codex CLI: the Responses streaming API (SSE) on 127.0.0.1.

Codex only ever calls `POST /v1/responses` (streaming). Each request takes the next scripted
`Reply` (or the default one) and streams it as the events codex expects:
`response.created` → `response.output_item.added` → `response.output_text.delta` ×N →
`response.output_item.done` → `response.completed` (with usage), then the connection closes.
A reply may instead be a `function_call` (`exec_command`), a `custom_tool_call` (`apply_patch`),
a `response.failed`, or stream slowly;
a `gate` holds a stream mid-way until the test releases it (interrupts, ended processes).

Every request body is recorded (`requests`) so tests assert on what codex sent, e.g. that the
second turn of a thread carries the first. The server runs in a thread, so codex processes
started by any process (the worker, a subprocess) reach it.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# Codex knows this slug; an unknown one adds an error item to every turn.
MODEL = "gpt-5.5"


@dataclass
class Reply:
    """One scripted response. `text` is split into `deltas` pieces, `delay_s` apart."""

    text: str = "Hello from the stand-in."
    deltas: int = 3
    delay_s: float = 0.0
    tool_command: str | None = None  # a function_call exec_command instead of text
    patch: str | None = None  # a custom_tool_call apply_patch (the patch text) instead of text
    fail: str | None = None  # response.failed with this message
    reasoning: str | None = None  # a reasoning item with this summary, before the text
    gate: threading.Event | None = None  # stream stops after `gate_after` deltas until set
    gate_after: int = 1
    input_tokens: int = 100
    output_tokens: int = 10


@dataclass
class StandIn:
    port: int
    server: ThreadingHTTPServer
    replies: list[Reply] = field(default_factory=list)
    default: Reply = field(default_factory=Reply)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *replies: Reply) -> None:
        with self.lock:
            self.replies.extend(replies)

    def next_reply(self, body: dict[str, Any]) -> Reply:
        with self.lock:
            self.requests.append(body)
            return self.replies.pop(0) if self.replies else self.default

    def user_texts(self, index: int) -> list[str]:
        """The user messages request `index` carried, oldest first."""
        return _texts(self.requests[index], "user")

    def assistant_texts(self, index: int) -> list[str]:
        return _texts(self.requests[index], "assistant")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _texts(body: dict[str, Any], role: str) -> list[str]:
    texts: list[str] = []
    for item in body.get("input", []):
        if item.get("type") == "message" and item.get("role") == role:
            for part in item.get("content", []):
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    texts.append(part["text"])
    return texts


def chunks(text: str, count: int) -> list[str]:
    count = max(1, min(count, len(text) or 1))
    size, extra = divmod(len(text), count)
    pieces, start = [], 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        pieces.append(text[start:end])
        start = end
    return [p for p in pieces if p] or [text]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    standin: StandIn  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.send_error(404)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if not self.path.rstrip("/").endswith("/responses"):
            self.send_error(404)
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self.send_error(400)
            return
        reply = self.standin.next_reply(body)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._stream(reply)

    def _send(self, event: dict[str, Any]) -> None:
        data = json.dumps(event)
        self.wfile.write(f"event: {event['type']}\ndata: {data}\n\n".encode())
        self.wfile.flush()

    def _stream(self, reply: Reply) -> None:
        response_id = f"resp_{uuid.uuid4().hex[:12]}"
        self._send({"type": "response.created", "response": {"id": response_id}})
        if reply.fail is not None:
            self._send(
                {
                    "type": "response.failed",
                    "response": {"id": response_id, "error": {"code": "server_error", "message": reply.fail}},
                }
            )
            return
        output_index = 0
        if reply.reasoning is not None:
            item = {
                "type": "reasoning",
                "id": f"rs_{uuid.uuid4().hex[:12]}",
                "summary": [{"type": "summary_text", "text": reply.reasoning}],
            }
            self._send({"type": "response.output_item.added", "output_index": output_index, "item": item})
            self._send(
                {
                    "type": "response.reasoning_summary_text.delta",
                    "item_id": item["id"],
                    "output_index": output_index,
                    "summary_index": 0,
                    "delta": reply.reasoning,
                }
            )
            self._send({"type": "response.output_item.done", "output_index": output_index, "item": item})
            output_index += 1
        if reply.tool_command is not None:
            call = {
                "type": "function_call",
                "id": f"fc_{uuid.uuid4().hex[:12]}",
                "call_id": f"call_{uuid.uuid4().hex[:12]}",
                "name": "exec_command",
                "arguments": json.dumps({"cmd": reply.tool_command}),
            }
            self._send({"type": "response.output_item.added", "output_index": output_index, "item": call})
            self._send({"type": "response.output_item.done", "output_index": output_index, "item": call})
        elif reply.patch is not None:
            patch = {
                "type": "custom_tool_call",
                "id": f"ctc_{uuid.uuid4().hex[:12]}",
                "call_id": f"call_{uuid.uuid4().hex[:12]}",
                "name": "apply_patch",
                "input": reply.patch,
            }
            self._send({"type": "response.output_item.added", "output_index": output_index, "item": patch})
            self._send({"type": "response.output_item.done", "output_index": output_index, "item": patch})
        else:
            message_id = f"msg_{uuid.uuid4().hex[:12]}"
            empty = {"type": "message", "id": message_id, "role": "assistant", "content": []}
            self._send({"type": "response.output_item.added", "output_index": output_index, "item": empty})
            for n, piece in enumerate(chunks(reply.text, reply.deltas)):
                if reply.gate is not None and n == reply.gate_after:
                    reply.gate.wait(60)
                if reply.delay_s and n:
                    time.sleep(reply.delay_s)
                self._send(
                    {
                        "type": "response.output_text.delta",
                        "item_id": message_id,
                        "output_index": output_index,
                        "content_index": 0,
                        "delta": piece,
                    }
                )
            done = {**empty, "content": [{"type": "output_text", "text": reply.text, "annotations": []}]}
            self._send({"type": "response.output_item.done", "output_index": output_index, "item": done})
        usage = {
            "input_tokens": reply.input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": reply.output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": reply.input_tokens + reply.output_tokens,
        }
        self._send({"type": "response.completed", "response": {"id": response_id, "usage": usage}})


def start_standin(default: Reply | None = None) -> StandIn:
    handler = type("StandInHandler", (_Handler,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    standin = StandIn(port=server.server_address[1], server=server, default=default or Reply())
    handler.standin = standin
    threading.Thread(target=server.serve_forever, name="codex-standin", daemon=True).start()
    return standin


def write_codex_home(home: Path, base_url: str, *, env_key: str | None = None) -> Path:
    """A CODEX_HOME whose config keeps codex on the stand-in: no analytics, plugins or retries.
    `env_key`: the provider needs an API key from this variable."""
    home.mkdir(parents=True, exist_ok=True)
    key_line = f'env_key = "{env_key}"\n' if env_key else ""
    (home / "config.toml").write_text(
        f'model = "{MODEL}"\n'
        'model_provider = "standin"\n'
        "check_for_update_on_startup = false\n"
        "[model_providers.standin]\n"
        'name = "stand-in"\n'
        f'base_url = "{base_url}"\n'
        'wire_api = "responses"\n'
        "stream_max_retries = 0\n"
        "request_max_retries = 0\n"
        f"{key_line}"
        "[analytics]\n"
        "enabled = false\n"
        "[features]\n"
        "plugins = false\n"
        "unbounded_connection_retries = false\n",
        encoding="utf-8",
    )
    return home


@contextlib.contextmanager
def standin_server(default: Reply | None = None) -> Iterator[StandIn]:
    standin = start_standin(default)
    try:
        yield standin
    finally:
        standin.close()


REPO = Path(__file__).resolve().parent.parent
CODEX_BIN = REPO / "node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex"
