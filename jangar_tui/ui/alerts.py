"""Alerts in the app: a toast, and the terminal's own notification, when a work order ends or a
chat reply finishes while the operator is elsewhere.

Work orders: one live watch per ended status (the operator's own newest `ALERT_WATCH_LIMIT`, on
the (ownerId, status, updatedAt) index); `EndedWatch` tells which rows are new. Chat replies: one watch of the
newest `REPLY_SESSIONS` sessions; the newest messages of those whose conversation moved say which
replies finished (`jangar_tui.chat.finished`); told when the operator is not looking at that
session: another session, another screen (the board, a detail), or the terminal not focused
(Textual's `app_focus`, from the terminal's focus reports where it sends them). Both follow their
watches through the UI's one watch path (`watching.follow`). The terminal's bytes come from
`jangar_tui.alerts.terminal_sequence` and go through the driver's writer, in order with the
frames, so an alert never lands in the middle of an escape sequence Textual is writing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from jangar_tui.alerts import EndedWatch, NotifyMode, terminal_sequence
from jangar_tui.chat.finished import FinishedReplies, MovedSessions
from jangar_tui.models import TERMINAL_STATUSES, ChatSession, JangarError, WorkOrder, WorkOrderStatus
from jangar_tui.text_safety import one_line
from jangar_tui.ui.screens.watching import follow

if TYPE_CHECKING:
    from jangar_tui.ui.app import JangarApp

ALERT_WATCH_LIMIT = 20
REPLY_SESSIONS = 50  # sessions whose replies are followed: the most recently active
REPLY_LOOK_BACK = 3  # newest messages read of a session that moved
_SEVERITY = {
    WorkOrderStatus.SUCCEEDED: "information",
    WorkOrderStatus.FAILED: "error",
    WorkOrderStatus.CANCELED: "warning",
}


def _quiet(_: str) -> None:
    """An alert watch's outage is not reported on its own: the screens' watches of the same
    backend already say it, once."""


class WorkOrderAlerts:
    def __init__(self, app: JangarApp, mode: NotifyMode, *, in_tmux: bool, write: Callable[[str], None]) -> None:
        self._app = app
        self._mode = mode
        self._in_tmux = in_tmux
        self._write = write
        self._ended = EndedWatch()

    @property
    def following(self) -> bool:
        """Every ended status is watched: a work order that ends now is announced."""
        return self._ended.following == TERMINAL_STATUSES

    def start(self) -> None:
        for status in sorted(TERMINAL_STATUSES):
            self._app.run_worker(self._follow(status), group="alerts", exit_on_error=False)

    async def _follow(self, status: WorkOrderStatus) -> None:
        def ended(orders: list[WorkOrder]) -> None:
            for work_order in self._ended.newly_ended(status, orders):
                self.announce(work_order)

        await follow(lambda: self._app.service.watch_work_orders_by_status(status, ALERT_WATCH_LIMIT), ended, _quiet)

    def announce(self, work_order: WorkOrder) -> None:
        title = work_order.title or work_order.workflowId
        outcome = work_order.status.value
        self._app.notify(
            f"“{one_line(title)}” {outcome}",
            title="Work order ended",
            severity=_SEVERITY.get(work_order.status, "information"),  # type: ignore[arg-type]
            markup=False,
            timeout=8,
        )
        if sequence := terminal_sequence(self._mode, "Jangar", f"{title} {outcome}", in_tmux=self._in_tmux):
            self._write(sequence)


class ReplyAlerts:
    def __init__(
        self,
        app: JangarApp,
        mode: NotifyMode,
        *,
        in_tmux: bool,
        write: Callable[[str], None],
        since: int,
        looking_at: Callable[[str], bool],
    ) -> None:
        """`looking_at(session_id)`: the operator sees that session's transcript now."""
        self._app = app
        self._mode = mode
        self._in_tmux = in_tmux
        self._write = write
        self._looking_at = looking_at
        self._moved = MovedSessions(since)
        self._finished = FinishedReplies(since)
        self.following = False  # the first snapshot of the sessions arrived

    def start(self) -> None:
        self._app.run_worker(
            follow(lambda: self._app.service.watch_sessions(REPLY_SESSIONS), self._sessions_changed, _quiet),
            group="alerts",
            exit_on_error=False,
        )

    def _sessions_changed(self, sessions: list[ChatSession]) -> None:
        self.following = True
        for session in self._moved.moved(sessions):
            self._app.run_worker(self._look(session), group="reply-alerts", exit_on_error=False)

    async def _look(self, session: ChatSession) -> None:
        try:
            page = await self._app.service.list_messages(session.id, REPLY_LOOK_BACK)
        except JangarError:
            return  # deleted meanwhile, or unreachable: the next move looks again
        for _, outcome in self._finished.newly_finished(page.page):
            if not self._looking_at(session.id):
                self.announce(session, outcome)

    def announce(self, session: ChatSession, outcome: str) -> None:
        said = "is done" if outcome == "completed" else "failed"
        self._app.notify(
            f"The reply in “{one_line(session.title)}” {said}",
            title="Reply finished" if outcome == "completed" else "Reply failed",
            severity="information" if outcome == "completed" else "error",
            markup=False,
            timeout=8,
        )
        body = f"{session.title}: reply {'finished' if outcome == 'completed' else 'failed'}"
        if sequence := terminal_sequence(self._mode, "Jangar", body, in_tmux=self._in_tmux):
            self._write(sequence)
