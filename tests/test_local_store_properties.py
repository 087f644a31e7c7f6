"""Property tests: the embedded store and the model's status machine agree on every step."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from jangar_tui.models import ErrorCode, JangarError, WorkOrderStatus, can_transition
from jangar_tui.store.sqlite.store import LocalStore

S = WorkOrderStatus
statuses = st.sampled_from(list(S))
# Each update: a target status and what the caller believes the current status is (or nothing).
updates = st.lists(st.tuples(statuses, st.none() | statuses), max_size=25)


@settings(max_examples=60, deadline=None)
@given(initial=st.sampled_from([S.DRAFT, S.SUBMITTED]), steps=updates)
def test_store_and_model_agree_on_every_status_update(initial: S, steps: list[tuple[S, S | None]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_check(Path(tmp) / "db.sqlite3", initial, steps))


async def _check(path: Path, initial: S, steps: list[tuple[S, S | None]]) -> None:
    store = LocalStore(path)
    try:
        session = await store.create_session("prop", "Status walk")
        order = await store.create_work_order(session.id, "jangar-wo-prop", status=initial)
        current = initial
        for target, expected in steps:
            before = await store.get_work_order(order.id)
            try:
                after = await store.update_work_order_status(order.id, target, expectedStatus=expected)
            except JangarError as exc:
                stored = await store.get_work_order(order.id)
                assert stored == before, "a refused update changed the work order"
                if expected is not None and expected != current:
                    assert exc.code is ErrorCode.CONFLICT
                else:
                    assert exc.code is ErrorCode.INVALID_TRANSITION
                    assert not can_transition(current, target), f"store refused {current}->{target}"
                continue
            assert expected is None or expected == current, "a stale expectedStatus was accepted"
            assert can_transition(current, target), f"store allowed {current}->{target}"
            assert after.status is target
            if target == current:
                assert after == before, "setting the current status again is a no-op"
            # Forbidden states never reached: a terminal status is never left.
            assert not current.is_terminal or target == current
            current = target
        final = await store.get_work_order(order.id)
        assert final is not None and final.status is current
    finally:
        await store.close()
