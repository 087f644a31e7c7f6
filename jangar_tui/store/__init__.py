"""Stores: the Store protocol and its backends (embedded SQLite, Convex adapter)."""

from jangar_tui.store.base import CONTRACT_FUNCTIONS, DEFAULT_PAGE_SIZE, Store

__all__ = ["CONTRACT_FUNCTIONS", "DEFAULT_PAGE_SIZE", "Store"]
