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

from jangar_tui.agents.codex_app_server import CodexAppServer, CodexError, CodexOptions, ThreadNotFound
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
) -> AgentResult:
    """Run one turn to its end. `started` is awaited once codex runs (mark `running`, heartbeat).

    A follow-up passes the thread to continue (`thread_id`) and the prompt a new thread gets when
    codex no longer has it, or there is none (`seeded_prompt`); the log says which happened.
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
        turn_prompt = prompt if ready.resumed or seeded_prompt is None else seeded_prompt
        async for event in server.run_turn(turn_prompt):
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
