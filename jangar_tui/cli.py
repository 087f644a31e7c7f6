"""`jangar` entry point (placeholder until the UI lands)."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    print("Jangar TUI: the UI is not built yet.")
    return 0
