"""The worker's writer of a work order's event log: batched appends, bounded sizes.

A run may print thousands of lines a second; one store call per line would be the bottleneck
(and, on Convex, one mutation each). `EventLogWriter.add` only queues; a flusher appends what
is queued every `FLUSH_EVERY_S` or as soon as a full batch is waiting, and `close` appends the
rest. Text longer than the contract's limit keeps its head and tail (a command's error is at
its end); metadata too large for the limit is replaced by a note saying so. An unreachable
store is retried at the next flush; a refused batch is dropped (retrying cannot help), so the
run itself never fails because of its log. Events dropped because the queue was full (the store
away for long) are said in the log where they were lost, by one event per run of them: a gap the
operator can see, not a silent one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from jangar_tui.aio import within
from jangar_tui.models import (
    EVENT_METADATA_MAX_BYTES,
    EVENT_TEXT_MAX_BYTES,
    EVENTS_PER_APPEND_MAX,
    ErrorCode,
    EventKind,
    JangarError,
    NewEvent,
)
from jangar_tui.store.base import Store

FLUSH_EVERY_S = 0.2
# Queued events beyond this are dropped (the store has been unreachable for a long while).
MAX_QUEUED = 50_000
_CUT = "\n… [{} bytes cut] …\n"

log = logging.getLogger(__name__)


def bounded_text(text: str, limit: int = EVENT_TEXT_MAX_BYTES) -> str:
    """`text` within `limit` UTF-8 bytes: its head and tail around a note of what was cut."""
    data = text.encode("utf-8", errors="replace")
    if len(data) <= limit:
        return text
    note_room = len(_CUT.format(len(data)).encode())
    keep = max(0, limit - note_room)
    head, tail = data[: keep // 3], data[len(data) - (keep - keep // 3) :]
    cut = len(data) - len(head) - len(tail)
    # errors="ignore" drops a character split at either cut.
    return head.decode(errors="ignore") + _CUT.format(cut) + tail.decode(errors="ignore")


def bounded_metadata(metadata: Any) -> Any:
    if metadata is None:
        return None
    try:
        size = len(json.dumps(metadata, separators=(",", ":"), ensure_ascii=False).encode())
    except (TypeError, ValueError):
        return {"dropped": "metadata that is not plain JSON"}
    return metadata if size <= EVENT_METADATA_MAX_BYTES else {"dropped": f"{size} bytes of metadata"}


class EventLogWriter:
    """Appends events to one work order's log in batches (see the module docstring)."""

    def __init__(self, store: Store, work_order_id: str, flush_every_s: float = FLUSH_EVERY_S) -> None:
        self._store = store
        self._work_order_id = work_order_id
        self._flush_every_s = flush_every_s
        self._queue: list[NewEvent] = []
        self._wake = asyncio.Event()
        self._closed = False
        self._flusher = asyncio.get_running_loop().create_task(self._run(), name="jangar-event-log")
        self.dropped = 0
        # A run of events dropped while the queue was full: the queued event that says so (its
        # text is written when it is sent), and how many each such event stands for.
        self._drop_note: NewEvent | None = None
        self._drops_by_note: dict[int, int] = {}

    def add(self, kind: EventKind, text: str, metadata: Any = None) -> None:
        self.add_event(NewEvent(kind=kind, text=text, metadata=metadata))

    def add_event(self, event: NewEvent) -> None:
        if len(self._queue) >= MAX_QUEUED:
            self.dropped += 1
            if self._drop_note is None:
                self._drop_note = NewEvent.model_construct(kind=EventKind.OUTPUT, text="", metadata=None)
                self._queue.append(self._drop_note)  # the one event past the limit
            self._drops_by_note[id(self._drop_note)] = self._drops_by_note.get(id(self._drop_note), 0) + 1
            return
        self._drop_note = None  # room again: a later drop starts a new run
        self._queue.append(
            NewEvent.model_construct(
                kind=event.kind, text=bounded_text(event.text), metadata=bounded_metadata(event.metadata)
            )
        )
        if len(self._queue) >= EVENTS_PER_APPEND_MAX:
            self._wake.set()

    async def flush(self) -> None:
        """Append everything queued now (in batches of the contract's maximum)."""
        while self._queue:
            batch = [self._said(event) for event in self._queue[:EVENTS_PER_APPEND_MAX]]
            try:
                await self._store.append_work_order_events(self._work_order_id, batch)
            except JangarError as exc:
                if exc.code == ErrorCode.UNAVAILABLE:
                    return  # kept for the next flush
                log.warning("event log batch of %d refused: %s", len(batch), exc.message)
                self.dropped += len(batch)
            for event in self._queue[: len(batch)]:
                self._drops_by_note.pop(id(event), None)
                if event is self._drop_note:
                    self._drop_note = None
            del self._queue[: len(batch)]

    def _said(self, event: NewEvent) -> NewEvent:
        """The event to send: a drop note gets its text (it may still grow until it is sent)."""
        count = self._drops_by_note.get(id(event))
        if count is None:
            return event
        plural = "event was" if count == 1 else "events were"
        text = f"… {count:,} {plural} not kept here: the store was away and {MAX_QUEUED:,} were waiting"
        return NewEvent.model_construct(kind=EventKind.OUTPUT, text=text, metadata=None)

    async def _run(self) -> None:
        while not self._closed:
            with contextlib.suppress(TimeoutError):
                await within(self._wake.wait(), self._flush_every_s)
            self._wake.clear()
            await self.flush()

    async def close(self) -> None:
        """Stop the flusher and append what is left (once more if the store was away)."""
        self._closed = True
        self._wake.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self._flusher
        await self.flush()
