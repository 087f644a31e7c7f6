"""A work order that ends while the app runs: a toast, and the terminal alert's exact bytes."""

from __future__ import annotations

from ui_support import notified, until

from jangar_tui.models import WorkOrderStatus
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore
from jangar_tui.ui.app import JangarApp

S = WorkOrderStatus


async def test_a_work_order_ending_alerts_once_in_the_app_and_on_the_terminal(
    service: JangarService, store: LocalStore
) -> None:
    session = await service.new_session("Ops")
    old = await service.create_work_order(session.id, title="Old", prompt="p")
    await store.update_work_order_status(old.id, S.CANCELED)  # ended before: never announced
    running = await service.create_work_order(session.id, title="Deploy \x1b[2J;now", prompt="p")
    for status in (S.SUBMITTED, S.ACCEPTED, S.RUNNING):
        await store.update_work_order_status(running.id, status)
    app = JangarApp(service, notify="osc777")
    written: list[str] = []
    app.write_to_terminal = written.append  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.alerts.following, "the alert watches")
        await store.update_work_order_status(running.id, S.FAILED)
        await until(pilot, lambda: "failed" in notified(pilot), "the toast")
        assert "“Deploy ␛[2J;now” failed" in notified(pilot)
        assert "Old" not in notified(pilot)
        await until(pilot, lambda: written, "the terminal alert")
        assert written == ["\x1b]777;notify;Jangar;Deploy [2J now failed\a"]
        await pilot.pause(0.2)
        assert len(written) == 1  # once
