"""The one data set both UIs are measured on, generated deterministically.

1,000 sessions and 100,000 messages: one session of 10,000 messages (the newest one, so it is at
the top of both apps' lists), the other 90,000 spread over 999 sessions. Each session starts with
a system message, then alternates user/assistant and always ends with an assistant message (elia
would otherwise call its LLM on opening a chat whose last message is the user's).

Both seeders (`bench/jangar_side.py`, `bench/elia_side.py`) iterate over `sessions()` so the two
stores hold exactly the same titles, texts, roles and timestamps.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

SESSIONS = 1_000
MESSAGES = 100_000
LONG_SESSION_MESSAGES = 10_000

# Markers the benchmarks wait for on screen. No spaces, so no renderer can split them.
LONG_TITLE = "bench-long-10k"
LONG_LAST_MARKER = "NEWEST-MSG-10K"  # inside the long session's newest message
USER_ID = "bench"

_WORDS = [
    "deploy",
    "worker",
    "queue",
    "branch",
    "review",
    "merge",
    "test",
    "flaky",
    "timeout",
    "retry",
    "schedule",
    "cluster",
    "node",
    "pod",
    "image",
    "build",
    "cache",
    "lint",
    "format",
    "refactor",
    "module",
    "function",
    "class",
    "handler",
    "request",
    "response",
    "latency",
    "throughput",
    "index",
    "query",
    "page",
    "cursor",
    "session",
    "message",
    "order",
    "workflow",
    "activity",
    "signal",
    "history",
    "replay",
    "agent",
    "prompt",
    "patch",
    "commit",
    "diff",
    "issue",
    "label",
    "release",
    "tag",
    "rollback",
    "metric",
    "log",
    "trace",
    "span",
    "alert",
    "budget",
    "quota",
    "tenant",
    "region",
    "replica",
    "shard",
    "lease",
    "lock",
    "event",
    "stream",
]


def last_marker(index: int) -> str:
    """The word that starts session `index`'s newest message: seeing it means that page is shown."""
    return LONG_LAST_MARKER if index == 0 else f"NEWEST-MSG-{index:04d}"


def title(index: int) -> str:
    return LONG_TITLE if index == 0 else f"bench-session-{index:04d}"


@dataclass(frozen=True)
class Msg:
    role: str  # "system" | "user" | "assistant"
    content: str
    created_ms: int


@dataclass(frozen=True)
class Session:
    index: int
    title: str
    created_ms: int
    messages: list[Msg]

    @property
    def last_ms(self) -> int:
        return self.messages[-1].created_ms


def _text(rng: random.Random) -> str:
    """A paragraph or two of plausible chat text (about 40–110 words)."""
    sentences = []
    for _ in range(rng.randint(4, 9)):
        words = rng.choices(_WORDS, k=rng.randint(8, 14))
        sentences.append(" ".join(words).capitalize() + ".")
    cut = len(sentences) // 2
    return " ".join(sentences[:cut]) + "\n\n" + " ".join(sentences[cut:])


def _counts() -> list[int]:
    """Messages per session: index 0 is the long one, the rest share the remainder evenly."""
    rest, others = MESSAGES - LONG_SESSION_MESSAGES, SESSIONS - 1
    base, extra = divmod(rest, others)
    return [LONG_SESSION_MESSAGES] + [base + (1 if i < extra else 0) for i in range(others)]


def sessions(now_ms: int, seed: int = 5) -> Iterator[Session]:
    """All sessions, long one first. Timestamps end one minute before `now_ms`, the long
    session holding the newest message; older sessions go back about a month."""
    rng = random.Random(seed)
    step_ms = 1_000  # one message a second inside a session
    for index, count in enumerate(_counts()):
        # Session i ends i hours before the long one: lists order them 0, 1, 2, ...
        end_ms = now_ms - 60_000 - index * 3_600_000
        start_ms = end_ms - (count - 1) * step_ms
        messages = []
        for j in range(count):
            if j == 0:
                role, content = "system", "You are a helpful assistant for the bench."
            elif j == count - 1:
                role = "assistant"
                content = _text(rng)
                content = f"{last_marker(index)} {content}"
            else:
                role = "user" if j % 2 else "assistant"
                content = _text(rng)
            messages.append(Msg(role, content, start_ms + j * step_ms))
        yield Session(index, title(index), start_ms, messages)
