"""Write a growing reply to the store in batches, so a long reply is not rewritten per token.

The first write happens at once (the operator sees the first words as soon as they exist); after
that a write goes out at most every `MIN_INTERVAL_S` plus a pause that grows with the text
(`BYTES_PER_S`), since each write carries the whole text so far: a 20 KB reply is written a few
dozen times, not hundreds. `finish` writes the last state whatever the timing. A background task
does the writing, so reading the agent's events never waits on the store.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from jangar_tui.aio import cancel_and_wait
from jangar_tui.models import ChatMessage, Role
from jangar_tui.store.base import Store

MIN_INTERVAL_S = 0.1
# The pause between writes grows by one second per this many bytes of text.
BYTES_PER_S = 20_000


class ReplyWriter:
    def __init__(
        self,
        store: Store,
        session_id: str,
        snapshot: Callable[[], tuple[str, dict[str, Any]]],
        *,
        message: ChatMessage | None = None,
    ) -> None:
        """`snapshot()` gives the reply's content and metadata now; `message` is one to reuse."""
        self._store = store
        self._session_id = session_id
        self._snapshot = snapshot
        self.message = message
        self._dirty = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._last_write = 0.0
        self._written: tuple[str, dict[str, Any]] | None = None
        # What the batching costs: writes made and bytes sent (content + metadata JSON).
        self.writes = 0
        self.bytes_written = 0

    def changed(self) -> None:
        """The reply changed; it will be written soon."""
        self._dirty.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="jangar-reply-writer")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._dirty.wait()
            content, _ = self._snapshot()
            due = self._last_write + MIN_INTERVAL_S + len(content.encode()) / BYTES_PER_S
            if self.message is not None and loop.time() < due:
                await asyncio.sleep(due - loop.time())
            self._dirty.clear()
            # Shielded: a write in flight when `finish` stops the loop completes (an append cut
            # off half-way would leave a message we do not know about, and `finish` would add another).
            await asyncio.shield(self._write())
            self._last_write = loop.time()

    async def _write(self) -> None:
        async with self._lock:
            await self._write_now()

    async def _write_now(self) -> None:
        content, metadata = self._snapshot()
        if self._written == (content, metadata):
            return
        if self.message is None:
            self.message = await self._store.append_message(self._session_id, Role.ASSISTANT, content, metadata)
        else:
            self.message = await self._store.update_message(self.message.id, content, metadata)
        self._written = (content, json.loads(json.dumps(metadata)))
        self.writes += 1
        self.bytes_written += len(content.encode()) + len(json.dumps(metadata, separators=(",", ":")).encode())

    async def abandon(self) -> None:
        """Stop batching without a last write (a write in flight completes)."""
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None

    async def finish(self) -> ChatMessage | None:
        """Stop batching and write the final state."""
        await self.abandon()
        await self._write()
        return self.message
