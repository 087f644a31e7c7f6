"""Launch, cancel, retry, follow up and copy a work order: shared by the main screen and the detail screen.

Each call goes through the service; a refusal (`JangarError`) is reported where the operator looks
(`report_error`), and nothing else changes: a draft that could not launch stays a draft.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from jangar_tui.models import JangarError, WorkOrder
from jangar_tui.service import JangarService
from jangar_tui.text_safety import visible
from jangar_tui.ui.keymap import key_label
from jangar_tui.ui.screens.confirm import ConfirmScreen
from jangar_tui.ui.screens.follow_up import FollowUpScreen
from jangar_tui.ui.screens.lifecycle import ask
from jangar_tui.ui.screens.watching import WatchingScreen
from jangar_tui.ui.widgets.work_orders.applies import can_cancel, can_follow_up, can_launch, can_retry, has_pr


class WorkOrderActions(WatchingScreen):
    """Mixin for screens; subclasses say where errors go and which work order is meant."""

    # The key that launches a retry's new draft where it is listed: (scope, action).
    LAUNCH_KEY: tuple[str, str] = ("work_orders", "screen.launch_work_order")

    def launch_hint(self) -> str:
        """How the operator launches a new draft from here, with the key they bound."""
        return f"press {key_label(self.app, *self.LAUNCH_KEY)} to launch it"

    def show_work_order(self, work_order: WorkOrder) -> None:
        """Choose `work_order` where this screen lists work orders, once it is listed (a retry's
        draft, which the hint says to launch from there). Screens without a list do nothing."""

    @property
    def service(self) -> JangarService:
        return self.app.service  # type: ignore[attr-defined,no-any-return]

    # Notifications often quote data (a title, a refusal's reason): always plain, visible text.
    def report_error(self, text: str) -> None:
        self.notify(visible(text), severity="error", timeout=8, markup=False)

    def report_done(self, text: str) -> None:
        self.notify(visible(text), timeout=4, markup=False)

    def report_work_order_error(self, text: str) -> None:
        """A work-order action was refused; screens with a work-order pane also show it there."""
        self.report_error(text)

    async def launch(self, work_order: WorkOrder) -> WorkOrder | None:
        if not can_launch(work_order):
            self.report_error(f"Only a draft can be launched; this one is {work_order.status.value}.")
            return None
        try:
            launched = await self.service.launch_work_order(work_order.id)
        except JangarError as error:
            self.report_work_order_error(f"Not launched, still a draft ({error.code.value}): {error.message}")
            return None
        self.report_done(f"Launched “{launched.title or launched.workflowId}”.")
        return launched

    def cancel(self, work_order: WorkOrder) -> None:
        """Ask first, then cancel in a worker. The question opens here, in the key's action, so a
        ctrl+y typed right behind the key answers it (see `lifecycle.ask`)."""
        if not can_cancel(work_order):
            self.report_error(f"This work order is already {work_order.status.value}.")
            return
        question = f"Cancel “{work_order.title or work_order.workflowId}” ({work_order.status.value})?"
        answer = ask(self.app, ConfirmScreen(question, yes="Cancel it", no="Keep it"))
        self.run_worker(self._cancel_if_yes(work_order, answer), group="work-order-question")

    async def _cancel_if_yes(self, work_order: WorkOrder, answer: Awaitable[bool | None]) -> None:
        if not await answer:
            return
        try:
            current = await self.service.cancel_work_order(work_order.id)
        except JangarError as error:
            self.report_work_order_error(f"Not canceled: {error.message}")
            return
        if current.status.is_terminal:
            self.report_done("Canceled.")
        else:  # the workflow records it once the worker has stopped the run: that can take a while
            self.report_done("Cancel requested: it ends as canceled once its worker has stopped it (see the run log).")

    async def retry(self, work_order: WorkOrder) -> WorkOrder | None:
        if not can_retry(work_order):
            self.report_error("Only a failed or canceled work order can be retried.")
            return None
        try:
            draft = await self.service.retry_work_order(work_order.id)
        except JangarError as error:
            self.report_work_order_error(f"Not retried: {error.message}")
            return None
        self.report_done(f"A new draft copies it: {self.launch_hint()}.")
        return draft

    def follow_up(self, work_order: WorkOrder, then: Callable[[WorkOrder], object] | None = None) -> None:
        """Ask for a note (opened here, so the keys typed behind reach it), then make and launch the
        follow-up in a worker (a draft when Temporal is down) and hand it to `then`."""
        if not can_follow_up(work_order):
            self.report_error(f"Only an ended work order can be followed up; this one is {work_order.status.value}.")
            return
        note = ask(self.app, FollowUpScreen(work_order.title or work_order.workflowId))
        self.run_worker(self._follow_up_with(work_order, note, then), group="work-order-question")

    async def _follow_up_with(
        self, work_order: WorkOrder, answer: Awaitable[str | None], then: Callable[[WorkOrder], object] | None
    ) -> None:
        note = await answer
        if note is None:
            return
        try:
            follow_up = await self.service.follow_up_work_order(work_order.id, note)
        except JangarError as error:
            self.report_work_order_error(f"Not followed up ({error.code.value}): {error.message}")
            return
        self.report_done(f"Follow-up launched on {follow_up.targetBranch or 'its own workspace'}.")
        if then is not None:
            then(follow_up)

    def copy_pr_url(self, work_order: WorkOrder) -> None:
        url = work_order.prUrl
        if url is None or not has_pr(work_order):
            self.report_error("This work order has no pull request yet.")
            return
        self.app.copy_to_clipboard(url)
        self.report_done("PR URL copied.")

    def copy_workflow_id(self, work_order: WorkOrder) -> None:
        self.app.copy_to_clipboard(work_order.workflowId)
        self.report_done("Workflow id copied.")
