"""The Temporal worker: runs `WorkOrderWorkflow`, `ChatWorkflow` and their activities against a store.

`run_worker` is what the app runs in-process (embedded mode); `worker_main` is `jangar worker`
(also `python -m jangar_tui.orchestration.worker`): configured store, configured Temporal, a drain
on SIGINT/SIGTERM (README.md, "Deployment: many workers").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from datetime import timedelta
from typing import Any, Self

from temporalio.client import Client
from temporalio.worker import Worker

from jangar_tui.aio import within
from jangar_tui.config import ConfigError, Settings, load_settings
from jangar_tui.orchestration.activities import HandBack, WorkOrderActivities
from jangar_tui.orchestration.chat_activities import ChatActivities
from jangar_tui.orchestration.chat_workflow import ChatWorkflow
from jangar_tui.orchestration.client import connect, temporal_target
from jangar_tui.orchestration.payloads import agent_task_queue
from jangar_tui.orchestration.workflow import WorkOrderWorkflow
from jangar_tui.store.base import Store
from jangar_tui.text_safety import visible

# Heartbeats reach the server at least this often, so a cancel reaches a running agent quickly.
HEARTBEAT_THROTTLE = timedelta(seconds=1)
# A crashed worker's cached workflows move to another worker after this long.
STICKY_TIMEOUT = timedelta(seconds=3)
# On shutdown, running agents get this long before they are handed back (`jangar worker`: the
# drain timeout, JANGAR_DRAIN_TIMEOUT, instead).
GRACEFUL_SHUTDOWN = timedelta(seconds=1)
# The SDK cancels the agents still running this long after the drain, a backstop only: by then
# the hand-back has stopped them (which takes a few seconds at most). Its cancel would not do
# instead (see `HandBack`). The other activities (a chat turn, a store write) get the drain.
HAND_BACK_MARGIN = timedelta(seconds=10)
RECONNECT_EVERY_S = 2.0


class JangarWorker:
    """The Temporal workers of one process, as one.

    On the task queue: the workflows and every activity but the agent runs (the store updates,
    workspaces, delivery, chat turns). On the agents' queue (`agent_task_queue`): the agent runs,
    at most `settings.max_agents` at once: Temporal's `max_concurrent_activities`, so a worker
    with no free slot does not even ask for one and the agent goes to a worker that has one.
    Chat turns are not counted: the operator is waiting on them.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        client: Client,
        *,
        drain: timedelta = GRACEFUL_SHUTDOWN,
        chat: ChatActivities | None = None,
    ) -> None:
        self.hand_back = HandBack()
        self.chat = chat or ChatActivities(settings, store)
        self.drain = drain
        self._stopping = False
        self._run_task: asyncio.Task[None] | None = None
        activities = WorkOrderActivities(settings, store, self.hand_back)
        common: dict[str, Any] = {
            "identity": settings.worker_name,
            "max_heartbeat_throttle_interval": HEARTBEAT_THROTTLE,
            "default_heartbeat_throttle_interval": HEARTBEAT_THROTTLE,
        }
        self.main = Worker(
            client,
            task_queue=settings.task_queue,
            workflows=[WorkOrderWorkflow, ChatWorkflow],
            # run_agent too: workflows started before agents had a queue of their own run it here.
            activities=[*activities.all(), *self.chat.all()],
            sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT,
            graceful_shutdown_timeout=drain,
            **common,
        )
        self.agents = Worker(
            client,
            task_queue=agent_task_queue(settings.task_queue),
            activities=[activities.run_agent],
            max_concurrent_activities=settings.max_agents,
            graceful_shutdown_timeout=drain + HAND_BACK_MARGIN,
            **common,
        )

    async def __aenter__(self) -> Self:
        self._run_task = asyncio.create_task(self.run())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._run_task is not None, "entered without __aenter__"
        if not self._run_task.done():
            await self.shutdown()
        await self._run_task
        await self.chat.close()

    async def run(self) -> None:
        """Until both workers have shut down; one failing on its own shuts the other down."""
        runs = [asyncio.create_task(worker.run()) for worker in (self.main, self.agents)]
        done, _ = await asyncio.wait(runs, return_when=asyncio.FIRST_COMPLETED)
        if not self._stopping:  # one failed on its own: no agent is worth waiting for
            self.hand_back.set()
            await self.shutdown()
        await asyncio.wait(runs)
        for run in done:
            run.result()  # re-raises a worker's own failure

    async def shutdown(self, now: asyncio.Event | None = None) -> None:
        """Stop polling at once; running agents get `drain` to finish (or until `now` is set),
        then they are handed back; returns once nothing runs."""
        self._stopping = True
        stopping = asyncio.gather(self.main.shutdown(), self.agents.shutdown())
        waiters: set[asyncio.Future[Any]] = {asyncio.ensure_future(asyncio.shield(stopping))}
        if now is not None:
            waiters.add(asyncio.create_task(now.wait()))
        try:
            await asyncio.wait(waiters, timeout=self.drain.total_seconds(), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        self.hand_back.set()
        await stopping


async def run_worker(
    settings: Settings,
    store: Store,
    *,
    client: Client | None = None,
    stop: asyncio.Event | None = None,
    restart: asyncio.Event | None = None,
    drain: timedelta = GRACEFUL_SHUTDOWN,
    now: asyncio.Event | None = None,
) -> None:
    """Run a worker until `stop` (or `restart`) is set, or forever; connects to the configured
    Temporal when no client is given. On `stop`, running agents get `drain` to finish (cut short
    when `now` is set) before they are handed back to other workers."""
    if client is None:
        address, _ = temporal_target(settings)
        client = await connect(address, settings.temporal_namespace)
    worker = JangarWorker(settings, store, client, drain=drain)
    run = asyncio.create_task(worker.run())
    waiters = [asyncio.create_task(event.wait()) for event in (stop, restart) if event is not None]
    try:
        done, _ = await asyncio.wait({run, *waiters}, return_when=asyncio.FIRST_COMPLETED)
        if run in done:
            run.result()  # the worker failed on its own: report it
    finally:
        for waiter in waiters:
            waiter.cancel()
        if not run.done():
            await worker.shutdown(now)
            with contextlib.suppress(asyncio.CancelledError):
                await run
        await worker.chat.close()


async def _serve(settings: Settings, stop: asyncio.Event, now: asyncio.Event) -> int:
    from jangar_tui.store.factory import open_store  # the store backends load only when needed

    address, embedded = temporal_target(settings)
    store = open_store(settings)
    if embedded:
        try:
            return await _serve_embedded(settings, store, stop, now)
        finally:
            await store.close()
    try:
        client: Client | None = None
        announced = False
        while client is None and not stop.is_set():
            try:
                client = await connect(address, settings.temporal_namespace)
            except ConnectionError as exc:
                if not announced:
                    _say(f"waiting for Temporal at {address} ({exc})")
                    announced = True
                with contextlib.suppress(TimeoutError):
                    await within(stop.wait(), RECONNECT_EVERY_S)
        if client is None:
            return 0
        _say(
            f"{settings.worker_name}: task queue {settings.task_queue!r} on {address} "
            f"(namespace {settings.temporal_namespace!r}), at most {settings.max_agents} agents at once, "
            f"store {store.description}"
        )
        drain = timedelta(seconds=settings.drain_timeout_s)
        await run_worker(settings, store, client=client, stop=stop, drain=drain, now=now)
        _say(f"{settings.worker_name}: stopped")
        return 0
    finally:
        await store.close()


async def _serve_embedded(settings: Settings, store: Store, stop: asyncio.Event, now: asyncio.Event) -> int:
    """No Temporal configured: attach to the data dir's embedded server like any instance (it is
    started or adopted, and stays while this worker runs), and run the worker on it."""
    from jangar_tui.orchestration.runtime import JangarRuntime  # runtime.py imports this module

    drain = timedelta(seconds=settings.drain_timeout_s)
    async with JangarRuntime(settings, store, worker=True, drain=drain, now=now) as runtime:
        _say(
            f"{settings.worker_name}: task queue {settings.task_queue!r} on the data dir's embedded Temporal "
            f"{runtime.launcher.address} (namespace {settings.temporal_namespace!r}), at most "
            f"{settings.max_agents} agents at once, store {store.description}"
        )
        await stop.wait()
    _say(f"{settings.worker_name}: stopped")
    return 0


def _say(line: str) -> None:
    print(f"jangar worker: {visible(line)}", file=sys.stderr, flush=True)


def worker_main(argv: list[str] | None = None) -> int:
    """`jangar worker`: run a worker with the configuration from the environment."""
    parser = argparse.ArgumentParser(
        prog="jangar worker",
        description="Run a Jangar Temporal worker for work orders and chat turns, configured like `jangar` "
        "(environment and config.toml; `jangar config` shows them): TEMPORAL_ADDRESS (unset: the embedded "
        "server of JANGAR_DATA_DIR, shared with every jangar on that data dir), TEMPORAL_NAMESPACE, "
        "JANGAR_TASK_QUEUE, JANGAR_CODEX_BIN (the Codex it runs) or JANGAR_AGENT_COMMAND (another agent), "
        "JANGAR_MAX_AGENTS, JANGAR_WORKER_NAME, JANGAR_DRAIN_TIMEOUT and the store's variables. "
        "SIGTERM or SIGINT drains: no new work is taken, running agents get JANGAR_DRAIN_TIMEOUT seconds "
        "to finish, then are stopped and handed back to other workers; a second signal hands them back at once.",
    )
    parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"jangar worker: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    async def main() -> int:
        stop, now = asyncio.Event(), asyncio.Event()

        def on_signal() -> None:
            if stop.is_set():
                if not now.is_set():
                    _say("second signal: handing running agents back now")
                now.set()
                return
            _say(
                f"draining: no new work; running agents get up to {settings.drain_timeout_s:g} s to finish "
                "(JANGAR_DRAIN_TIMEOUT), then are handed back; a second signal hands them back now"
            )
            stop.set()

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal)
        return await _serve(settings, stop, now)

    return asyncio.run(main())


if __name__ == "__main__":
    sys.exit(worker_main())
