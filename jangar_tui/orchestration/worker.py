"""The Temporal worker: runs `WorkOrderWorkflow`, `ChatWorkflow` and their activities against a store.

`run_worker` is what the app runs in-process (embedded mode); `worker_main` is `jangar worker`
(also `python -m jangar_tui.orchestration.worker`): configured store, configured Temporal, clean
shutdown on SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from jangar_tui.config import ConfigError, Settings, load_settings
from jangar_tui.orchestration.activities import WorkOrderActivities
from jangar_tui.orchestration.chat_activities import ChatActivities
from jangar_tui.orchestration.chat_workflow import ChatWorkflow
from jangar_tui.orchestration.client import connect, temporal_target
from jangar_tui.orchestration.workflow import WorkOrderWorkflow
from jangar_tui.store.base import Store

# Heartbeats reach the server at least this often, so a cancel reaches a running agent quickly.
HEARTBEAT_THROTTLE = timedelta(seconds=1)
# A crashed worker's cached workflows move to another worker after this long.
STICKY_TIMEOUT = timedelta(seconds=3)
# On shutdown, running activities get this long before they are cancelled (and retried elsewhere).
GRACEFUL_SHUTDOWN = timedelta(seconds=1)
RECONNECT_EVERY_S = 2.0


def build_worker(settings: Settings, store: Store, client: Client, chat: ChatActivities | None = None) -> Worker:
    activities = WorkOrderActivities(settings, store)
    chat = chat or ChatActivities(settings, store)
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[WorkOrderWorkflow, ChatWorkflow],
        activities=[*activities.all(), *chat.all()],
        max_heartbeat_throttle_interval=HEARTBEAT_THROTTLE,
        default_heartbeat_throttle_interval=HEARTBEAT_THROTTLE,
        sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT,
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )


async def run_worker(
    settings: Settings,
    store: Store,
    *,
    client: Client | None = None,
    stop: asyncio.Event | None = None,
    restart: asyncio.Event | None = None,
) -> None:
    """Run a worker until `stop` (or `restart`) is set, or forever; connects to the configured
    Temporal when no client is given."""
    if client is None:
        address, _ = temporal_target(settings)
        client = await connect(address, settings.temporal_namespace)
    chat = ChatActivities(settings, store)
    worker = build_worker(settings, store, client, chat)
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
            await worker.shutdown()
            with contextlib.suppress(asyncio.CancelledError):
                await run
        await chat.close()


async def _serve(settings: Settings, stop: asyncio.Event) -> int:
    from jangar_tui.store.factory import open_store  # the store backends load only when needed

    address, embedded = temporal_target(settings)
    store = open_store(settings)
    if embedded:
        try:
            return await _serve_embedded(settings, store, stop)
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
                    print(f"jangar worker: waiting for Temporal at {address} ({exc})", file=sys.stderr, flush=True)
                    announced = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RECONNECT_EVERY_S)
        if client is None:
            return 0
        print(
            f"jangar worker: task queue {settings.task_queue!r} on {address} "
            f"(namespace {settings.temporal_namespace!r}), store {store.description}",
            file=sys.stderr,
            flush=True,
        )
        await run_worker(settings, store, client=client, stop=stop)
        return 0
    finally:
        await store.close()


async def _serve_embedded(settings: Settings, store: Store, stop: asyncio.Event) -> int:
    """No Temporal configured: attach to the data dir's embedded server like any instance (it is
    started or adopted, and stays while this worker runs), and run the worker on it."""
    from jangar_tui.orchestration.runtime import JangarRuntime  # runtime.py imports this module

    async with JangarRuntime(settings, store, worker=True) as runtime:
        print(
            f"jangar worker: task queue {settings.task_queue!r} on the data dir's embedded Temporal "
            f"{runtime.launcher.address} (namespace {settings.temporal_namespace!r}), store {store.description}",
            file=sys.stderr,
            flush=True,
        )
        await stop.wait()
    return 0


def worker_main(argv: list[str] | None = None) -> int:
    """`jangar worker`: run a worker with the configuration from the environment."""
    parser = argparse.ArgumentParser(
        prog="jangar worker",
        description="Run a Jangar Temporal worker (configured by TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, "
        "JANGAR_TASK_QUEUE, JANGAR_AGENT_COMMAND and the store variables).",
    )
    parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"jangar worker: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await _serve(settings, stop)

    return asyncio.run(main())


if __name__ == "__main__":
    sys.exit(worker_main())
