"""`JangarRuntime`: everything an instance needs from Temporal, started and stopped as one.

On start it finds Temporal: the configured address, else the data dir's embedded server, which
it attaches to (adopting the server another instance runs, or starting it; see embedded.py). It
builds the launcher, runs a worker in-process in embedded mode (unless
`JANGAR_EMBEDDED_WORKER=false`; `jangar worker` forces one), the reconciler loop, and a watch
that notices when the server goes away, then starts or adopts the data dir's server again and
restarts the worker on it, and settles the work of workers that are gone (agent_records.py).
Starting never raises: when Temporal cannot be started or reached, the runtime still comes up and
the launcher reports it down. `aclose()` leaves no process or task behind; the embedded server is
stopped by the last instance of the data dir to leave.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from types import TracebackType
from typing import Self

from jangar_tui.aio import within
from jangar_tui.config import Settings
from jangar_tui.models import JangarError, TemporalState
from jangar_tui.orchestration.agent_records import AgentRecords, sweep_orphans
from jangar_tui.orchestration.client import temporal_target
from jangar_tui.orchestration.devserver import DevServerError
from jangar_tui.orchestration.embedded import EmbeddedTemporal, EmbeddedTemporalError, Endpoint
from jangar_tui.orchestration.launcher import STATE_POLL_S, TemporalLauncher
from jangar_tui.orchestration.payloads import DEFAULT_HEARTBEAT_TIMEOUT_S
from jangar_tui.orchestration.reconciler import RECONCILE_EVERY_S, Reconciler
from jangar_tui.orchestration.worker import GRACEFUL_SHUTDOWN, HAND_BACK_MARGIN, run_worker
from jangar_tui.store.base import Store

log = logging.getLogger(__name__)

WORKER_RESTART_S = 2.0
# How often an instance looks for agents whose worker is gone (a cheap directory listing).
SWEEP_EVERY_S = 1.0
_WORKER_TASK = "jangar-worker"
_STOP_TIMEOUT_S = 15.0
_CANCEL_GRACE_S = 5.0


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
        worker: bool | None = None,
        drain: timedelta = GRACEFUL_SHUTDOWN,
        now: asyncio.Event | None = None,
        on_note: Callable[[str], None] | None = None,
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
        self.embedded_temporal = (
            EmbeddedTemporal(settings, start_timeout_s=start_timeout_s, on_starting=self._note_starting)
            if embedded
            else None
        )
        self.reconciler = Reconciler(store, self.launcher)
        self._records = AgentRecords(settings.data_dir)
        self._reconcile_interval_s = reconcile_interval_s
        self._worker = (embedded and settings.embedded_worker) if worker is None else worker
        self._on_note = on_note
        # On close, the worker's running agents get `drain` to finish (cut short by `now`).
        self._drain = drain
        self._now = now
        self._stop = asyncio.Event()
        self._restart_worker = asyncio.Event()
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
        return self._worker

    @property
    def endpoint(self) -> Endpoint | None:
        """Where the embedded server answers, and whether this instance started it."""
        return self.embedded_temporal.endpoint if self.embedded_temporal is not None else None

    async def start(self) -> None:
        """Bring up Temporal (embedded when needed), the worker and the reconciler. Never raises."""
        if self.embedded_temporal is not None:
            await self._attach()
        self.temporal_state = await self.launcher.check_state()
        self._tasks.append(asyncio.create_task(self._follow_state(), name="jangar-temporal-state"))
        self._tasks.append(
            asyncio.create_task(self.reconciler.run(self._stop, self._reconcile_interval_s), name="jangar-reconciler")
        )
        self._tasks.append(asyncio.create_task(self._sweep_forever(), name="jangar-orphan-sweep"))
        if self.runs_worker:
            self._tasks.append(asyncio.create_task(self._supervise_worker(), name=_WORKER_TASK))

    async def aclose(self) -> None:
        """Stop the worker (its agents are killed), the loops, and detach from the embedded server.

        Bounded: a task still running a while after its cancel is named in the log and not waited
        for here (a lost cancel once made ctrl+q wait 26 s; see jangar_tui/aio.py)."""
        self._stop.set()
        tasks, self._tasks = self._tasks, []
        # A running worker stops on the event (running activities are cancelled, their agents
        # killed); everything else (pollers, a connect in progress) is simply cancelled.
        for task in tasks:
            if task.get_name() != _WORKER_TASK or not self._worker_running:
                task.cancel()
        stop_timeout = _STOP_TIMEOUT_S + (self._drain + HAND_BACK_MARGIN).total_seconds()
        await _wait_ended(tasks, stop_timeout)
        late = [task for task in tasks if not task.done()]
        for task in late:
            task.cancel()
        await _wait_ended(late, _CANCEL_GRACE_S)
        if stuck := [task.get_name() for task in late if not task.done()]:
            log.warning(
                "stopping without waiting for %s: still running %g s after being cancelled", stuck, _CANCEL_GRACE_S
            )
        for task in tasks:
            if task.done() and not task.cancelled() and (error := task.exception()) is not None:
                log.warning("%s had failed: %s", task.get_name(), error)
        await self.launcher.aclose()
        if self.embedded_temporal is not None:
            await self.embedded_temporal.detach()

    async def _attach(self, *, again: bool = False) -> None:
        """Attach to (or, `again`, re-find) the data dir's server; a failure is reported, not raised."""
        assert self.embedded_temporal is not None
        try:
            if again:
                endpoint = await self.embedded_temporal.ensure()
            else:
                endpoint = await self.embedded_temporal.attach()
        except (DevServerError, EmbeddedTemporalError) as exc:
            log.warning("embedded Temporal is not available: %s", exc)
            self.launcher.hint = f"the embedded Temporal server did not start: {exc}"
            return
        self.launcher.hint = None
        if endpoint.address != self.launcher.address:
            self.launcher.address = endpoint.address
            self.launcher.forget_client()
            # A worker on the old address would poll nothing; on the same address the SDK's
            # connection comes back by itself and running agents are left alone.
            self._restart_worker.set()

    def _note_starting(self) -> None:
        if self._on_note is not None:
            self._on_note("starting…")

    async def _follow_state(self) -> None:
        async for state in self.launcher.watch_state():
            if self._stop.is_set():
                return  # quitting: the cancel that follows may land where it is not seen
            self.temporal_state = state
            if not state.up and self.embedded_temporal is not None and not self._stop.is_set():
                # The data dir's server went away (killed, or stopped by an instance that thought
                # it was the last): start or adopt it again, then put the worker back on it.
                await self._attach(again=True)

    async def _sweep_forever(self) -> None:
        """Settle the work of workers that died (their agents stopped, their attempts failed)."""
        while not self._stop.is_set():
            if self._records.all():
                try:
                    client = await self.launcher.client()
                    settled = await sweep_orphans(self._records, client)
                    if settled:
                        log.info("settled %d attempt(s) of workers that are gone", settled)
                except JangarError:
                    pass  # Temporal is down: the records wait for the next round
                except Exception:
                    log.exception("orphan sweep failed")
            with contextlib.suppress(TimeoutError):
                await within(self._stop.wait(), SWEEP_EVERY_S)

    async def _supervise_worker(self) -> None:
        """Run the in-process worker; when Temporal goes away, start it again once it is back."""
        while not self._stop.is_set():
            self._restart_worker.clear()
            try:
                client = await self.launcher.client()
                self._worker_running = True
                await run_worker(
                    self.settings,
                    self.store,
                    client=client,
                    stop=self._stop,
                    restart=self._restart_worker,
                    drain=self._drain,
                    now=self._now,
                )
            except JangarError as exc:
                log.info("worker waiting for Temporal: %s", exc.message)
            except Exception:
                log.exception("in-process worker stopped")
            finally:
                self._worker_running = False
            with contextlib.suppress(TimeoutError):
                await within(self._stop.wait(), WORKER_RESTART_S)


async def _wait_ended(tasks: list[asyncio.Task[None]], timeout_s: float) -> None:
    """Wait up to `timeout_s` for every task to end (however it ends)."""
    if tasks:
        await asyncio.wait(tasks, timeout=timeout_s)
