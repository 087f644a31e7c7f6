"""The completion message of a work order: found where the worker left it, and excerpted."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import ActivityEnvironment

from jangar_tui.config import load_settings
from jangar_tui.models import PAGE_SIZE_MAX, ChatMessage, Page, Role, WorkOrderStatus
from jangar_tui.orchestration.activities import WorkOrderActivities
from jangar_tui.orchestration.payloads import Outcome
from jangar_tui.outcome import COMPLETION_KIND, excerpt, find_completion_message
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite import db as _sqlite_db
from jangar_tui.store.sqlite.store import LocalStore

S = WorkOrderStatus


def completion(work_order_id: str) -> dict[str, Any]:
    return {"workOrderId": work_order_id, "kind": COMPLETION_KIND, "status": "failed"}


class CountingStore(LocalStore):
    """Counts the message pages read, to show how far a search goes."""

    pages_read = 0

    async def list_messages(self, sessionId: str, numItems: int = 50, cursor: str | None = None) -> Page[ChatMessage]:
        self.pages_read += 1
        return await super().list_messages(sessionId, numItems, cursor)


async def test_found_behind_pages_of_later_messages_and_not_confused_with_another_orders(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "db.sqlite3")
    try:
        session = await store.create_session("alice", "Busy")
        first = await store.create_work_order(session.id, "jangar-wo-a", title="First")
        second = await store.create_work_order(session.id, "jangar-wo-b", title="Second")
        await store.append_message(session.id, Role.SYSTEM, "The agent exited with code 2.", completion(first.id))
        await store.append_message(session.id, Role.ASSISTANT, "Done: PR opened.", completion(second.id))
        for n in range(2 * PAGE_SIZE_MAX + 10):  # the conversation goes on
            await store.append_message(session.id, Role.USER, f"later {n}")

        found = await find_completion_message(store, first)
        assert found is not None and found.content == "The agent exited with code 2."
        assert store.pages_read == 3
        found = await find_completion_message(store, second)
        assert found is not None and found.content == "Done: PR opened."
    finally:
        await store.close()


async def test_the_search_stops_at_messages_older_than_the_work_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = itertools.count(1_700_000_000_000)  # one millisecond per write: a strict order in time
    monkeypatch.setattr(_sqlite_db, "now_ms", lambda: next(ticks))
    store = CountingStore(tmp_path / "db.sqlite3")
    try:
        session = await store.create_session("alice", "Long history")
        for n in range(3 * PAGE_SIZE_MAX):
            await store.append_message(session.id, Role.USER, f"before {n}")
        work_order = await store.create_work_order(session.id, "jangar-wo-c", title="No result yet")
        await store.append_message(session.id, Role.USER, "after")
        assert await find_completion_message(store, work_order) is None
        assert store.pages_read == 1, "older messages cannot hold its result: one page, not the whole session"
    finally:
        await store.close()


async def test_the_service_gives_a_result_only_once_the_work_order_has_ended(local_store: LocalStore) -> None:
    service = JangarService(local_store, "alice")
    session = await service.new_session("Results")
    work_order = await service.create_work_order(session.id, title="Fix it", prompt="p")
    await local_store.append_message(session.id, Role.SYSTEM, "Early note", completion(work_order.id))
    assert await service.work_order_result(work_order) is None  # a draft has no result
    for status in (S.SUBMITTED, S.FAILED):
        work_order = await local_store.update_work_order_status(work_order.id, status)
    result = await service.work_order_result(work_order)
    assert result is not None and result.content == "Early note"


async def test_a_retried_record_step_writes_no_second_message_after_many_later_messages(
    local_store: LocalStore, tmp_path: Path
) -> None:
    """A first attempt wrote the completion message and died before the final status; over 100
    messages landed in the session meanwhile. The retry must find that message, not write another."""
    activities = WorkOrderActivities(load_settings({"JANGAR_DATA_DIR": str(tmp_path)}), local_store)
    session = await local_store.create_session("alice", "Busy while it ran")
    work_order = await local_store.create_work_order(session.id, "jangar-wo-retry", title="Run")
    for status in (S.SUBMITTED, S.ACCEPTED, S.RUNNING):
        work_order = await local_store.update_work_order_status(work_order.id, status)
    await local_store.append_message(
        session.id, Role.SYSTEM, "The agent exited with code 1.", completion(work_order.id)
    )
    for n in range(PAGE_SIZE_MAX + 50):  # more than a page, more than the old 100-message look-back
        await local_store.append_message(session.id, Role.USER, f"meanwhile {n}")

    outcome = Outcome(workOrderId=work_order.id, sessionId=session.id, status=S.FAILED, message="exited with 1")
    await ActivityEnvironment().run(activities.record_outcome, outcome)

    assert (await local_store.get_work_order(work_order.id)).status == S.FAILED  # type: ignore[union-attr]
    messages = await local_store.list_messages(session.id, PAGE_SIZE_MAX)
    older = await local_store.list_messages(session.id, PAGE_SIZE_MAX, messages.continueCursor)
    marked = [m for m in messages.page + older.page if m.metadata is not None]
    assert [m.content for m in marked] == ["The agent exited with code 1."]


def test_a_short_text_is_kept_whole() -> None:
    text = "\n".join(f"line {n}" for n in range(9))
    assert excerpt(text) == text
    assert excerpt("\nreason\n\n") == "reason"


def test_a_long_text_keeps_its_first_and_last_lines_and_says_how_many_are_left_out() -> None:
    text = "The agent exited with code 1.\n\n" + "\n".join(f"output {n}" for n in range(50))
    lines = excerpt(text).splitlines()
    assert lines[:2] == ["The agent exited with code 1.", ""]
    assert lines[2] == "… 44 more lines in the chat …"
    assert lines[3:] == [f"output {n}" for n in range(44, 50)]


def test_only_newlines_break_lines() -> None:
    # A VT, FF or CR inside a line is shown as a visible character, not as a line break.
    text = "reason\n" + "\n".join(f"a\x0bb\x0cc\rd {n}" for n in range(12))
    lines = excerpt(text).split("\n")
    assert lines[-1] == "a\x0bb\x0cc\rd 11" and len(lines) == 9
