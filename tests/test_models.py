"""The vocabulary: the status machine, the error type and the records."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jangar_tui.models import (
    ACTIVE_STATUSES,
    TERMINAL_STATUSES,
    TRANSITIONS,
    ChatMessage,
    ChatSession,
    ErrorCode,
    JangarError,
    Page,
    WorkOrder,
    WorkOrderStatus,
    can_transition,
    check_transition,
)

S = WorkOrderStatus

# docs/architecture.md's machine, edge by edge (independently of models.TRANSITIONS).
ALLOWED = {
    (S.DRAFT, S.SUBMITTED),
    (S.SUBMITTED, S.ACCEPTED),
    (S.ACCEPTED, S.RUNNING),
    (S.RUNNING, S.SUCCEEDED),
    (S.RUNNING, S.FAILED),
    (S.SUBMITTED, S.FAILED),
    (S.ACCEPTED, S.FAILED),
    (S.DRAFT, S.CANCELED),
    (S.SUBMITTED, S.CANCELED),
    (S.ACCEPTED, S.CANCELED),
    (S.RUNNING, S.CANCELED),
}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_transition_table_is_designs(current: S, target: S) -> None:
    expected = current == target or (current, target) in ALLOWED
    assert can_transition(current, target) is expected
    if expected:
        check_transition(current, target)
    else:
        with pytest.raises(JangarError) as info:
            check_transition(current, target)
        assert info.value.code is ErrorCode.INVALID_TRANSITION
        assert current.value in info.value.message and target.value in info.value.message


def test_terminal_and_active_partition_the_statuses() -> None:
    assert TERMINAL_STATUSES == {S.SUCCEEDED, S.FAILED, S.CANCELED}
    assert ACTIVE_STATUSES == {S.DRAFT, S.SUBMITTED, S.ACCEPTED, S.RUNNING}
    assert all(status.is_terminal for status in TERMINAL_STATUSES)
    assert not any(status.is_terminal for status in ACTIVE_STATUSES)
    assert set(TRANSITIONS) == set(S)


@given(st.lists(st.sampled_from(list(S)), max_size=40))
def test_random_status_updates_never_reach_a_forbidden_state(targets: list[S]) -> None:
    """Apply whatever can_transition allows: the walk stays on the documented edges."""
    current = S.DRAFT
    history = [current]
    for target in targets:
        if can_transition(current, target):
            if target != current:
                assert (current, target) in ALLOWED
                history.append(target)
            current = target
        else:
            assert (current, target) not in ALLOWED and current != target
    # Forbidden outcomes: leaving a terminal state, or succeeding without having run.
    assert not any(state.is_terminal for state in history[:-1])
    if S.SUCCEEDED in history:
        assert history[history.index(S.SUCCEEDED) - 1] == S.RUNNING


def test_jangar_error_keeps_code_and_message_and_pickles() -> None:
    error = JangarError("NOT_FOUND", "That chat session does not exist.")
    assert error.code is ErrorCode.NOT_FOUND
    assert str(error) == "NOT_FOUND: That chat session does not exist."
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, JangarError)
    assert (copy.code, copy.message) == (error.code, error.message)
    with pytest.raises(ValueError):
        JangarError("NOPE", "unknown codes are a bug")


def test_records_accept_convex_documents() -> None:
    """Convex sends `_id`, float timestamps and extra system fields."""
    session = ChatSession.model_validate(
        {
            "_id": "abc",
            "_creationTime": 1.5,
            "userId": "u",
            "title": "t",
            "lastMessageAt": 3.0,
            "createdAt": 1.0,
            "updatedAt": 2.0,
        }
    )
    assert session.id == "abc"
    assert (session.createdAt, session.updatedAt, session.lastMessageAt) == (1, 2, 3)
    assert isinstance(session.lastMessageAt, int)
    assert session.deletedAt is None
    assert session.model_dump(by_alias=True)["_id"] == "abc"

    message = ChatMessage.model_validate(
        {"_id": "m", "sessionId": "abc", "role": "assistant", "content": "x", "createdAt": 1, "updatedAt": 1}
    )
    assert message.metadata is None
    order = WorkOrder.model_validate(
        {
            "_id": "w",
            "sessionId": "abc",
            "workflowId": "jangar-wo-1",
            "status": "running",
            "createdAt": 1,
            "updatedAt": 1,
        }
    )
    assert order.status is S.RUNNING and order.prUrl is None
    page = Page[WorkOrder](page=[order], isDone=True)
    assert page.page[0].id == "w"


def test_records_are_immutable() -> None:
    session = ChatSession(id="a", userId="u", title="t", lastMessageAt=1, createdAt=1, updatedAt=1)
    with pytest.raises(Exception) as info:
        session.title = "other"  # type: ignore[misc]
    assert "frozen" in str(info.value).lower()
