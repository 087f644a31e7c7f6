"""A conversation as a work-order prompt: the formatting rule, and the service reading it from a store."""

from __future__ import annotations

from jangar_tui.conversation import LEFT_OUT, PREFILL_MAX_BYTES, conversation_prompt
from jangar_tui.models import PAGE_SIZE_MAX, PROMPT_MAX_BYTES, ChatMessage, Role
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore


def message(role: Role, content: str, n: int = 0) -> ChatMessage:
    return ChatMessage.model_validate(
        {
            "_id": f"m{n}",
            "_creationTime": n,
            "sessionId": "s",
            "role": role.value,
            "content": content,
            "createdAt": n,
            "updatedAt": n,
        }
    )


def newest_first(*pairs: tuple[Role, str]) -> list[ChatMessage]:
    """Messages given oldest first, returned as a store's pages hand them over."""
    return [message(role, content, n) for n, (role, content) in enumerate(pairs)][::-1]


def test_speakers_in_order_without_system_notes_or_blank_messages() -> None:
    prompt = conversation_prompt(
        newest_first(
            (Role.USER, "Can we add a dark mode?"),
            (Role.ASSISTANT, "Yes:\n\n1. tokens\n2. toggle"),
            (Role.SYSTEM, "Work order “Dark mode” is running."),
            (Role.USER, "   "),
            (Role.USER, "  Ship the toggle first.\n"),
        )
    )
    assert prompt == (
        "User:\nCan we add a dark mode?\n\nAssistant:\nYes:\n\n1. tokens\n2. toggle\n\nUser:\nShip the toggle first."
    )


def test_nothing_to_say_is_an_empty_prompt() -> None:
    assert conversation_prompt([]) == ""
    assert conversation_prompt(newest_first((Role.SYSTEM, "Work order started."))) == ""


def test_a_long_conversation_keeps_the_newest_messages_whole_and_says_what_is_left_out() -> None:
    # 40 messages of ~2 KB each: about 80 KB, more than the prefill's 16 KiB.
    pairs = [(Role.USER if n % 2 == 0 else Role.ASSISTANT, f"message {n:02d} " + "é" * 1000) for n in range(40)]
    prompt = conversation_prompt(newest_first(*pairs))
    assert PREFILL_MAX_BYTES - 2100 < len(prompt.encode()) <= PREFILL_MAX_BYTES <= PROMPT_MAX_BYTES
    assert prompt.startswith(LEFT_OUT + "\n\n")
    assert prompt.endswith(pairs[-1][1])
    kept = [n for n in range(40) if f"message {n:02d} " in prompt]
    assert kept == list(range(kept[0], 40)), "a contiguous run up to the newest"
    assert kept[0] > 0
    for n in kept:  # none of them cut
        assert pairs[n][1] in prompt


def test_a_newest_message_longer_than_a_prompt_keeps_its_end() -> None:
    content = "start " + "ü" * PREFILL_MAX_BYTES + " the end"  # twice the prefill, in two-byte characters
    prompt = conversation_prompt(newest_first((Role.USER, "older"), (Role.ASSISTANT, content)))
    assert PREFILL_MAX_BYTES - 2 <= len(prompt.encode()) <= PREFILL_MAX_BYTES
    assert prompt.startswith(LEFT_OUT + "\n\nAssistant:\n…ü")
    assert prompt.endswith("ü the end")
    assert "older" not in prompt and "start" not in prompt


async def test_the_service_reads_pages_until_the_prompt_is_full(local_store: LocalStore) -> None:
    service = JangarService(local_store, "alice")
    session = await service.new_session("Long talk")
    total = PAGE_SIZE_MAX * 2 + 50  # three pages
    for n in range(total):
        await local_store.append_message(session.id, Role.USER if n % 2 == 0 else Role.ASSISTANT, f"line {n}")
    prompt = await service.conversation_prompt(session.id)
    assert prompt.startswith("User:\nline 0\n\nAssistant:\nline 1\n\n")
    assert prompt.endswith(f"Assistant:\nline {total - 1}")
    assert prompt.count("line ") == total

    other = await service.new_session("Longer talk")
    for n in range(3 * PAGE_SIZE_MAX):  # ~1 KB each: the first page already fills the prefill
        await local_store.append_message(other.id, Role.USER, f"{n:04d} " + "x" * 1000)
    prompt = await service.conversation_prompt(other.id)
    assert prompt.startswith(LEFT_OUT)
    assert prompt.endswith(f"{3 * PAGE_SIZE_MAX - 1:04d} " + "x" * 1000)
    assert len(prompt.encode()) <= PREFILL_MAX_BYTES
