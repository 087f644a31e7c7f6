"""A work order's agent when it is Codex: one app-server turn in the workspace, logged as it goes.

Work orders run Codex unless `JANGAR_AGENT_COMMAND` names another agent; the binary is
`JANGAR_CODEX_BIN`'s, as for chat turns (resolved in `config.py`). Jangar drives `codex app-server`
through the shared driver: the turn runs with a sandbox that can write the workspace and no
approvals, and every item it completes (commands, file changes, messages, reasoning, usage, the
turn's error) goes to the work order's event log as it happens.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path

from jangar_tui.agents.codex_app_server import CodexAppServer, CodexError, CodexOptions, ThreadNotFound, turn_for
from jangar_tui.agents.codex_events import ItemCompleted, TurnEnded
from jangar_tui.agents.codex_log import log_events
from jangar_tui.models import EventKind
from jangar_tui.orchestration.agent import find_pr_url
from jangar_tui.orchestration.event_log import EventLogWriter
from jangar_tui.orchestration.payloads import OUTPUT_TAIL_CHARS, AgentResult

SANDBOX = "workspace-write"


async def run_codex(
    binary: Sequence[str],
    prompt: str,
    cwd: Path,
    env: Mapping[str, str],
    log: EventLogWriter,
    started: Callable[[CodexAppServer], Awaitable[None]],
    thread_id: str | None = None,
    seeded_prompt: str | None = None,
    *,
    client_id: str | None = None,
    earlier_thread: str | None = None,
    start_over: Callable[[], Awaitable[None]] | None = None,
) -> AgentResult:
    """Run one turn to its end. `started` is awaited once codex runs (mark `running`, heartbeat).

    A follow-up passes the thread to continue (`thread_id`) and the prompt a new thread gets when
    codex no longer has it, or there is none (`seeded_prompt`); the log says which happened.
    The turn carries `client_id` (the work order's id). A later attempt of the same run passes the
    thread the earlier one logged (`earlier_thread`): it continues there, Codex told that its work
    was cut off, or, when that turn had finished, takes its answer. Where codex no longer has it,
    or no earlier thread was logged, `start_over` puts the worktree back first (the caller's: it
    does nothing on a first attempt).
    Cancelling the task closes codex and its process group (the caller's `finally` need not).
    """
    try:
        server = await CodexAppServer.start(CodexOptions(binary=binary, cwd=cwd, sandbox=SANDBOX, env=env))
    except CodexError as exc:
        log.add(EventKind.ERROR, str(exc))
        return AgentResult(exitCode=127, errorOutput=str(exc))
    messages: list[str] = []
    ended: TurnEnded | None = None
    try:
        await started(server)
        turn_prompt: str | None = None
        if earlier_thread is not None:
            # What the earlier attempt sent, if its turn never began: it continued a follow-up's
            # thread (the note), or started one (seeded when there is a story so far).
            first = prompt if earlier_thread == thread_id or seeded_prompt is None else seeded_prompt
            found = await _continue_earlier(server, earlier_thread, client_id, first, log)
            if isinstance(found, AgentResult):
                return found
            turn_prompt = found
        if turn_prompt is None:
            if start_over is not None:
                await start_over()
            turn_prompt = await _open_thread(server, thread_id, seeded_prompt, log, prompt)
        async for event in server.run_turn(turn_prompt, client_id=client_id):
            for entry in log_events(event):
                log.add_event(entry)
            if isinstance(event, ItemCompleted) and event.item.get("type") == "agentMessage":
                messages.append(str(event.item.get("text", "")))
            elif isinstance(event, TurnEnded):
                ended = event
    except CodexError as exc:
        log.add(EventKind.ERROR, str(exc))
        return AgentResult(exitCode=1, output="\n\n".join(messages)[-OUTPUT_TAIL_CHARS:], errorOutput=str(exc))
    finally:
        await server.close()
    output = "\n\n".join(messages)[-OUTPUT_TAIL_CHARS:]
    # The last PR mentioned, as in find_pr_url: agents end with the PR they opened.
    pr_url = next((url for text in reversed(messages) if (url := find_pr_url(text))), None)
    if ended is not None and ended.status == "completed":
        return AgentResult(exitCode=0, output=output, prUrl=pr_url)
    # The agent's own error is the failure's reason.
    reason = (ended.error if ended is not None else None) or "The Codex turn did not complete."
    return AgentResult(exitCode=1, output=output, errorOutput=reason, prUrl=pr_url)


RESTART_NOTE = (
    "(Your work on my last message was cut off: the process running it stopped. What you did so far "
    "is in the workspace as you left it. Continue from where you stopped, without redoing what is "
    "done, and finish the task.)"
)


async def _open_thread(
    server: CodexAppServer, thread_id: str | None, seeded_prompt: str | None, log: EventLogWriter, prompt: str
) -> str:
    """Open the thread a run continues (a follow-up's) or a new one; the turn's prompt."""
    try:
        ready = await server.open_thread(thread_id)
    except ThreadNotFound:
        log.add(
            EventKind.SETUP,
            f"Codex no longer has thread {thread_id}: a new thread starts with the earlier run's prompt "
            "and result before the follow-up.",
        )
        ready = await server.open_thread(None)
    if ready.resumed:
        log.add(EventKind.SETUP, f"Codex thread {ready.threadId} (continued)", {"threadId": ready.threadId})
    else:
        if thread_id is None and seeded_prompt is not None:
            log.add(
                EventKind.SETUP,
                "The earlier run left no Codex thread: the new one starts with its prompt and result "
                "before the follow-up.",
            )
        log.add(EventKind.SETUP, f"Codex thread {ready.threadId}", {"threadId": ready.threadId})
    return prompt if ready.resumed or seeded_prompt is None else seeded_prompt


async def _continue_earlier(
    server: CodexAppServer, thread_id: str, client_id: str | None, first_prompt: str, log: EventLogWriter
) -> str | AgentResult | None:
    """Open the thread an earlier attempt of this run worked in. Returns the turn's prompt (the
    restart note, or `first_prompt` when the earlier turn never began), the earlier turn's result
    when it had finished, or None when codex no longer has the thread."""
    try:
        ready = await server.open_thread(thread_id, with_turns=True)
    except ThreadNotFound:
        log.add(
            EventKind.SETUP,
            f"Codex no longer has thread {thread_id}, where the earlier attempt of this run worked.",
        )
        return None
    log.add(
        EventKind.SETUP,
        f"Codex thread {ready.threadId} (continued after the earlier attempt stopped)",
        {"threadId": ready.threadId},
    )
    earlier = turn_for(server.turns, client_id) if client_id is not None else None
    if earlier is None:
        return first_prompt
    if earlier.get("status") != "completed":
        return RESTART_NOTE
    # It had finished (the worker stopped before it could report): its answer, as it gave it.
    texts = [
        str(item["text"])
        for item in earlier.get("items") or []
        if isinstance(item, dict) and item.get("type") == "agentMessage" and isinstance(item.get("text"), str)
    ]
    log.add(EventKind.SETUP, "The earlier attempt's turn had finished: its answer is the run's.")
    output = "\n\n".join(texts)[-OUTPUT_TAIL_CHARS:]
    pr_url = next((url for text in reversed(texts) if (url := find_pr_url(text))), None)
    return AgentResult(exitCode=0, output=output, prUrl=pr_url)
