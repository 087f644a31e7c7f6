"""A work order's completion message: the one chat message that says how its run ended.

The worker (`orchestration.activities.record_outcome`) or the reconciler appends it to the
work order's session, marked in its metadata, before moving the work order to its final status;
so a work order seen in a final status already has it. One lookup, `find_completion_message`,
serves both its readers: the worker and the reconciler (to write it at most once, however many
messages landed since) and the detail view (to show the result next to the status).

A failed work order's reason (`find_failure_reason`), shown on its row and atop its detail, is
the agent's own error event when its last attempt logged one, else the completion message's
first line (the workflow's sentence: "The agent exited with code 1.", a refused push, ...).
"""

from __future__ import annotations

from jangar_tui.models import PAGE_SIZE_MAX, ChatMessage, EventKind, WorkOrder, WorkOrderEvent, WorkOrderStatus
from jangar_tui.store.base import Store

# The metadata `kind` that marks a completion message.
COMPLETION_KIND = "workOrderCompletion"
# The newest events read for a failure's error event: a run's error is among its last few (only
# the delivery's and the PR's lines, and the token counts, come after it).
REASON_EVENTS = 50


def is_completion_of(message: ChatMessage, work_order_id: str) -> bool:
    metadata = message.metadata
    return (
        isinstance(metadata, dict)
        and metadata.get("kind") == COMPLETION_KIND
        and metadata.get("workOrderId") == work_order_id
    )


async def find_completion_message(store: Store, work_order: WorkOrder) -> ChatMessage | None:
    """The work order's completion message, or None.

    Reads the session's pages newest first and stops at the first message older than the work
    order (nothing written before it was created can be its completion), so an old work order in
    a busy session costs a few pages, and one without a completion message never a full scan.
    """
    cursor: str | None = None
    while True:
        page = await store.list_messages(work_order.sessionId, PAGE_SIZE_MAX, cursor)
        for message in page.page:
            if is_completion_of(message, work_order.id):
                return message
            if message.createdAt < work_order.createdAt:
                return None
        if page.isDone:
            return None
        cursor = page.continueCursor


def excerpt(text: str, head: int = 2, tail: int = 6) -> str:
    """`text` if it has at most head + tail + 1 lines; else its first and last lines around a gap.

    A failed run's message starts with the reason ("The agent exited with code 1.") and ends with
    the last of the agent's output, where the error usually is; the middle is in the chat.
    """
    # "\n" only: splitlines() also breaks at VT, FF, CR and U+2028, which the screen shows as
    # visible characters (jangar_tui.text_safety), not as line breaks.
    lines = text.strip("\n").split("\n")
    if len(lines) <= head + tail + 1:
        return "\n".join(lines)
    left_out = len(lines) - head - tail
    return "\n".join([*lines[:head], f"… {left_out} more lines in the chat …", *lines[-tail:]])


def error_of_last_attempt(events: list[WorkOrderEvent]) -> str | None:
    """The newest error event's text in `events` (newest first), unless an attempt started after
    it: an earlier attempt's error (a worker that stopped and handed it back) is not the reason."""
    for event in events:
        if event.kind == EventKind.ERROR and event.text.strip():
            return event.text.strip("\n")
        if event.kind == EventKind.SETUP and isinstance(event.metadata, dict) and "attempt" in event.metadata:
            return None  # the last attempt's start: nothing newer was an error
    return None


def first_line(text: str) -> str | None:
    return next((line for line in text.split("\n") if line.strip()), None)


async def find_failure_reason(store: Store, work_order: WorkOrder) -> str | None:
    """Why a failed work order failed (see the module's docstring); None for any other status,
    or when neither is recorded (a failure before the worker wrote anything)."""
    if work_order.status != WorkOrderStatus.FAILED:
        return None
    events = await store.list_work_order_events(work_order.id, REASON_EVENTS)
    if (error := error_of_last_attempt(events.page)) is not None:
        return error
    completion = await find_completion_message(store, work_order)
    return first_line(completion.content) if completion is not None else None
