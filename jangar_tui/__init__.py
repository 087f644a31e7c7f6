"""Jangar TUI: terminal control plane for Codex background workers."""
