"""What a follow-up continues: the work order it names (`followUpOf`), its worktree, its Codex
thread and its pull request.

Terminal states are final, so review feedback on an ended work order becomes a new work order
linked to the first. It runs on the first one's branch, in the worktree of the first work order of
the chain (made again from the cache on the pushed branch when it was removed), continues the
Codex thread the previous run logged (a `setup` event with `threadId`), and delivers to the same
branch and pull request. Where codex no longer has the thread, or the previous run had none (another
agent, a run that never started), the agent is given a prompt seeded with what the previous run
was asked and how it ended.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from jangar_tui.models import PAGE_SIZE_MAX, EventKind, WorkOrder
from jangar_tui.outcome import find_completion_message
from jangar_tui.store.base import Store

# A chain longer than this is cut there (a loop cannot be made: each link names an older row).
MAX_CHAIN = 1000
SEED_RESULT_CHARS = 16 * 1024
SEED_NOTE = (
    "(This work continues an earlier run on the same branch and worktree, whose conversation is no "
    "longer available. What that run was asked and how it ended are below; the follow-up request is "
    "at the end.)"
)

GetWorkOrder = Callable[[str], Awaitable[WorkOrder | None]]


async def chain(work_order: WorkOrder, get_work_order: GetWorkOrder) -> list[WorkOrder]:
    """The work order and those it follows up, newest first (a deleted one ends the chain)."""
    found = [work_order]
    while found[-1].followUpOf and len(found) < MAX_CHAIN:
        previous = await get_work_order(found[-1].followUpOf)
        if previous is None:
            break
        found.append(previous)
    return found


async def workspace_owner(work_order: WorkOrder, get_work_order: GetWorkOrder) -> WorkOrder:
    """The work order whose worktree this one works in: the first of its chain."""
    return (await chain(work_order, get_work_order))[-1]


async def pull_request_of(work_order: WorkOrder, get_work_order: GetWorkOrder) -> str | None:
    """The PR an earlier run of the chain opened or kept (a follow-up pushes to it, opens none)."""
    for earlier in (await chain(work_order, get_work_order))[1:]:
        if earlier.prUrl:
            return earlier.prUrl
    return None


async def thread_of(store: Store, work_order_id: str) -> str | None:
    """The Codex thread the work order's run logged last, or None when it logged none."""
    cursor: str | None = None
    while True:
        page = await store.list_work_order_events(work_order_id, PAGE_SIZE_MAX, cursor)
        for event in page.page:  # newest first: a retried attempt's thread wins
            if event.kind == EventKind.SETUP and isinstance(event.metadata, dict):
                thread = event.metadata.get("threadId")
                if isinstance(thread, str) and thread:
                    return thread
        if page.isDone or not page.continueCursor:
            return None
        cursor = page.continueCursor


async def seeded_prompt(store: Store, previous: WorkOrder, note: str) -> str:
    """The follow-up's note after what the previous run was asked and the message it ended with."""
    parts = [SEED_NOTE]
    if previous.prompt or previous.title:
        parts.append("## The earlier run was asked\n\n" + (previous.prompt or previous.title or ""))
    result = await find_completion_message(store, previous)
    if result is not None:
        text = result.content
        if len(text) > SEED_RESULT_CHARS:
            text = "…" + text[-SEED_RESULT_CHARS:]
        parts.append("## It ended with\n\n" + text)
    parts.append("## Follow-up\n\n" + note)
    return "\n\n".join(parts)
