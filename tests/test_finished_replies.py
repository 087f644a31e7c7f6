"""Which chat replies finished, across sessions, from the session list and the newest messages."""

from __future__ import annotations

from typing import Any

from jangar_tui.chat.finished import FinishedReplies, MovedSessions
from jangar_tui.models import ChatMessage, ChatSession, Role

START = 1_000


def session(sid: str, last: int) -> ChatSession:
    return ChatSession(_id=sid, userId="u", title=sid, lastMessageAt=last, createdAt=0, updatedAt=last)


def message(mid: str, role: Role, metadata: Any, updated: int, created: int = 0) -> ChatMessage:
    return ChatMessage(
        _id=mid, sessionId="s", role=role, content="x", metadata=metadata, createdAt=created, updatedAt=updated
    )


def reply(mid: str, status: str, updated: int, reply_to: str = "u1") -> ChatMessage:
    return message(mid, Role.ASSISTANT, {"kind": "chatReply", "status": status, "replyTo": reply_to}, updated)


def test_sessions_move_when_their_last_message_time_grows() -> None:
    moved = MovedSessions(since=START)
    assert [s.id for s in moved.moved([session("a", 500), session("b", 1_500)])] == ["b"]  # b moved since the start
    assert moved.moved([session("a", 500), session("b", 1_500)]) == []
    assert [s.id for s in moved.moved([session("a", 2_000), session("b", 1_500), session("c", 1_200)])] == ["a", "c"]


def test_a_reply_is_told_once_when_it_completes_or_fails() -> None:
    finished = FinishedReplies(since=START)
    assert finished.newly_finished([reply("r1", "streaming", 1_100)]) == []
    news = finished.newly_finished([reply("r1", "completed", 1_200)])
    assert [(m.id, outcome) for m, outcome in news] == [("r1", "completed")]
    assert finished.newly_finished([reply("r1", "completed", 1_200)]) == []  # once
    # A short reply that started and ended between two looks, after the start: news.
    assert [o for _, o in finished.newly_finished([reply("r2", "completed", 1_300, "u2")])] == ["completed"]
    # One that ended before the app started: not news.
    assert finished.newly_finished([reply("r0", "completed", 900, "u0")]) == []


def test_interrupted_replies_and_other_messages_are_not_news() -> None:
    finished = FinishedReplies(since=START)
    finished.newly_finished([reply("r1", "streaming", 1_100)])
    assert finished.newly_finished([reply("r1", "interrupted", 1_200)]) == []
    others = [
        message("m1", Role.USER, None, 1_300),
        message("m2", Role.ASSISTANT, {"kind": "note"}, 1_300),
        message("m3", Role.SYSTEM, {"kind": "workOrderResult", "replyTo": "u9"}, 1_300),
        message("m4", Role.ASSISTANT, {"kind": "chatReply", "status": "completed"}, 1_300),  # answers nothing
    ]
    assert finished.newly_finished(others) == []


def test_a_failed_turn_is_told_once_whether_as_a_failed_reply_or_a_note() -> None:
    finished = FinishedReplies(since=START)
    error = message("e1", Role.SYSTEM, {"kind": "chatError", "replyTo": "u1"}, 1_300, created=1_300)
    failed = reply("r1", "failed", 1_250)
    news = finished.newly_finished([error, failed])
    assert [(m.id, o) for m, o in news] == [("r1", "failed")]
    # A note alone (no reply could start) is a failed reply.
    lone = message("e2", Role.SYSTEM, {"kind": "chatError", "replyTo": "u2"}, 1_400)
    assert [o for _, o in finished.newly_finished([lone])] == ["failed"]
