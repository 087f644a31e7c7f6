"""The embedded backend: SQLite in WAL mode in the data dir (DESIGN.md, "Backends")."""

from jangar_tui.store.sqlite.store import LocalStore

__all__ = ["LocalStore"]
