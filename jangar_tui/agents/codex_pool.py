"""The worker's `codex app-server` processes between turns: a spare, and threads kept loaded.

A turn needs a started, initialized app-server (~0.2 s to start) with its thread loaded
(`thread/resume`, ~30-50 ms: codex reads the thread back from CODEX_HOME). The pool saves both:

- **Spare**: one started server kept ready per configuration; taking it starts the next in the
  background.
- **Warm threads**: after a turn ends, its server is kept with the thread still loaded, so the
  session's next turn starts at once. A kept server is used only for the turn that follows the
  one it ran (the caller names the thread's newest turn from the store): if any other process
  ran a turn on the thread meanwhile (another worker, a retry), its copy is stale, so it is
  stopped and the thread resumed afresh. Codex lets one process at a time hold a thread, so
  another worker that gets the session's next turn while we keep it forks the thread instead
  (`CodexAppServer.open_thread`): the conversation carries on either way. At most `max_threads` are kept (the least recently used
  goes first), each for at most `idle_s`; `close` stops them all (worker shutdown).

The configuration includes CODEX_HOME as it is when taken: a server started for another home is
never used.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import OrderedDict

from jangar_tui.agents.codex_app_server import CodexAppServer, CodexError, CodexOptions

MAX_THREADS = 8
IDLE_S = 600.0  # as long as a chat workflow waits for the next message


def _key(options: CodexOptions) -> tuple[object, ...]:
    env = dict(options.env) if options.env is not None else None
    home = (env or os.environ).get("CODEX_HOME")
    return (
        tuple(options.binary),
        options.cwd,
        options.sandbox,
        options.model,
        tuple(options.overrides),
        home,
        None if env is None else tuple(sorted(env.items())),
    )


class CodexPool:
    def __init__(self, *, max_threads: int = MAX_THREADS, idle_s: float = IDLE_S) -> None:
        self.max_threads = max_threads
        self.idle_s = idle_s
        self._spares: dict[tuple[object, ...], asyncio.Task[CodexAppServer]] = {}
        # thread id → (configuration, server, idle timer), least recently kept first.
        self._warm: OrderedDict[str, tuple[tuple[object, ...], CodexAppServer, asyncio.TimerHandle]] = OrderedDict()
        self._closing: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def warm_threads(self) -> list[str]:
        """The threads kept loaded, least recently used first."""
        return list(self._warm)

    async def take(
        self, options: CodexOptions, *, thread_id: str | None = None, last_turn_id: str | None = None
    ) -> CodexAppServer:
        """A server for the next turn: the one that ran `thread_id`'s turn `last_turn_id`, with
        the thread still loaded (its `thread_id` is then set), else a fresh one with no thread."""
        key = _key(options)
        if thread_id is not None and thread_id in self._warm:
            warm_key, server, timer = self._warm.pop(thread_id)
            timer.cancel()
            fresh = (
                warm_key == key
                and last_turn_id is not None
                and server.last_turn_id == last_turn_id
                and server.turn_id is None
                and server.proc.returncode is None
            )
            if fresh:
                return server
            # The thread moved on elsewhere (or the process is gone). Stopped before the caller
            # resumes the thread: codex lets one process at a time hold a thread.
            await server.close()
        return await self._take_spare(options, key)

    async def _take_spare(self, options: CodexOptions, key: tuple[object, ...]) -> CodexAppServer:
        server: CodexAppServer | None = None
        spare = self._spares.pop(key, None)
        if spare is not None:
            with contextlib.suppress(CodexError):
                server = await spare
            if server is not None and server.proc.returncode is not None:
                server = None
        if server is None:
            server = await CodexAppServer.start(options)
        if not self._closed:
            self._spares[key] = asyncio.create_task(CodexAppServer.start(options), name="jangar-codex-spare")
        return server

    def keep(self, server: CodexAppServer) -> None:
        """Keep `server` with its thread loaded for the thread's next turn, or stop it when it
        cannot serve one (no thread, a turn still running, the process gone, the pool closed)."""
        thread_id = server.thread_id
        if (
            self._closed
            or thread_id is None
            or server.last_turn_id is None
            or server.turn_id is not None
            or server.proc.returncode is not None
            or self.max_threads <= 0
        ):
            self._stop(server)
            return
        previous = self._warm.pop(thread_id, None)
        if previous is not None and previous[1] is not server:
            previous[2].cancel()
            self._stop(previous[1])
        timer = asyncio.get_running_loop().call_later(self.idle_s, self._expire, thread_id, server)
        self._warm[thread_id] = (_key(server.options), server, timer)
        while len(self._warm) > self.max_threads:
            _, (_, oldest, oldest_timer) = self._warm.popitem(last=False)
            oldest_timer.cancel()
            self._stop(oldest)

    def _expire(self, thread_id: str, server: CodexAppServer) -> None:
        entry = self._warm.get(thread_id)
        if entry is not None and entry[1] is server:
            del self._warm[thread_id]
            self._stop(server)

    def _stop(self, server: CodexAppServer) -> None:
        task = asyncio.get_running_loop().create_task(server.close(), name="jangar-codex-stop")
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        """Stop every process the pool holds (worker shutdown)."""
        self._closed = True
        spares, self._spares = list(self._spares.values()), {}
        warm, self._warm = list(self._warm.values()), OrderedDict()
        for _, server, timer in warm:
            timer.cancel()
            self._stop(server)
        for spare in spares:
            try:
                server = await spare
            except (CodexError, asyncio.CancelledError):
                continue
            self._stop(server)
        while self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
