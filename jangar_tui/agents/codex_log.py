"""What of a Codex turn goes into a work order's event log, and how it reads there.

`log_events` turns one driver event (`codex_events`) into event-log entries: commands when they
start and, once ended, with their exit code and output; file changes, agent messages, reasoning
summaries, usage (codex's running total for the thread) and the turn's own error. Deltas are left
out: the completed item carries the whole text. Knows nothing of the store; sizes are bounded by
the writer (`event_log`).
"""

from __future__ import annotations

from typing import Any

from jangar_tui.agents.codex_events import CodexEvent, ItemCompleted, ItemStarted, TurnEnded, UsageUpdated
from jangar_tui.models import EventKind, NewEvent


def log_events(event: CodexEvent) -> list[NewEvent]:
    if isinstance(event, ItemStarted) and event.item.get("type") == "commandExecution":
        # A build or a test run takes minutes: the log (and the panel's row) shows it from its
        # start, not only once it has ended; the completed item follows with its exit code.
        return [_command(event.item)]
    if isinstance(event, ItemCompleted):
        entry = _item(event.item)
        return [] if entry is None else [entry]
    if isinstance(event, UsageUpdated):
        total = event.total
        text = (
            f"tokens: {total.inputTokens:,} in ({total.cachedInputTokens:,} cached), "
            f"{total.outputTokens:,} out, {total.totalTokens:,} total"
        )
        return [NewEvent(kind=EventKind.USAGE, text=text, metadata=total.model_dump())]
    if isinstance(event, TurnEnded) and event.status != "completed":
        reason = event.error or f"The Codex turn ended {event.status}."
        return [NewEvent(kind=EventKind.ERROR, text=reason, metadata={"status": event.status})]
    return []


def _command(item: dict[str, Any]) -> NewEvent:
    """A command as it starts (status `inProgress`, no exit code) or as it ended, with its output."""
    output = item.get("aggregatedOutput") or ""
    command = str(item.get("command", ""))
    metadata = {
        "exitCode": item.get("exitCode") if isinstance(item.get("exitCode"), int) else None,
        "status": str(item.get("status", "")),
        "durationMs": item.get("durationMs") if isinstance(item.get("durationMs"), int) else None,
    }
    text = f"{command}\n{output}" if output else command
    return NewEvent(kind=EventKind.COMMAND, text=text, metadata=metadata)


def _item(item: dict[str, Any]) -> NewEvent | None:
    kind = item.get("type")
    if kind == "commandExecution":
        return _command(item)
    if kind == "fileChange":
        files = [_change(change) for change in item.get("changes") or [] if isinstance(change, dict)]
        text = "\n".join(f"{f['kind']} {f['path']}" for f in files)
        return NewEvent(
            kind=EventKind.FILE_CHANGE, text=text, metadata={"files": files, "status": str(item.get("status", ""))}
        )
    if kind == "agentMessage":
        return NewEvent(kind=EventKind.AGENT_MESSAGE, text=str(item.get("text", "")))
    if kind == "reasoning":
        summary = "\n".join(str(part) for part in item.get("summary") or [] if part)
        return NewEvent(kind=EventKind.REASONING, text=summary) if summary else None
    return None


def _change(change: dict[str, Any]) -> dict[str, str]:
    kind = change.get("kind")
    name = kind.get("type") if isinstance(kind, dict) else kind
    return {"path": str(change.get("path", "")), "kind": str(name or "update")}
