"""A conversation as a work-order prompt: what a new work order from a session starts with.

The agent gets the session's words, not Jangar's: user and assistant messages, oldest first, each
under its speaker. Jangar's own system notes ("Work order … is running") are left out, and so are
blank messages. The prefill holds at most PREFILL_MAX_BYTES: when the conversation is longer, the
newest text is kept and the beginning is dropped, and a first line says so. An older message is
dropped whole, never cut.
"""

from __future__ import annotations

from collections.abc import Iterable

from jangar_tui.models import PROMPT_MAX_BYTES, ChatMessage, Role

# A quarter of what a prompt may hold (PROMPT_MAX_BYTES): the newest ~2,500 words, which the
# operator can read in the form and still add instructions to without hitting the limit. Launching
# from a long chat also carries less text through the store, its watchers and Temporal (a small
# gain: bench/README.md).
PREFILL_MAX_BYTES = PROMPT_MAX_BYTES // 4
SPEAKERS = {Role.USER: "User", Role.ASSISTANT: "Assistant"}
LEFT_OUT = f"(The beginning of this conversation is left out: the newest {PREFILL_MAX_BYTES // 1024} KiB are here.)"
SEPARATOR = "\n\n"


def conversation_prompt(newest_first: Iterable[ChatMessage], max_bytes: int = PREFILL_MAX_BYTES) -> str:
    """The prompt for `newest_first` (a store's message pages, in their order), within `max_bytes`."""
    blocks: list[str] = []  # newest first
    used = 0
    # Room for the note and its separator, in case it is needed.
    budget = max_bytes - len(LEFT_OUT.encode()) - len(SEPARATOR)
    for message in newest_first:
        speaker = SPEAKERS.get(message.role)
        text = message.content.strip()
        if speaker is None or not text:
            continue
        block = f"{speaker}:\n{text}"
        size = len(block.encode()) + (len(SEPARATOR) if blocks else 0)
        if used + size > budget:
            if not blocks:  # the newest message alone is too long: its end is kept
                blocks.append(_tail(speaker, text, budget))
            return SEPARATOR.join([LEFT_OUT, *reversed(blocks)])
        blocks.append(block)
        used += size
    return SEPARATOR.join(reversed(blocks))


def _tail(speaker: str, text: str, max_bytes: int) -> str:
    """`speaker`'s block holding as much of the end of `text` as fits in `max_bytes`."""
    head = f"{speaker}:\n…"
    encoded = text.encode()
    start = len(encoded) - max(0, max_bytes - len(head.encode()))
    # A multi-byte character cut at the start of the slice is dropped, not half kept.
    return head + encoded[start:].decode(errors="ignore")
