"""ConvexStore with the REAL convex client against endpoints that never answer or refuse.

The official client (0.8.x) holds the GIL while it waits on the network; `ConvexStore` runs it in
a worker process so the event loop never freezes. These tests prove it: while calls time out and
watchers report the outage, another asyncio task ticking every 10 ms never waits more than
MAX_TICK_GAP_S between ticks. A client holding the GIL would stall the loop for a whole timeout
(TIMEOUT_S), twice the bound; the bound itself leaves room for a loaded machine, since this is a
freeze check, not a speed target (the gap seen is printed; run with -s).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Self

import psutil
import pytest

from jangar_tui.config import load_settings
from jangar_tui.models import ConnectionState, ErrorCode, JangarError
from jangar_tui.store.convex.process import WorkerTransport
from jangar_tui.store.convex.store import ConvexStore

MAX_TICK_GAP_S = 1.0
TIMEOUT_S = 2.0
SECRET = "prod:outage-test|5ec7e7-admin-key-never-shown"
TOKEN = "eyJhbGciOi.outage-test-token.never-shown"


class SilentListener:
    """Accepts TCP connections and never sends a byte: a hung deployment."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self.sock.close()
        for conn in self.accepted:
            conn.close()
        self._thread.join(timeout=5)


@pytest.fixture
def silent() -> Iterator[SilentListener]:
    listener = SilentListener()
    try:
        yield listener
    finally:
        listener.close()


@pytest.fixture
def refusing_port() -> int:
    """A port nothing listens on (bound, then closed): connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Ticker:
    """Measures how long the event loop leaves a 10 ms sleeper waiting."""

    def __init__(self) -> None:
        self.max_gap = 0.0
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            self.max_gap = max(self.max_gap, now - last)
            self.ticks += 1
            last = now

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0.05)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def make_store(tmp_path: Path, port: int) -> tuple[ConvexStore, WorkerTransport]:
    settings = load_settings(
        {
            "CONVEX_URL": f"http://127.0.0.1:{port}",
            "CONVEX_ADMIN_KEY": SECRET,
            "JANGAR_CONVEX_AUTH_TOKEN": TOKEN,
            "JANGAR_CONVEX_TIMEOUT": str(TIMEOUT_S),
            "JANGAR_USER": "alice",
            "JANGAR_DATA_DIR": str(tmp_path),
        }
    )
    transport = WorkerTransport(
        settings.convex_url or "",
        admin_key=settings.convex_admin_key,
        auth_token=settings.convex_auth_token,
        timeout_s=settings.convex_timeout_s,
        probe_interval_s=0.2,
        retry_interval_s=0.1,
        offline_after_s=1.0,
    )
    return ConvexStore(settings, transport=transport), transport


async def collect(iterator: AsyncIterator[Any], into: list[Any]) -> None:
    async for item in iterator:
        into.append(item)


async def wait_until(condition: Any, what: str, limit_s: float = 20) -> None:
    """Poll `condition` (a guard against hangs, not a speed assertion)."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.02)


def assert_no_secret(texts: list[str]) -> None:
    for text in texts:
        assert SECRET not in text and TOKEN not in text, f"a secret leaked into: {text[:200]}"


async def _outage_round(store: ConvexStore, port: int, caplog: pytest.LogCaptureFixture) -> list[str]:
    """Calls fail with UNAVAILABLE and watchers report the outage; returns every error text."""
    states: list[ConnectionState] = []
    snapshots: list[Any] = []
    watchers = [
        asyncio.create_task(collect(store.watch_connection(), states)),
        asyncio.create_task(collect(store.watch_sessions("alice"), snapshots)),
        asyncio.create_task(collect(store.watch_messages("0000000000000010000chat_sessions"), snapshots)),
    ]
    texts: list[str] = []
    try:
        with pytest.raises(JangarError) as query:
            await store.list_sessions("alice")
        assert query.value.code is ErrorCode.UNAVAILABLE
        assert f"127.0.0.1:{port}" in query.value.message
        with pytest.raises(JangarError) as mutation:
            await store.create_session("alice", "lost?")
        assert mutation.value.code is ErrorCode.UNAVAILABLE
        texts += [str(query.value), str(mutation.value)]

        await wait_until(lambda: ConnectionState.RECONNECTING in states, "RECONNECTING")
        await wait_until(lambda: ConnectionState.OFFLINE in states, "OFFLINE")
        assert ConnectionState.LIVE not in states
        assert snapshots == [], "nothing can be known about the data during the outage"
    finally:
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
    return texts + [record.getMessage() for record in caplog.records] + [repr(store), store.description]


@pytest.mark.slow
async def test_silent_endpoint_never_freezes_the_event_loop(
    tmp_path: Path, silent: SilentListener, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store, transport = make_store(tmp_path, silent.port)
    try:
        async with Ticker() as ticker:
            texts = await _outage_round(store, silent.port, caplog)
            with pytest.raises(JangarError) as timed_out:
                await store.get_session("0000000000000010000chat_sessions")
        assert f"did not answer within {TIMEOUT_S:g}s" in timed_out.value.message
        assert "may or may not have been saved" in texts[1], "a lost mutation says so"
        assert "saved" not in texts[0], "a lost query does not talk about saving"
        assert silent.accepted, "the real client did try to connect"
        assert ticker.ticks > 50
        print(f"max tick gap: {ticker.max_gap * 1000:.1f} ms over {ticker.ticks} ticks")
        assert ticker.max_gap < MAX_TICK_GAP_S, f"the event loop froze for {ticker.max_gap * 1000:.0f} ms"
        assert_no_secret(texts + [str(timed_out.value)] + [r.getMessage() for r in caplog.records])
    finally:
        await store.close()
    assert transport.worker_pid is None


@pytest.mark.slow
async def test_refused_endpoint_reports_unavailable_and_offline(
    tmp_path: Path, refusing_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store, _ = make_store(tmp_path, refusing_port)
    try:
        async with Ticker() as ticker:
            texts = await _outage_round(store, refusing_port, caplog)
        print(f"max tick gap: {ticker.max_gap * 1000:.1f} ms over {ticker.ticks} ticks")
        assert ticker.max_gap < MAX_TICK_GAP_S, f"the event loop froze for {ticker.max_gap * 1000:.0f} ms"
        assert_no_secret(texts)
    finally:
        await store.close()


async def test_a_worker_that_misses_its_deadline_is_killed_and_replaced(tmp_path: Path, silent: SilentListener) -> None:
    store, transport = make_store(tmp_path, silent.port)
    pids: list[int] = []

    async def failing_call() -> None:
        call = asyncio.create_task(store.list_sessions("alice"))
        await wait_until(lambda: transport.worker_pid is not None or call.done(), "a worker")
        if transport.worker_pid is not None:
            pids.append(transport.worker_pid)
        with pytest.raises(JangarError) as raised:
            await call
        assert raised.value.code is ErrorCode.UNAVAILABLE

    try:
        await failing_call()
        await failing_call()
        assert len(pids) == 2 and pids[0] != pids[1], "each stuck worker is replaced by a fresh one"
        assert not psutil.pid_exists(pids[0]) or psutil.Process(pids[0]).status() == psutil.STATUS_ZOMBIE
    finally:
        await store.close()
    leftovers = [p for p in psutil.Process().children(recursive=True) if "convex_worker" in " ".join(p.cmdline())]
    assert leftovers == [], "close() must not leave a worker behind"


async def test_the_key_travels_over_stdin_not_argv_or_environment(tmp_path: Path, silent: SilentListener) -> None:
    store, transport = make_store(tmp_path, silent.port)
    watcher = store.watch_sessions("alice")
    pending = asyncio.create_task(anext(watcher))
    try:
        await wait_until(lambda: transport.worker_pid is not None, "a worker")
        worker = psutil.Process(transport.worker_pid)
        assert_no_secret([" ".join(worker.cmdline())] + [f"{k}={v}" for k, v in worker.environ().items()])
    finally:
        pending.cancel()
        await asyncio.gather(pending, return_exceptions=True)
        await store.close()


async def test_the_store_says_why_it_is_not_connected_refused_apart_from_no_answer(
    tmp_path: Path, silent: SilentListener, refusing_port: int
) -> None:
    """Refused at once (nothing listens) and no answer (a hung deployment) read differently, in
    the store's connection detail the status line shows."""
    details = {}
    for name, port in (("refused", refusing_port), ("silent", silent.port)):
        store, _ = make_store(tmp_path / name, port)
        try:
            states = store.watch_connection()
            first = await asyncio.wait_for(anext(states), 10)
            assert first != ConnectionState.LIVE
            details[name] = store.connection_detail
            await states.aclose()
        finally:
            await store.close()
    assert details["refused"] == "connection refused"
    assert details["silent"] == f"no answer within {TIMEOUT_S:g} s"
