"""The embedded backend: SQLite in WAL mode in the data dir (docs/architecture.md, "Backends")."""

from jangar_tui.store.sqlite.store import LocalStore

__all__ = ["LocalStore"]
