"""The Convex backend: the official client, run in a child process so that a dead or hanging
deployment never holds the UI's GIL (see `process.py`)."""

from jangar_tui.store.convex.store import ConvexStore

__all__ = ["ConvexStore"]
