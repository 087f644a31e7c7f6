"""One chat turn: the agent answers a user message into a growing assistant message.

Run by the background worker (see `orchestration/chat_activities.py`), never by the TUI. The turn
is safe to run again (Temporal retries it when a worker dies): it finds the reply an earlier
attempt started (metadata `replyTo`) and rewrites that message instead of adding another, and a
reply already finished is left alone.

Threads: the session's newest reply names its Codex thread and turn; the turn continues on the
worker's process that still has that thread loaded (`CodexPool`), else resumes it. When codex does
not have that thread (another machine, a lost CODEX_HOME) or there is none yet but the session
has earlier messages, a new thread starts with the earlier conversation from the store in its
first message, so the conversation survives.

A retry never gives Codex the user's message twice: each turn carries the user message's id
(`clientUserMessageId`), and a retried turn reads the thread's turns back. If an earlier attempt's
turn finished, its answer is taken from the thread; if it was cut off, Codex is asked to answer
again (`RETRY_NOTE`) instead of being sent the message a second time.

A failure (binary missing, model unreachable, missing key) leaves a system message saying why and
what to set. An interrupt keeps the partial text, marked `interrupted`.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import signal
from collections.abc import Callable

from jangar_tui.agents.codex_app_server import CodexAppServer, CodexError, CodexOptions, ThreadNotFound, turn_for
from jangar_tui.agents.codex_events import ItemCompleted, ReasoningDelta, TextDelta, ThreadReady, TurnEnded
from jangar_tui.agents.codex_pool import CodexPool
from jangar_tui.chat.reply import ERROR_KIND, FINAL_STATUSES, REPLY_KIND, Reply, is_reply, usage_of
from jangar_tui.chat.writer import ReplyWriter
from jangar_tui.config import Settings
from jangar_tui.conversation import conversation_prompt
from jangar_tui.models import PAGE_SIZE_MAX, ChatMessage, Role
from jangar_tui.store.base import Store

INTERRUPT_DRAIN_S = 3.0
SEED_NOTE = (
    "(This conversation continues from Jangar's history; the earlier turns are below. "
    "Answer the new message at the end.)"
)
RETRY_NOTE = (
    "(Your answer to my last message was cut off: the process running it stopped. Answer that message again, in full.)"
)


def failure_hint(error: str) -> str:
    """What the operator can set, from codex's error text."""
    lowered = error.lower()
    if "jangar_codex_bin" in lowered:
        return ""
    if "environment variable" in lowered or "api key" in lowered or "401" in lowered or "unauthorized" in lowered:
        return (
            "Set the API key your model provider names (its env_key, e.g. OPENAI_API_KEY) in the worker's "
            "environment, or sign in with `codex login` for the CODEX_HOME the worker uses."
        )
    if any(word in lowered for word in ("connect", "disconnected", "error sending request", "timed out", "dns")):
        return (
            "The model server did not answer: check the provider's base_url in $CODEX_HOME/config.toml "
            "(or JANGAR_CODEX_CONFIG) and that the worker can reach it."
        )
    return "JANGAR_CODEX_CONFIG, JANGAR_CHAT_MODEL and CODEX_HOME configure how codex runs."


class ChatTurn:
    """Answer `user_message_id` in `session_id`. `interrupt_requested()` tells a cancel that is an
    interrupt (keep the partial reply) from one that is a worker going away (leave it for the retry).
    `retry`: an earlier attempt may have reached Codex (Temporal's attempt > 1)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        session_id: str,
        user_message_id: str,
        interrupt_requested: Callable[[], bool] = lambda: False,
        pool: CodexPool | None = None,
        *,
        retry: bool = False,
    ) -> None:
        self.settings = settings
        self.store = store
        self.session_id = session_id
        self.user_message_id = user_message_id
        self.interrupt_requested = interrupt_requested
        self.pool = pool
        self.retry = retry
        self.writer: ReplyWriter | None = None

    async def run(self) -> str:
        """The turn's end: completed, interrupted, failed, or skipped (nothing to answer)."""
        history = (await self.store.list_messages(self.session_id, PAGE_SIZE_MAX)).page  # newest first
        user = next((m for m in history if m.id == self.user_message_id and m.role == Role.USER), None)
        if user is None:
            return "skipped"
        existing = next((m for m in history if is_reply(m) and _meta(m).get("replyTo") == user.id), None)
        if existing is not None and _meta(existing).get("status") in FINAL_STATUSES:
            return str(_meta(existing)["status"])
        earlier = [
            m for m in history if m.createdAt <= user.createdAt and m.id not in (user.id, getattr(existing, "id", None))
        ]
        previous = next((m for m in earlier if is_reply(m) and _meta(m).get("threadId")), None)
        with_usage = next((m for m in earlier if usage_of(m, "session") is not None), None)
        reply = Reply(
            user.id,
            "command" if self.settings.chat_command else "codex",
            previous_thread_id=str(_meta(previous)["threadId"]) if previous else None,
            previous_thread_total=usage_of(previous, "thread") if previous else None,
            previous_session_total=usage_of(with_usage, "session") if with_usage else None,
        )
        self.writer = ReplyWriter(
            self.store, self.session_id, lambda: (reply.content(), reply.metadata()), message=existing
        )
        try:
            if self.settings.chat_command:
                await self._run_command(reply, user.content)
            else:
                await self._run_codex(reply, user, earlier, previous, existing)
        except BaseException:
            await self.writer.abandon()  # the worker is going away: the retry rewrites the reply
            raise
        return await self._finish(reply)

    async def _finish(self, reply: Reply) -> str:
        assert self.writer is not None
        if self.writer.message is not None or reply.text or reply.status == "interrupted":
            await self.writer.finish()
        if reply.status == "failed":
            await self._report_failure(reply)
        return reply.status

    async def _report_failure(self, reply: Reply) -> None:
        error = reply.errors[-1] if reply.errors else "the agent ended without an answer"
        agent = "Codex" if reply.agent == "codex" else "The chat agent"
        hint = failure_hint(error) if reply.agent == "codex" else "JANGAR_CHAT_COMMAND sets the chat agent."
        text = f"{agent} could not answer: {error}" + (f"\n\n{hint}" if hint else "")
        await _say_failure_once(self.store, self.session_id, reply.reply_to, reply.agent, text)

    # -- Codex ------------------------------------------------------------------------------------

    async def _run_codex(
        self,
        reply: Reply,
        user: ChatMessage,
        earlier: list[ChatMessage],
        previous: ChatMessage | None,
        existing: ChatMessage | None,
    ) -> None:
        assert self.writer is not None
        workdir = self.settings.chat_workdir
        workdir.mkdir(parents=True, exist_ok=True)
        options = CodexOptions(
            binary=self.settings.codex_bin,
            cwd=workdir,
            sandbox=self.settings.chat_sandbox,
            model=self.settings.chat_model,
            overrides=tuple(self.settings.codex_config),
        )
        # A retry continues the thread an earlier attempt used: the session's, or the one it started.
        retrying = self.retry or existing is not None
        thread = _text(existing, "threadId") if retrying else None
        thread = thread or reply.previous_thread_id
        try:
            if self.pool is None:
                server = await CodexAppServer.start(options)
            else:
                last_turn = None if retrying else _text(previous, "turnId")
                server = await self.pool.take(options, thread_id=thread, last_turn_id=last_turn)
        except CodexError as exc:
            reply.status = "failed"
            reply.add_error(str(exc))
            return
        keep = False
        try:
            if server.thread_id is not None:  # kept loaded since the session's previous turn
                ready = ThreadReady(threadId=server.thread_id, resumed=True)
            else:
                try:
                    ready = await server.open_thread(thread, with_turns=retrying)
                except ThreadNotFound:
                    ready = await server.open_thread(None)
            reply.apply(ready)
            prompt = user.content if ready.resumed else _seeded(user.content, earlier)
            earlier_attempt = turn_for(server.turns, user.id)
            if earlier_attempt is not None and earlier_attempt.get("status") == "completed":
                reply.recover(earlier_attempt)
                server.last_turn_id = reply.turn_id
                self.writer.changed()
                keep = True
                return
            if earlier_attempt is not None:
                prompt = RETRY_NOTE  # the thread has the message already
            async for event in server.run_turn(prompt, client_id=user.id):
                reply.apply(event)
                if isinstance(event, (TextDelta, ReasoningDelta)) or (
                    isinstance(event, ItemCompleted) and event.item.get("type") != "userMessage"
                ):
                    self.writer.changed()
                if isinstance(event, TurnEnded):
                    break
            keep = reply.status != "failed"
        except CodexError as exc:
            reply.status = "failed"
            reply.add_error(str(exc))
        except asyncio.CancelledError:
            if not self.interrupt_requested():
                raise
            _absorb_cancel()
            await self._interrupt_codex(server, reply)
            keep = True  # the pool keeps it only if codex confirmed the turn's end
        finally:
            if keep and self.pool is not None:
                self.pool.keep(server)
            else:
                await server.close()

    async def _interrupt_codex(self, server: CodexAppServer, reply: Reply) -> None:
        """Ask codex to stop; what arrives until it confirms is kept. The reply ends `interrupted`."""
        with contextlib.suppress(TimeoutError, CodexError):
            async with asyncio.timeout(INTERRUPT_DRAIN_S):
                await server.interrupt()
                async for event in server.events():
                    reply.apply(event)
                    if isinstance(event, TurnEnded):
                        break
        reply.status = "interrupted"

    # -- another agent: a command whose stdout is the reply ---------------------------------------

    async def _run_command(self, reply: Reply, text: str) -> None:
        assert self.writer is not None and self.settings.chat_command
        workdir = self.settings.chat_workdir
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.settings.chat_command,
                text,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=str(workdir),
                start_new_session=True,
            )
        except OSError as exc:
            reply.status = "failed"
            reply.add_error(f"{self.settings.chat_command[0]!r} cannot be run ({exc.strerror or exc}).")
            return
        assert proc.stdout is not None and proc.stderr is not None
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        stderr_task = asyncio.create_task(proc.stderr.read(64 * 1024))
        try:
            while chunk := await proc.stdout.read(4096):
                reply.add_text(decoder.decode(chunk))
                self.writer.changed()
            reply.add_text(decoder.decode(b"", final=True))
            code = await proc.wait()
            if code != 0:
                reply.status = "failed"
                err = (await stderr_task).decode(errors="replace").strip()
                reply.add_error(f"exit code {code}" + (f": {err[-500:]}" if err else ""))
            else:
                reply.status = "completed"
        except asyncio.CancelledError:
            if not self.interrupt_requested():
                raise
            _absorb_cancel()
            reply.status = "interrupted"
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
            stderr_task.cancel()


async def abandon_turn(store: Store, session_id: str, user_message_id: str, reason: str) -> None:
    """End a turn that no attempt could finish, so that no reply says "writing…" forever: a reply
    still streaming keeps its text and is marked failed, and a system message says why (once)."""
    history = (await store.list_messages(session_id, PAGE_SIZE_MAX)).page
    reply = next((m for m in history if is_reply(m) and _meta(m).get("replyTo") == user_message_id), None)
    agent = str(_meta(reply).get("agent", "codex"))
    if reply is not None and _meta(reply).get("status") not in FINAL_STATUSES:
        meta = dict(_meta(reply))
        errors = meta.get("errors")
        meta["status"] = "failed"
        meta["errors"] = [*(errors if isinstance(errors, list) else []), reason]
        await store.update_message(reply.id, metadata=meta)
    elif reply is not None:
        return  # an attempt did finish it after all
    text = f"The reply could not be finished: {reason}\n\nSend the message again to try once more."
    await _say_failure_once(store, session_id, user_message_id, agent, text)


async def _say_failure_once(store: Store, session_id: str, reply_to: str, agent: str, text: str) -> None:
    page = await store.list_messages(session_id, PAGE_SIZE_MAX)
    if any(_meta(m).get("kind") == ERROR_KIND and _meta(m).get("replyTo") == reply_to for m in page.page):
        return  # an earlier attempt said it already
    await store.append_message(session_id, Role.SYSTEM, text, {"kind": ERROR_KIND, "replyTo": reply_to, "agent": agent})


def _absorb_cancel() -> None:
    """An interrupt is handled here: the rest of the turn (the final write) must not be cancelled too."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()


def _meta(message: ChatMessage | None) -> dict[str, object]:
    return message.metadata if message is not None and isinstance(message.metadata, dict) else {}


def _text(message: ChatMessage | None, key: str) -> str | None:
    value = _meta(message).get(key)
    return value if isinstance(value, str) and value else None


def _seeded(text: str, earlier_newest_first: list[ChatMessage]) -> str:
    """The first message of a new thread: the earlier conversation from the store, then `text`."""
    turns = [m for m in earlier_newest_first if m.role in (Role.USER, Role.ASSISTANT)]
    if not turns:
        return text
    return f"{SEED_NOTE}\n\n{conversation_prompt(turns)}\n\nNew message:\n{text}"


__all__ = ["REPLY_KIND", "ChatTurn", "failure_hint"]
