"""`JangarRuntime`: everything the app needs from Temporal, started and stopped as one.

On start it finds Temporal (the configured address, else the embedded port, starting the dev
server when nothing answers there), builds the launcher, runs a worker in-process in embedded
mode (unless `JANGAR_EMBEDDED_WORKER=false`) and the reconciler loop. Starting never raises:
when Temporal cannot be started or reached, the runtime still comes up and the launcher reports
it down (and reconnects once it is back). `aclose()` leaves no process or task behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import TracebackType
from typing import Self

from jangar_tui.config import Settings
from jangar_tui.models import JangarError, TemporalState
from jangar_tui.orchestration.client import temporal_target
from jangar_tui.orchestration.devserver import DevServer, DevServerError, port_answers
from jangar_tui.orchestration.launcher import STATE_POLL_S, TemporalLauncher
from jangar_tui.orchestration.payloads import DEFAULT_HEARTBEAT_TIMEOUT_S
from jangar_tui.orchestration.reconciler import RECONCILE_EVERY_S, Reconciler
from jangar_tui.orchestration.worker import run_worker
from jangar_tui.store.base import Store

log = logging.getLogger(__name__)

WORKER_RESTART_S = 2.0
DEV_SERVER_LOG = "temporal.log"
DEV_SERVER_DB = "temporal.db"
_WORKER_TASK = "jangar-worker"
_STOP_TIMEOUT_S = 15.0


class JangarRuntime:
    """`async with JangarRuntime(settings, store) as rt:` then `rt.launcher`, `rt.temporal_state`."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        reconcile_interval_s: float = RECONCILE_EVERY_S,
        poll_interval_s: float = STATE_POLL_S,
        heartbeat_timeout_s: float | None = DEFAULT_HEARTBEAT_TIMEOUT_S,
        start_timeout_s: float = 30.0,
        connect_timeout_s: float = 2.0,
    ) -> None:
        self.settings = settings
        self.store = store
        address, embedded = temporal_target(settings)
        self.embedded = embedded
        self.launcher = TemporalLauncher(
            settings,
            store,
            address=address,
            embedded=embedded,
            poll_interval_s=poll_interval_s,
            heartbeat_timeout_s=heartbeat_timeout_s,
            connect_timeout_s=connect_timeout_s,
        )
        self.temporal_state: TemporalState = self.launcher.state(up=False)
        self.dev_server: DevServer | None = None
        self.reconciler = Reconciler(store, self.launcher)
        self._reconcile_interval_s = reconcile_interval_s
        self._start_timeout_s = start_timeout_s
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._worker_running = False

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    @property
    def runs_worker(self) -> bool:
        return self.embedded and self.settings.embedded_worker

    async def start(self) -> None:
        """Bring up Temporal (embedded when needed), the worker and the reconciler. Never raises."""
        if self.embedded:
            await self._ensure_dev_server()
        self.temporal_state = await self.launcher.check_state()
        self._tasks.append(asyncio.create_task(self._follow_state(), name="jangar-temporal-state"))
        self._tasks.append(
            asyncio.create_task(self.reconciler.run(self._stop, self._reconcile_interval_s), name="jangar-reconciler")
        )
        if self.runs_worker:
            self._tasks.append(asyncio.create_task(self._supervise_worker(), name=_WORKER_TASK))

    async def aclose(self) -> None:
        """Stop the worker (its agents are killed), the loops, and the embedded server."""
        self._stop.set()
        tasks, self._tasks = self._tasks, []
        # A running worker stops on the event (running activities are cancelled, their agents
        # killed); everything else (pollers, a connect in progress) is simply cancelled.
        for task in tasks:
            if task.get_name() != _WORKER_TASK or not self._worker_running:
                task.cancel()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), _STOP_TIMEOUT_S)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.launcher.aclose()
        if self.dev_server is not None:
            server, self.dev_server = self.dev_server, None
            await asyncio.to_thread(server.stop)

    async def _ensure_dev_server(self) -> None:
        port = self.settings.embedded_temporal_port
        if await port_answers("127.0.0.1", port):
            return  # another Jangar (or a dev server someone started) already serves this port
        server = DevServer(
            port=port,
            db_path=self.settings.data_dir / DEV_SERVER_DB,
            log_path=self.settings.data_dir / DEV_SERVER_LOG,
            namespace=self.settings.temporal_namespace,
        )
        try:
            await server.start(self._start_timeout_s)
        except DevServerError as exc:
            log.warning("embedded Temporal did not start: %s", exc)
            self.launcher.hint = f"the embedded Temporal server did not start: {exc}"
            return
        self.dev_server = server

    async def _follow_state(self) -> None:
        async for state in self.launcher.watch_state():
            self.temporal_state = state

    async def _supervise_worker(self) -> None:
        """Run the in-process worker; when Temporal goes away, start it again once it is back."""
        while not self._stop.is_set():
            try:
                client = await self.launcher.client()
                self._worker_running = True
                await run_worker(self.settings, self.store, client=client, stop=self._stop)
            except JangarError as exc:
                log.info("worker waiting for Temporal: %s", exc.message)
            except Exception:
                log.exception("in-process worker stopped")
            finally:
                self._worker_running = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), WORKER_RESTART_S)
