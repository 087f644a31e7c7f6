"""Which user messages wait for their reply: the one being thought about and those queued."""

from __future__ import annotations

from typing import Any

from jangar_tui.chat.pending import WAITING_AT_MOST_MS, waiting
from jangar_tui.models import ChatMessage, Role

NOW = 10_000_000


def message(id: str, role: Role, at: int, metadata: Any = None) -> ChatMessage:
    return ChatMessage(
        _id=id, sessionId="s", role=role, content=id, metadata=metadata, createdAt=NOW - at, updatedAt=NOW - at
    )


def reply(id: str, to: str, status: str, at: int) -> ChatMessage:
    return message(id, Role.ASSISTANT, at, {"kind": "chatReply", "replyTo": to, "status": status})


def test_the_oldest_unanswered_message_is_thought_about_and_the_rest_are_queued() -> None:
    rows = [
        message("u1", Role.USER, 9000),
        reply("r1", "u1", "completed", 8000),
        message("u2", Role.USER, 3000),
        message("u3", Role.USER, 2000),
        message("u4", Role.USER, 1000),
    ]
    now = waiting(rows, NOW)
    assert now.thinking is not None and now.thinking.id == "u2"
    assert now.queued == {"u3", "u4"}


def test_while_a_reply_streams_every_unanswered_message_is_queued() -> None:
    rows = [
        message("u1", Role.USER, 9000),
        message("u2", Role.USER, 8000),  # sent before the reply's first words were stored
        reply("r1", "u1", "streaming", 7000),
        message("u3", Role.USER, 1000),
    ]
    now = waiting(rows, NOW)
    assert now.thinking is None and now.queued == {"u2", "u3"}


def test_a_failure_note_answers_a_message_and_old_unanswered_ones_are_history() -> None:
    rows = [
        message("old", Role.USER, WAITING_AT_MOST_MS + 1),
        message("u1", Role.USER, 5000),
        message("n1", Role.SYSTEM, 4000, {"kind": "chatError", "replyTo": "u1"}),
        message("u2", Role.USER, 3000),
        message("u3", Role.USER, 2500),
    ]
    now = waiting(rows, NOW)
    assert now.thinking is not None and now.thinking.id == "u2"
    assert now.queued == {"u3"}
    assert waiting([*rows[:3], reply("r2", "u2", "interrupted", 1000)], NOW).thinking is None


def test_an_assistant_message_that_names_no_message_answers_those_before_it() -> None:
    rows = [
        message("u1", Role.USER, 9000),
        message("a1", Role.ASSISTANT, 8000),  # written before replies named their message
        message("u2", Role.USER, 7000),
        message("w", Role.ASSISTANT, 6000, {"kind": "workOrderResult"}),
        message("u3", Role.USER, 1000),
    ]
    now = waiting(rows, NOW)
    assert now.thinking is not None and now.thinking.id == "u3"
    assert now.queued == frozenset()
