"""Which chat replies finished while the app runs, across sessions (for alerts).

Every append and every growth of a reply bumps its session's `lastMessageAt`, so the session
list says which conversations moved (`MovedSessions`); the newest messages of those say which
replies ended (`FinishedReplies`). No watch per session.
"""

from __future__ import annotations

from collections.abc import Iterable

from jangar_tui.chat.reply import ERROR_KIND, REPLY_KIND
from jangar_tui.models import ChatMessage, ChatSession, Role

ANNOUNCED = frozenset({"completed", "failed"})  # an interrupted reply is not news: the operator stopped it


class MovedSessions:
    """Sessions whose conversation moved since the previous snapshot of the list. Before the
    first one, anything after `since` counts: a reply may be streaming as the app starts."""

    def __init__(self, since: int) -> None:
        self._since = since
        self._last: dict[str, int] = {}

    def moved(self, sessions: Iterable[ChatSession]) -> list[ChatSession]:
        moved: list[ChatSession] = []
        for session in sessions:
            if session.lastMessageAt > self._last.get(session.id, self._since):
                moved.append(session)
                self._last[session.id] = session.lastMessageAt
        return moved


def reply_outcome(message: ChatMessage) -> tuple[str, str] | None:
    """(the user message it answers, its status) of a reply; a system note that no reply could
    be written counts as a failed one; None for any other message."""
    metadata = message.metadata if isinstance(message.metadata, dict) else {}
    kind, reply_to = metadata.get("kind"), metadata.get("replyTo")
    if not isinstance(reply_to, str):
        return None
    if message.role == Role.ASSISTANT and kind == REPLY_KIND:
        status = metadata.get("status")
        return (reply_to, status) if isinstance(status, str) else None
    if message.role == Role.SYSTEM and kind == ERROR_KIND:
        return reply_to, "failed"
    return None


class FinishedReplies:
    """Replies that finished since `since`, each told once.

    A reply is news when it is seen `completed` or `failed` after being seen in another status,
    or first seen so and updated after `since` (a short reply can start and end between two
    looks). A failed turn may leave both a failed reply and a system note: one answer to one
    message is told once."""

    def __init__(self, since: int) -> None:
        self._since = since
        self._seen: dict[str, str] = {}  # message id -> its status when last seen
        self._told: set[str] = set()  # the user messages whose answer was told

    def newly_finished(self, messages: Iterable[ChatMessage]) -> list[tuple[ChatMessage, str]]:
        """(message, "completed" | "failed") for each that is news, oldest first."""
        news: list[tuple[ChatMessage, str]] = []
        for message in sorted(messages, key=lambda m: m.createdAt):
            outcome = reply_outcome(message)
            if outcome is None:
                continue
            reply_to, status = outcome
            before = self._seen.get(message.id)
            self._seen[message.id] = status
            if status not in ANNOUNCED or before == status or reply_to in self._told:
                continue
            if before is not None or message.updatedAt > self._since:
                self._told.add(reply_to)
                news.append((message, status))
        return news
