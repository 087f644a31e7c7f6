"""The worker's event-log writer and what a Codex turn becomes in the log."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from jangar_tui.agents.codex_events import ItemCompleted, ItemStarted, TextDelta, TokenCounts, TurnEnded, UsageUpdated
from jangar_tui.agents.codex_log import log_events
from jangar_tui.models import (
    EVENT_METADATA_MAX_BYTES,
    EVENT_TEXT_MAX_BYTES,
    ErrorCode,
    EventKind,
    EventsAppended,
    JangarError,
)
from jangar_tui.orchestration import event_log
from jangar_tui.orchestration.agent import OutputLines
from jangar_tui.orchestration.event_log import EventLogWriter, bounded_metadata, bounded_text
from jangar_tui.store.sqlite.store import LocalStore


def test_long_text_keeps_head_and_tail_within_the_limit() -> None:
    text = "start\n" + "€" * 20_000 + "\nthe error is here"
    bounded = bounded_text(text)
    assert len(bounded.encode()) <= EVENT_TEXT_MAX_BYTES
    assert bounded.startswith("start\n") and bounded.endswith("the error is here")
    assert "bytes cut]" in bounded
    assert bounded_text("short") == "short"


def test_oversized_metadata_is_replaced_by_a_note() -> None:
    big = {"blob": "x" * EVENT_METADATA_MAX_BYTES}
    assert bounded_metadata(big) == {"dropped": f"{len(json.dumps(big, separators=(',', ':')))} bytes of metadata"}
    assert bounded_metadata({"exitCode": 0}) == {"exitCode": 0}
    assert bounded_metadata(None) is None


async def test_the_writer_appends_in_batches_in_order(local_store: LocalStore) -> None:
    session = await local_store.create_session("alice", "s")
    wo = await local_store.create_work_order(session.id, "jangar-wo-writer")
    calls: list[int] = []
    append = local_store.append_work_order_events

    async def counting(work_order_id: str, events: Any) -> EventsAppended:
        calls.append(len(events))
        return await append(work_order_id, events)

    local_store.append_work_order_events = counting  # type: ignore[method-assign]
    writer = EventLogWriter(local_store, wo.id, flush_every_s=60)
    for i in range(250):
        writer.add(EventKind.OUTPUT, f"line {i}", None)
    writer.add(EventKind.COMMAND, "x" * (EVENT_TEXT_MAX_BYTES + 10))
    await writer.close()
    # Full batches went as soon as they were full, the rest at close; never one call per event.
    assert sum(calls) == 251 and max(calls) == 100 and len(calls) <= 4
    page = await local_store.list_work_order_events(wo.id, 200)
    texts = [e.text for e in reversed(page.page)]
    assert texts[-1].startswith("xxx") and len(texts[-1].encode()) <= EVENT_TEXT_MAX_BYTES
    older = await local_store.list_work_order_events(wo.id, 200, page.continueCursor)
    in_order = [e.text for e in reversed(older.page)] + texts[:-1]
    assert in_order == [f"line {i}" for i in range(250)]


async def test_an_unreachable_store_keeps_the_events_for_the_next_flush(local_store: LocalStore) -> None:
    session = await local_store.create_session("alice", "s")
    wo = await local_store.create_work_order(session.id, "jangar-wo-away")
    append = local_store.append_work_order_events
    down = True

    async def flaky(work_order_id: str, events: Any) -> EventsAppended:
        if down:
            raise JangarError(ErrorCode.UNAVAILABLE, "away")
        return await append(work_order_id, events)

    local_store.append_work_order_events = flaky  # type: ignore[method-assign]
    writer = EventLogWriter(local_store, wo.id, flush_every_s=0.01)
    writer.add(EventKind.OUTPUT, "kept")
    await asyncio.sleep(0.1)
    down = False
    await writer.close()
    assert [e.text for e in (await local_store.list_work_order_events(wo.id, 10)).page] == ["kept"]


async def test_events_dropped_while_the_queue_is_full_are_said_in_the_log_where_they_were_lost(
    local_store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_log, "MAX_QUEUED", 5)
    session = await local_store.create_session("alice", "s")
    wo = await local_store.create_work_order(session.id, "jangar-wo-full")
    append = local_store.append_work_order_events
    down = True

    async def away(work_order_id: str, events: Any) -> EventsAppended:
        if down:
            raise JangarError(ErrorCode.UNAVAILABLE, "away")
        return await append(work_order_id, events)

    local_store.append_work_order_events = away  # type: ignore[method-assign]
    writer = EventLogWriter(local_store, wo.id, flush_every_s=0.01)
    for i in range(8):
        writer.add(EventKind.OUTPUT, f"line {i}")
    await asyncio.sleep(0.05)  # flushes fail meanwhile: the queue stays full
    writer.add(EventKind.OUTPUT, "line 8")
    down = False
    await writer.close()
    writer.add(EventKind.OUTPUT, "after")  # room again: kept
    await writer.flush()
    texts = [e.text for e in reversed((await local_store.list_work_order_events(wo.id, 20)).page)]
    note = "… 4 events were not kept here: the store was away and 5 were waiting"
    assert texts == ["line 0", "line 1", "line 2", "line 3", "line 4", note, "after"]
    assert writer.dropped == 4


def test_codex_items_become_log_entries() -> None:
    command = log_events(
        ItemCompleted(
            item={
                "type": "commandExecution",
                "command": "/bin/bash -lc ls",
                "aggregatedOutput": "a\nb\n",
                "exitCode": 2,
                "status": "failed",
                "durationMs": 12,
            }
        )
    )
    assert [(e.kind, e.text, e.metadata) for e in command] == [
        (EventKind.COMMAND, "/bin/bash -lc ls\na\nb\n", {"exitCode": 2, "status": "failed", "durationMs": 12})
    ]
    # A command shows from its start (a build takes minutes); its end follows with the exit code.
    started = log_events(
        ItemStarted(item={"type": "commandExecution", "command": "make", "status": "inProgress", "exitCode": None})
    )
    assert [(e.kind, e.text, e.metadata) for e in started] == [
        (EventKind.COMMAND, "make", {"exitCode": None, "status": "inProgress", "durationMs": None})
    ]
    assert log_events(ItemStarted(item={"type": "agentMessage", "text": ""})) == []  # its end carries the text
    change = log_events(
        ItemCompleted(
            item={
                "type": "fileChange",
                "status": "completed",
                "changes": [
                    {"path": "/w/a.py", "kind": {"type": "update"}, "diff": "..."},
                    {"path": "/w/b", "kind": {"type": "add"}},
                ],
            }
        )
    )
    assert change[0].kind == EventKind.FILE_CHANGE and change[0].text == "update /w/a.py\nadd /w/b"
    assert (
        log_events(ItemCompleted(item={"type": "reasoning", "summary": ["**Plan** first"]}))[0].text == "**Plan** first"
    )
    assert log_events(ItemCompleted(item={"type": "reasoning", "summary": []})) == []
    assert log_events(ItemCompleted(item={"type": "userMessage"})) == []
    assert log_events(TextDelta(itemId="i", delta="x")) == []
    usage = log_events(
        UsageUpdated(total=TokenCounts(inputTokens=5, outputTokens=2, totalTokens=7), last=TokenCounts())
    )
    assert usage[0].kind == EventKind.USAGE and usage[0].metadata["totalTokens"] == 7
    many = TokenCounts(inputTokens=12_000, cachedInputTokens=1_400, outputTokens=900, totalTokens=12_900)
    # Grouped as the log's title groups its total.
    assert log_events(UsageUpdated(total=many, last=TokenCounts()))[0].text == (
        "tokens: 12,000 in (1,400 cached), 900 out, 12,900 total"
    )
    failed = log_events(TurnEnded(status="failed", error="quota exceeded"))
    assert [(e.kind, e.text) for e in failed] == [(EventKind.ERROR, "quota exceeded")]
    assert log_events(TurnEnded(status="completed")) == []


def test_output_lines_split_across_chunks_and_invalid_utf8() -> None:
    lines: list[str] = []
    splitter = OutputLines(lines.append)
    splitter.feed(b"one\r\ntw")
    splitter.feed(b"o\n\xe2\x82")
    splitter.feed(b"\xac end", final=True)
    assert lines == ["one", "two", "€ end"]
