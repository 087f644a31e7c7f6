"""Live watch of the first `limit` rows of a paginated Convex query, past the 200-row page limit.

Jangar's list functions refuse pages above `PAGE_SIZE_MAX` rows, while watchers may ask for up to
10,000 (the transcript loads older history by re-watching with a larger limit). So a watch is a
chain of page subscriptions, the way Convex's own `usePaginatedQuery` works:

- page 0 is subscribed with `cursor: null`; page i+1 with page i's `continueCursor`, until the
  pages hold `limit` rows or one says `isDone`. Each asks for the rows still missing, at most
  `PAGE_SIZE_MAX` (and `limit`), at least `_REFILL_MIN`: so deleting rows one by one does not
  grow a chain of one-row pages;
- every page stays subscribed, so a change anywhere in the covered range (a message deleted deep
  in history) reaches the watcher, not just changes to the first page;
- when a page's `continueCursor` moves (rows inserted or removed at a boundary, without a query
  journal pinning the page's end), the pages after it are subscribed again from the new cursor;
  when deletions leave the chain short, a page is added; pages no longer needed are dropped (with
  a journal, a page grows as rows are inserted into its range);
- a snapshot (the pages' rows concatenated, cut to `limit`) is yielded only once every page of the
  chain has answered for the cursor it now has, so it never shows a gap or a duplicate at a
  boundary, and only when it differs from the previous one.

The pages are independent subscriptions, so after one change the snapshot may pass through a state
where one page has seen it and another not yet; it settles as soon as every page has answered.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from jangar_tui.models import PAGE_SIZE_MAX
from jangar_tui.store.convex.transport import ConvexTransport

_ENDED = object()  # a page's subscription ended: the transport was closed
_REFILL_MIN = 50


@dataclass(eq=False)
class _Page:
    """One page subscription of the chain and its latest answer (None until it has answered)."""

    cursor: str | None
    num_items: int
    value: dict[str, Any] | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class _PageChain:
    def __init__(self, transport: ConvexTransport, function: str, args: dict[str, Any], limit: int) -> None:
        self._transport = transport
        self._function = function
        self._args = args
        self._limit = limit
        self._pages: list[_Page] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.events: asyncio.Queue[tuple[_Page, Any]] = asyncio.Queue()

    def open(self, cursor: str | None, covered: int) -> None:
        """Subscribe a page after `covered` rows, for the rows still missing (see the module docstring)."""
        page = _Page(cursor, min(PAGE_SIZE_MAX, self._limit, max(self._limit - covered, _REFILL_MIN)))
        page.task = asyncio.get_running_loop().create_task(self._follow(page))
        self._tasks.add(page.task)
        page.task.add_done_callback(self._tasks.discard)
        self._pages.append(page)

    async def _follow(self, page: _Page) -> None:
        args = {**self._args, "paginationOpts": {"numItems": page.num_items, "cursor": page.cursor}}
        try:
            # aclosing: dropping the page ends its subscription now, not at garbage collection.
            async with contextlib.aclosing(self._transport.subscribe(self._function, args)) as values:  # type: ignore[type-var]
                async for value in values:
                    self.events.put_nowait((page, value))
        except Exception as exc:  # noqa: BLE001 - handed to the watcher, which raises it
            self.events.put_nowait((page, exc))
        else:
            self.events.put_nowait((page, _ENDED))

    def apply(self, page: _Page, value: Any) -> bool:
        """Record an answer; False when the watch is over. Answers of dropped pages are stale."""
        if page not in self._pages:
            return True
        if value is _ENDED:
            return False
        if isinstance(value, Exception):
            raise value
        page.value = value
        return True

    def settle(self) -> list[Any] | None:
        """Fix the chain after new answers; the snapshot once every page has answered, else None."""
        rows: list[Any] = []
        index = 0
        while True:
            page = self._pages[index]
            if page.value is None:
                return None
            rows.extend(page.value["page"])
            if page.value["isDone"] or len(rows) >= self._limit:
                self._drop(index + 1)
                return rows[: self._limit]
            cursor = page.value["continueCursor"]
            index += 1
            if index == len(self._pages) or self._pages[index].cursor != cursor:
                # Short of `limit` rows: (re)subscribe the next page from where this one now ends.
                self._drop(index)
                self.open(cursor, len(rows))
                return None

    def _drop(self, start: int) -> None:
        for page in self._pages[start:]:
            assert page.task is not None
            page.task.cancel()
        del self._pages[start:]

    async def close(self) -> None:
        self._drop(0)
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def watch_pages(
    transport: ConvexTransport, function: str, args: dict[str, Any], limit: int
) -> AsyncIterator[list[Any]]:
    """The first `limit` rows of the paginated query `function(args + paginationOpts)`, live.

    Yields the rows in the query's order (see the module docstring). A page whose query fails
    raises its `ConvexFunctionError`; the watch ends when the transport closes.
    """
    chain = _PageChain(transport, function, args, limit)
    previous: list[Any] | None = None
    try:
        chain.open(None, 0)
        while True:
            live = chain.apply(*await chain.events.get())
            # Take every answer already waiting before settling: fewer intermediate snapshots.
            while live and not chain.events.empty():
                live = chain.apply(*chain.events.get_nowait())
            if not live:
                return
            rows = chain.settle()
            if rows is not None and rows != previous:
                previous = rows
                yield rows
    finally:
        await chain.close()
