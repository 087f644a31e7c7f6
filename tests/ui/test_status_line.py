"""The status line: the store's description and Temporal's address, each shown once and right."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from textual.widgets import Static
from ui_support import screen_text, until

from jangar_tui.models import ChatSession, ConnectionState, TemporalState
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore
from jangar_tui.ui.app import JangarApp
from jangar_tui.ui.widgets.status.status_line import StatusLine


def status_text(pilot: object) -> str:
    return screen_text(pilot).splitlines()[0].strip()  # type: ignore[arg-type]


async def test_store_and_temporal_each_shown_once(service: JangarService, store: LocalStore) -> None:
    app = JangarApp(service)
    async with app.run_test(size=(200, 20)) as pilot:
        await until(pilot, lambda: "● live" in status_text(pilot), "the store's connection")
        status = app.screen.query_one(StatusLine)
        # The local store: its kind up front, its path last; Temporal not started in this app.
        assert status_text(pilot) == f"Jangar  data embedded ● live  │  Temporal not configured  │  {store.path}"

        status.temporal = TemporalState(address="10.1.2.3:7233", up=True)
        await pilot.pause()
        line = status_text(pilot)
        assert line == f"Jangar  data embedded ● live  │  Temporal 10.1.2.3:7233 ● up  │  {store.path}"

        # A Convex host and an embedded Temporal that is down: every part once, in its place.
        status.backend = "convex (happy-otter-123.convex.cloud)"
        status.connection = ConnectionState.RECONNECTING
        status.temporal = TemporalState(address="127.0.0.1:7999", embedded=True, up=False, detail="refused")
        await pilot.pause()
        line = status_text(pilot)
        assert line == (
            "Jangar  data convex ◌ reconnecting  │  Temporal embedded port 7999 ✗ down (refused)"
            "  │  happy-otter-123.convex.cloud"
        )
        assert line.count("port 7999") == 1 and line.count("happy-otter-123.convex.cloud") == 1


async def test_at_80_columns_both_states_stay_in_sight(service: JangarService, store: LocalStore) -> None:
    app = JangarApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "● live" in status_text(pilot), "the store's connection")
        status = app.screen.query_one(StatusLine)
        status.backend = "convex (happy-otter-123.convex.cloud)"
        status.connection = ConnectionState.OFFLINE
        status.temporal = TemporalState(address="127.0.0.1:7233", embedded=True, up=True)
        await pilot.pause()
        wide = "Jangar  data convex ✗ offline  │  Temporal embedded port 7233 ● up  │  happy-…"
        assert status_text(pilot) == wide  # it fits: the usual spacing, the host cut
        status.temporal = TemporalState(address="127.0.0.1:7233", embedded=True, up=False, detail="connection refused")
        await pilot.pause()
        # Too long for 80 columns: the name and the wide gaps give way so both states stay in sight.
        line = status_text(pilot)
        assert line.startswith("data convex ✗ offline │ Temporal embedded port 7233 ✗ down (conn"), line
        assert line.endswith("…") and len(line) == 78, line


class UnreachableStore(LocalStore):
    """A backend that refuses connections: offline at once, no snapshot ever."""

    connection_detail = "connection refused"

    async def watch_connection(self) -> AsyncIterator[ConnectionState]:  # type: ignore[override]
        yield ConnectionState.OFFLINE
        await asyncio.Event().wait()

    async def watch_sessions(self, userId: str, limit: int = 200) -> AsyncIterator[list[ChatSession]]:  # type: ignore[override]
        await asyncio.Event().wait()
        yield []


async def test_an_unreachable_backend_says_why_instead_of_loading_forever(tmp_path: Path) -> None:
    store = UnreachableStore(tmp_path / "jangar.sqlite3")
    try:
        app = JangarApp(JangarService(store, "tester"))
        async with app.run_test(size=(120, 30)) as pilot:
            await until(pilot, lambda: "✗ offline" in status_text(pilot), "the store's connection")
            assert "data embedded ✗ offline (connection refused)" in status_text(pilot)
            # The sidebar (narrow: its text wraps) and the transcript say why, not "Loading…".
            await until(pilot, lambda: "Cannot reach the data: connection refused." in screen_text(pilot), "why")
            assert "Cannot reach the data:" in app.screen.query_one("#sessions-empty", Static).render().plain
            assert "Loading…" not in screen_text(pilot)
    finally:
        await store.close()
