"""Agents Jangar drives: the Codex CLI (`codex app-server`), shared by chat turns and work orders."""
