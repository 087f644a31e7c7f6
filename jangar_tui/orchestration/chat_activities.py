"""The chat turn as a Temporal activity: `ChatTurn` with heartbeats, interrupts and store errors.

A cancel the workflow asked for is an interrupt (the partial reply is kept, marked interrupted);
any other cancel (the worker shutting down) leaves the reply as it is, and Temporal retries the
turn on a worker that runs, which rewrites the same reply (`ChatTurn` finds it by `replyTo`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from jangar_tui.agents.codex_pool import CodexPool
from jangar_tui.chat.turn import ChatTurn, abandon_turn
from jangar_tui.config import Settings
from jangar_tui.models import ErrorCode, JangarError
from jangar_tui.orchestration.heartbeat import heartbeating
from jangar_tui.orchestration.payloads import RUN_CHAT_TURN, SETTLE_CHAT_TURN, ChatTurnAbandoned, ChatTurnRequest
from jangar_tui.store.base import Store


class ChatActivities:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.codex = CodexPool()

    def all(self) -> list[Callable[..., Any]]:
        return [self.run_chat_turn, self.settle_chat_turn]

    async def close(self) -> None:
        """Stop the codex processes kept for the next turns."""
        await self.codex.close()

    @activity.defn(name=RUN_CHAT_TURN)
    async def run_chat_turn(self, req: ChatTurnRequest) -> str:
        turn = ChatTurn(
            self.settings,
            self.store,
            req.sessionId,
            req.userMessageId,
            _interrupt_requested,
            self.codex,
            retry=activity.info().attempt > 1,
        )
        try:
            async with heartbeating():  # they carry the workflow's cancel (the interrupt) to the turn
                return await turn.run()
        except JangarError as exc:
            # A refused store call (the session was deleted) is final; an unreachable store is retried.
            raise ApplicationError(
                exc.message, type=f"JangarError.{exc.code.value}", non_retryable=exc.code != ErrorCode.UNAVAILABLE
            ) from exc

    @activity.defn(name=SETTLE_CHAT_TURN)
    async def settle_chat_turn(self, req: ChatTurnAbandoned) -> None:
        try:
            await abandon_turn(self.store, req.sessionId, req.userMessageId, req.reason)
        except JangarError as exc:
            if exc.code == ErrorCode.UNAVAILABLE:
                raise  # retried: the store may be back
            # Refused (the session or the reply was deleted meanwhile): nothing is left to settle.


def _interrupt_requested() -> bool:
    details = activity.cancellation_details()
    return details is not None and details.cancel_requested
