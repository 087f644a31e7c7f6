"""Which user messages still wait for their reply: the one being answered, and those queued.

The chat workflow answers a session's user messages one at a time, in order (`ChatWorkflow`). A
user message is answered once a reply (`chatReply`) or a failure note (`chatError`) names it in
`replyTo`, or when an assistant message that names none follows it (older data, another
client). Of the messages not answered yet, the oldest is being thought about unless a reply is
streaming (then it waits too); the others are queued. Messages older than `WAITING_AT_MOST_MS`
are left out: a conversation from before any agent answered is history, not a queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jangar_tui.chat.reply import ERROR_KIND, REPLY_KIND, STREAMING
from jangar_tui.models import ChatMessage, Role

WAITING_AT_MOST_MS = 30 * 60 * 1000


@dataclass(frozen=True)
class Waiting:
    thinking: ChatMessage | None = None  # the message whose reply has not started yet
    queued: frozenset[str] = field(default_factory=frozenset)  # ids of the messages behind it


def waiting(messages: list[ChatMessage], now_ms: int) -> Waiting:
    """The waiting user messages among `messages` (oldest first, as the transcript holds them)."""
    answered: set[str] = set()
    streaming = False
    unanswered: list[ChatMessage] = []
    for message in messages:
        meta = message.metadata if isinstance(message.metadata, dict) else {}
        reply_to = meta.get("replyTo") if meta.get("kind") in (REPLY_KIND, ERROR_KIND) else None
        if isinstance(reply_to, str):
            answered.add(reply_to)
            streaming = streaming or (meta.get("kind") == REPLY_KIND and meta.get("status") == STREAMING)
        elif message.role == Role.ASSISTANT:
            unanswered = []  # an answer that names no message (older data, another client) answers all before it
        elif message.role == Role.USER and now_ms - message.createdAt <= WAITING_AT_MOST_MS:
            unanswered.append(message)
    unanswered = [m for m in unanswered if m.id not in answered]
    if not unanswered:
        return Waiting()
    if streaming:
        return Waiting(queued=frozenset(m.id for m in unanswered))
    return Waiting(thinking=unanswered[0], queued=frozenset(m.id for m in unanswered[1:]))
