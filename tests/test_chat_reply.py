"""A reply's content and metadata stay within the store's limits; its writes are batched."""

from __future__ import annotations

import asyncio
import json

import pytest

from jangar_tui.agents.codex_events import ItemCompleted, TextDelta, ThreadReady, TokenCounts, TurnEnded, UsageUpdated
from jangar_tui.chat.reply import METADATA_BUDGET, Reply
from jangar_tui.chat.writer import ReplyWriter
from jangar_tui.config import ConfigError, load_settings
from jangar_tui.models import CONTENT_MAX_BYTES
from jangar_tui.store.sqlite.store import LocalStore


def test_metadata_of_a_turn_with_huge_commands_fits_the_store() -> None:
    reply = Reply("msg_1", "codex")
    for n in range(200):
        item = {"type": "commandExecution", "command": "x" * 5000, "exitCode": n % 3, "aggregatedOutput": "o" * 50_000}
        reply.apply(ItemCompleted(item=item))
    reply.apply(ItemCompleted(item={"type": "fileChange", "changes": [{"path": "p" * 900, "kind": "add"}] * 300}))
    meta = reply.metadata()
    assert len(json.dumps(meta, separators=(",", ":")).encode()) <= METADATA_BUDGET
    assert meta["commandsLeftOut"] >= 170 and meta["truncated"] is True
    assert all(len(c["output"]) <= 1001 for c in meta["commands"])


def test_a_reply_longer_than_a_message_is_cut_with_a_note() -> None:
    reply = Reply("msg_1", "codex")
    for _ in range(300):
        reply.apply(TextDelta(itemId="a", delta="€" * 1000))
    assert len(reply.content().encode()) <= CONTENT_MAX_BYTES
    assert reply.content().endswith("its end is left out.]")


def test_usage_is_the_turns_share_of_the_threads_running_total() -> None:
    before = TokenCounts(inputTokens=300, outputTokens=30, totalTokens=330)
    reply = Reply("m", "codex", previous_thread_id="t1", previous_thread_total=before, previous_session_total=before)
    reply.apply(ThreadReady(threadId="t1", resumed=True))
    reply.apply(UsageUpdated(total=TokenCounts(inputTokens=450, outputTokens=42, totalTokens=492), last=TokenCounts()))
    reply.apply(TurnEnded(status="completed"))
    usage = reply.metadata()["usage"]
    assert usage["turn"]["inputTokens"] == 150 and usage["turn"]["outputTokens"] == 12
    assert usage["session"]["totalTokens"] == 330 + 162
    # A new thread (the old one was lost) starts its total at zero again.
    fresh = Reply("m", "codex", previous_thread_id="t1", previous_thread_total=before)
    fresh.apply(ThreadReady(threadId="t2", resumed=False))
    fresh.apply(UsageUpdated(total=TokenCounts(inputTokens=90, totalTokens=90), last=TokenCounts()))
    assert fresh.metadata()["usage"]["turn"]["inputTokens"] == 90


async def test_a_fast_20_kb_reply_is_written_in_batches(local_store: LocalStore) -> None:
    session = await local_store.create_session("alice", "Long")
    reply = Reply("msg_x", "codex")
    writer = ReplyWriter(local_store, session.id, lambda: (reply.content(), reply.metadata()))
    for _ in range(2000):  # 2,000 deltas of 10 bytes at 1 ms apart
        reply.apply(TextDelta(itemId="a", delta="0123456789"))
        writer.changed()
        await asyncio.sleep(0.001)
    reply.apply(TurnEnded(status="completed"))
    final = await writer.finish()
    assert final is not None and final.content == "0123456789" * 2000
    stored = (await local_store.list_messages(session.id)).page
    assert [m.id for m in stored] == [final.id]  # one message, rewritten in place
    assert writer.writes < 200  # not one write per delta
    print(f"20 KB reply: {writer.writes} writes, amplification {writer.bytes_written / 20_000:.1f}x")


@pytest.mark.parametrize(
    ("name", "value"),
    [("JANGAR_CHAT_SANDBOX", "yolo"), ("JANGAR_CODEX_CONFIG", "model"), ("JANGAR_CHAT_TIMEOUT", "-1")],
)
def test_bad_chat_settings_name_their_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({"JANGAR_USER": "u", name: value})


def test_chat_settings() -> None:
    settings = load_settings(
        {
            "JANGAR_USER": "u",
            "JANGAR_DATA_DIR": "/tmp/jd",
            "JANGAR_CODEX_BIN": "/opt/codex --flag",
            "JANGAR_CODEX_CONFIG": "model_reasoning_effort=low 'x.y=\"a b\"'",
            "JANGAR_CHAT_SANDBOX": "workspace-write",
        }
    )
    assert settings.codex_bin == ["/opt/codex", "--flag"]
    assert settings.codex_config == ["model_reasoning_effort=low", 'x.y="a b"']
    assert settings.chat_sandbox == "workspace-write"
    assert str(settings.chat_workdir) == "/tmp/jd/chat"
