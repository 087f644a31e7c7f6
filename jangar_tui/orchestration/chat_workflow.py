"""`ChatWorkflow`: one per chat session; it answers the session's user messages one turn at a time.

The service sends each user message with signal-with-start (`enqueue`) to the workflow id
`jangar-chat-<sessionId>`, so the first message starts it and later ones join its queue. A
message sent while a reply streams is QUEUED, not steered into the running turn: the operator's
messages are answered in order, each by its own turn, and each reply belongs to one message.
`interrupt` cancels the running turn (its activity keeps the partial text, marked interrupted);
queued messages stay queued.

The workflow ends after `IDLE` without messages (the next message starts it again), and
continues as new after `TURNS_PER_RUN` turns, so its history stays small.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, CancelledError, FailureError, TimeoutType
from temporalio.exceptions import TimeoutError as TemporalTimeout

with workflow.unsafe.imports_passed_through():
    from jangar_tui.orchestration.payloads import (
        CHAT_ENQUEUE_SIGNAL,
        CHAT_INTERRUPT_SIGNAL,
        CHAT_WORKFLOW_NAME,
        RUN_CHAT_TURN,
        SETTLE_CHAT_TURN,
        ChatInput,
        ChatTurnAbandoned,
        ChatTurnRequest,
    )

IDLE = timedelta(minutes=10)
TURNS_PER_RUN = 200
# A dead worker's turn moves to another worker after this long without a heartbeat.
TURN_HEARTBEAT = timedelta(seconds=10)
# Retried when its worker dies; the retry reuses the reply the first attempt started.
_TURN_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3)
# Settling a turn no attempt finished only writes to the store: retried while the store is away.
_SETTLE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
# Workflows started before the settle step existed replay without it.
_SETTLE_PATCH = "settle-abandoned-turn"


@workflow.defn(name=CHAT_WORKFLOW_NAME)
class ChatWorkflow:
    def __init__(self) -> None:
        self._queue: list[str] = []
        self._seen: set[str] = set()
        self._current: workflow.ActivityHandle[str] | None = None

    @workflow.run
    async def run(self, inp: ChatInput) -> None:
        for message_id in inp.pending:
            self.enqueue(message_id)
        turns = 0
        while True:
            try:
                await workflow.wait_condition(lambda: bool(self._queue), timeout=IDLE)
            except TimeoutError:
                if not self._queue:
                    return
            message_id = self._queue.pop(0)
            self._current = workflow.start_activity(
                RUN_CHAT_TURN,
                ChatTurnRequest(sessionId=inp.sessionId, userMessageId=message_id),
                result_type=str,
                start_to_close_timeout=timedelta(seconds=inp.turnTimeoutS),
                heartbeat_timeout=TURN_HEARTBEAT,
                retry_policy=_TURN_RETRY,
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            )
            try:
                await self._current
            except ActivityError as exc:
                workflow.logger.warning("chat turn for %s ended with %s", message_id, exc.cause or exc)
                # An interrupt is a cancel the turn handled itself; anything else left the reply
                # unfinished ("writing…" forever): say so in the session.
                if not isinstance(exc.cause, CancelledError) and workflow.patched(_SETTLE_PATCH):
                    await workflow.execute_activity(
                        SETTLE_CHAT_TURN,
                        ChatTurnAbandoned(sessionId=inp.sessionId, userMessageId=message_id, reason=_reason(exc)),
                        start_to_close_timeout=timedelta(seconds=30),
                        retry_policy=_SETTLE_RETRY,
                    )
            self._current = None
            turns += 1
            if turns >= TURNS_PER_RUN or workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(
                    ChatInput(sessionId=inp.sessionId, pending=list(self._queue), turnTimeoutS=inp.turnTimeoutS)
                )

    @workflow.signal(name=CHAT_ENQUEUE_SIGNAL)
    def enqueue(self, message_id: str) -> None:
        # Signal-with-start may deliver the same message twice (a retried send): answer it once.
        if message_id not in self._seen:
            self._seen.add(message_id)
            self._queue.append(message_id)

    @workflow.signal(name=CHAT_INTERRUPT_SIGNAL)
    def interrupt(self) -> None:
        if self._current is not None and not self._current.done():
            self._current.cancel()


def _reason(exc: ActivityError) -> str:
    """A sentence for the operator from the last attempt's failure."""
    cause = exc.cause
    attempts = _TURN_RETRY.maximum_attempts
    if isinstance(cause, TemporalTimeout) and cause.type == TimeoutType.HEARTBEAT:
        return f"the worker running it stopped answering, {attempts} times."
    if isinstance(cause, TemporalTimeout):
        return f"it ran longer than JANGAR_CHAT_TIMEOUT allows, {attempts} times."
    message = cause.message if isinstance(cause, FailureError) and cause.message else exc.message
    return f"{message} (after {attempts} attempts)."
