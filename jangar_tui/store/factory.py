"""Pick the backend the settings ask for."""

from __future__ import annotations

from jangar_tui.config import Settings
from jangar_tui.store.base import Store


def open_store(settings: Settings) -> Store:
    """LocalStore for `backend == "local"`, ConvexStore for `"convex"` (imported only then)."""
    if settings.backend == "convex":
        from jangar_tui.store.convex.store import ConvexStore

        return ConvexStore(settings)
    from jangar_tui.store.sqlite.store import LocalStore

    return LocalStore(settings)
