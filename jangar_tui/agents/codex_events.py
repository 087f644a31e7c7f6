"""What a Codex turn reports, as typed events (pydantic), decoded from `codex app-server` notifications.

Only what Jangar uses is modelled; the shapes follow `codex app-server generate-json-schema`
(protocol v2 of @openai/codex 0.171.0). Unknown notifications are ignored, unknown item types
are kept as `OtherItem` so nothing fails when codex adds one.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)


class ThreadReady(_Event):
    """The thread this turn runs on; `resumed` is False when a new thread was started."""

    kind: Literal["thread"] = "thread"
    threadId: str
    resumed: bool


class TurnStarted(_Event):
    kind: Literal["turnStarted"] = "turnStarted"
    turnId: str


class TextDelta(_Event):
    """A piece of the agent's answer, as the model writes it."""

    kind: Literal["text"] = "text"
    itemId: str
    delta: str


class ReasoningDelta(_Event):
    kind: Literal["reasoning"] = "reasoning"
    itemId: str
    delta: str


class TokenCounts(_Event):
    inputTokens: int = 0
    cachedInputTokens: int = 0
    outputTokens: int = 0
    reasoningOutputTokens: int = 0
    totalTokens: int = 0

    def minus(self, other: TokenCounts) -> TokenCounts:
        """The difference, never negative (a new thread's total restarts at zero)."""
        return TokenCounts(
            **{name: max(0, getattr(self, name) - getattr(other, name)) for name in TokenCounts.model_fields}
        )

    def plus(self, other: TokenCounts) -> TokenCounts:
        return TokenCounts(**{name: getattr(self, name) + getattr(other, name) for name in TokenCounts.model_fields})


class UsageUpdated(_Event):
    """Codex's running total for the whole thread (not this turn) and its last model call."""

    kind: Literal["usage"] = "usage"
    total: TokenCounts
    last: TokenCounts


class ItemStarted(_Event):
    """An item the turn has begun, as it stands at its start (`item`: the raw ThreadItem)."""

    kind: Literal["itemStarted"] = "itemStarted"
    item: dict[str, Any]


class ItemCompleted(_Event):
    """A finished item of the turn: `item` is the raw ThreadItem (see `summarize_item`)."""

    kind: Literal["item"] = "item"
    item: dict[str, Any]


class TurnEnded(_Event):
    """The end of a turn: `completed`, `interrupted` or `failed` (with codex's error message)."""

    kind: Literal["turnEnded"] = "turnEnded"
    status: str
    error: str | None = None


CodexEvent = (
    ThreadReady | TurnStarted | TextDelta | ReasoningDelta | UsageUpdated | ItemStarted | ItemCompleted | TurnEnded
)


def _counts(raw: Any) -> TokenCounts:
    if not isinstance(raw, dict):
        return TokenCounts()
    return TokenCounts(**{k: int(raw.get(k) or 0) for k in TokenCounts.model_fields if isinstance(raw.get(k), int)})


def decode_notification(method: str, params: dict[str, Any]) -> CodexEvent | None:
    """The event of one app-server notification, or None for those Jangar does not use."""
    if method == "turn/started":
        turn = params.get("turn") or {}
        return TurnStarted(turnId=str(turn.get("id", "")))
    if method == "item/agentMessage/delta":
        return TextDelta(itemId=str(params.get("itemId", "")), delta=str(params.get("delta", "")))
    if method == "item/reasoning/summaryTextDelta":
        return ReasoningDelta(itemId=str(params.get("itemId", "")), delta=str(params.get("delta", "")))
    if method == "thread/tokenUsage/updated":
        usage = params.get("tokenUsage") or {}
        return UsageUpdated(total=_counts(usage.get("total")), last=_counts(usage.get("last")))
    if method == "item/started":
        item = params.get("item")
        return ItemStarted(item=item) if isinstance(item, dict) else None
    if method == "item/completed":
        item = params.get("item")
        return ItemCompleted(item=item) if isinstance(item, dict) else None
    if method == "turn/completed":
        turn = params.get("turn") or {}
        error = turn.get("error")
        message = error.get("message") if isinstance(error, dict) else None
        return TurnEnded(status=str(turn.get("status", "completed")), error=message)
    return None
