"""Fixtures for the UI tests: no developer configuration, a real LocalStore in a tmp dir, a
frozen clock for the relative times, and bounded waits for the live updates."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from ui_support import BASE_MS, FakeTime

from jangar_tui.service import JangarService
from jangar_tui.store.sqlite import db as _sqlite_db
from jangar_tui.store.sqlite.store import LocalStore


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The developer's JANGAR_*/CONVEX_*/TEMPORAL_* settings must not leak into the UI tests."""
    for name in list(os.environ):
        if name.startswith(("JANGAR_", "CONVEX_", "TEMPORAL_")) or name == "NO_COLOR":
            monkeypatch.delenv(name)
    yield


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """Freeze the store's timestamps (and the UI's clock, when given to the app) at fixed values."""
    clock = FakeTime(BASE_MS)
    monkeypatch.setattr(_sqlite_db, "now_ms", clock)
    return clock


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[LocalStore]:
    store = LocalStore(tmp_path / "jangar.sqlite3")
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def service(store: LocalStore) -> JangarService:
    return JangarService(store, "alice")
