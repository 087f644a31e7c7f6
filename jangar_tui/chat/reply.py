"""A reply as it grows: its text and what the agent did, kept within the store's size limits.

`Reply` folds Codex events into the assistant message's `content` and `metadata`. Its metadata
(`kind: "chatReply"`) is what the transcript reads and what the next turn looks up:

    status      streaming | completed | interrupted | failed
    replyTo     the user message it answers (a retried turn finds and reuses its reply)
    agent       "codex" or "command"
    threadId    the Codex thread (the next turn resumes it)
    turnId      the Codex turn that wrote it (the next turn knows whether a thread kept loaded
                is still current)
    reasoning   the reasoning summaries, bounded
    commands    [{command, exitCode, status, output}] with bounded command and output tails
    files       [{path, kind}]
    errors      codex's error messages
    usage       {turn, thread, session}: tokens of this turn, Codex's running total for the
                thread, and the session's total so far
"""

from __future__ import annotations

import json
from typing import Any

from jangar_tui.agents.codex_events import (
    CodexEvent,
    ItemCompleted,
    ReasoningDelta,
    TextDelta,
    ThreadReady,
    TokenCounts,
    TurnEnded,
    TurnStarted,
    UsageUpdated,
)
from jangar_tui.models import CONTENT_MAX_BYTES, METADATA_MAX_BYTES, ChatMessage

REPLY_KIND = "chatReply"
ERROR_KIND = "chatError"
STREAMING = "streaming"
FINAL_STATUSES = frozenset({"completed", "interrupted", "failed"})

REASONING_MAX_CHARS = 4000
COMMAND_MAX_CHARS = 400
OUTPUT_TAIL_CHARS = 1000
MAX_COMMANDS = 30
MAX_FILES = 100
MAX_ERRORS = 5
# Stay clear of the store's limit: JSON escaping and the usage block need room.
METADATA_BUDGET = METADATA_MAX_BYTES * 3 // 4
CONTENT_BUDGET = CONTENT_MAX_BYTES - 1024
CUT_NOTE = "\n\n[The reply was longer than a message may hold; its end is left out.]"


def is_reply(message: ChatMessage) -> bool:
    return isinstance(message.metadata, dict) and message.metadata.get("kind") == REPLY_KIND


def _tail(text: str, limit: int) -> str:
    return text if len(text) <= limit else "…" + text[-limit:]


def _head(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


class Reply:
    """The assistant message being written for `reply_to`."""

    def __init__(
        self,
        reply_to: str,
        agent: str,
        *,
        previous_thread_id: str | None = None,
        previous_thread_total: TokenCounts | None = None,
        previous_session_total: TokenCounts | None = None,
    ) -> None:
        self.reply_to = reply_to
        self.agent = agent
        self.text = ""
        self.status = STREAMING
        self.thread_id: str | None = None
        self.turn_id: str | None = None
        self.reasoning = ""
        self.commands: list[dict[str, Any]] = []
        self.commands_left_out = 0
        self.files: list[dict[str, str]] = []
        self.errors: list[str] = []
        self.previous_thread_id = previous_thread_id
        self._previous_thread_total = previous_thread_total or TokenCounts()
        self._previous_session_total = previous_session_total or TokenCounts()
        self.thread_total: TokenCounts | None = None
        self._text_bytes = 0
        self._cut = False

    # -- folding events ---------------------------------------------------------------------------

    def add_text(self, delta: str) -> None:
        if self._cut:
            return
        size = len(delta.encode("utf-8", errors="replace"))
        if self._text_bytes + size > CONTENT_BUDGET - len(CUT_NOTE.encode()):
            self._cut = True
            self.text += CUT_NOTE
            return
        self._text_bytes += size
        self.text += delta

    def apply(self, event: CodexEvent) -> None:
        if isinstance(event, ThreadReady):
            self.thread_id = event.threadId
        elif isinstance(event, TurnStarted):
            self.turn_id = event.turnId
        elif isinstance(event, TextDelta):
            self.add_text(event.delta)
        elif isinstance(event, ReasoningDelta):
            self.reasoning = _tail(self.reasoning + event.delta, REASONING_MAX_CHARS)
        elif isinstance(event, UsageUpdated):
            self.thread_total = event.total
        elif isinstance(event, ItemCompleted):
            self._item(event.item)
        elif isinstance(event, TurnEnded):
            self.status = event.status if event.status in FINAL_STATUSES else "completed"
            if event.error:
                self.add_error(event.error)

    def recover(self, turn: dict[str, Any]) -> None:
        """Take a turn codex already finished (an earlier attempt ran it, then its worker died)
        from the thread's record: its text and what it did. Codex does not record the turn's
        tokens, so the reply has no usage."""
        self.turn_id = str(turn.get("id", "")) or None
        for item in turn.get("items") or []:
            if not isinstance(item, dict):
                continue
            if item.get("type") == "agentMessage" and isinstance(item.get("text"), str):
                self.add_text(("\n\n" if self.text else "") + item["text"])
            else:
                self._item(item)
        self.status = "completed"

    def add_error(self, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(_head(message, 1000))

    def _item(self, item: dict[str, Any]) -> None:
        kind = item.get("type")
        if kind == "commandExecution":
            if len(self.commands) >= MAX_COMMANDS:
                self.commands_left_out += 1
                return
            exit_code = item.get("exitCode")
            self.commands.append(
                {
                    "command": _head(str(item.get("command", "")), COMMAND_MAX_CHARS),
                    "exitCode": exit_code if isinstance(exit_code, int) else None,
                    "status": str(item.get("status", "")),
                    "output": _tail(str(item.get("aggregatedOutput") or ""), OUTPUT_TAIL_CHARS),
                }
            )
        elif kind == "fileChange":
            for change in item.get("changes") or []:
                if isinstance(change, dict) and len(self.files) < MAX_FILES:
                    self.files.append({"path": str(change.get("path", "")), "kind": str(change.get("kind", ""))})
        elif kind == "agentMessage" and not self.text and isinstance(item.get("text"), str):
            self.add_text(item["text"])  # a reply that came whole, without deltas

    # -- what is stored ---------------------------------------------------------------------------

    def turn_usage(self) -> TokenCounts | None:
        if self.thread_total is None:
            return None
        same_thread = self.thread_id is not None and self.thread_id == self.previous_thread_id
        before = self._previous_thread_total if same_thread else TokenCounts()
        return self.thread_total.minus(before)

    def content(self) -> str:
        if self.text.strip():
            return self.text
        if self.status == STREAMING:
            return "…"
        if self.status == "interrupted":
            return "(interrupted before any text)"
        return "(no answer)"

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "kind": REPLY_KIND,
            "replyTo": self.reply_to,
            "status": self.status,
            "agent": self.agent,
        }
        if self.thread_id:
            meta["threadId"] = self.thread_id
        if self.turn_id:
            meta["turnId"] = self.turn_id
        if self.reasoning:
            meta["reasoning"] = self.reasoning
        if self.commands:
            meta["commands"] = self.commands
        if self.commands_left_out:
            meta["commandsLeftOut"] = self.commands_left_out
        if self.files:
            meta["files"] = self.files
        if self.errors:
            meta["errors"] = self.errors
        turn = self.turn_usage()
        if turn is not None and self.thread_total is not None:
            meta["usage"] = {
                "turn": turn.model_dump(),
                "thread": self.thread_total.model_dump(),
                "session": self._previous_session_total.plus(turn).model_dump(),
            }
        return _bounded(meta)


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def _bounded(meta: dict[str, Any]) -> dict[str, Any]:
    """Drop the bulkiest parts first (command output, then commands, files, reasoning) until it fits."""
    if _size(meta) <= METADATA_BUDGET:
        return meta
    meta["truncated"] = True
    for command in meta.get("commands", []):
        command["output"] = _tail(command["output"], 100)
    while _size(meta) > METADATA_BUDGET and meta.get("commands"):
        meta["commands"].pop(0)
        meta["commandsLeftOut"] = meta.get("commandsLeftOut", 0) + 1
    while _size(meta) > METADATA_BUDGET and meta.get("files"):
        meta["files"].pop()
    if _size(meta) > METADATA_BUDGET:
        meta["reasoning"] = _tail(meta.get("reasoning", ""), 500)
    if _size(meta) > METADATA_BUDGET:
        meta.pop("errors", None)
    return meta


def usage_of(message: ChatMessage, part: str) -> TokenCounts | None:
    """A reply's stored usage part (`turn`, `thread` or `session`)."""
    if not is_reply(message):
        return None
    assert isinstance(message.metadata, dict)
    usage = message.metadata.get("usage")
    if not isinstance(usage, dict) or not isinstance(usage.get(part), dict):
        return None
    try:
        return TokenCounts.model_validate(usage[part])
    except ValueError:
        return None


def session_total(messages_newest_last: list[ChatMessage]) -> TokenCounts | None:
    """The session's tokens so far: the newest reply's running session total."""
    for message in reversed(messages_newest_last):
        total = usage_of(message, "session")
        if total is not None:
            return total
    return None
