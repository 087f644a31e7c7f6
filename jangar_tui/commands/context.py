"""What a command runs with: the service, the printer, and Temporal when the command needs it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from jangar_tui.commands.output import Printer
from jangar_tui.config import Settings
from jangar_tui.service import JangarService

if TYPE_CHECKING:
    from jangar_tui.orchestration.runtime import JangarRuntime


@dataclass
class Context:
    service: JangarService
    settings: Settings
    printer: Printer
    stdin: TextIO
    _runtime: JangarRuntime | None = field(default=None, init=False)

    async def use_temporal(self) -> None:
        """Give the service a launcher, as the UI's runtime does (imported only by the commands that run work).

        A command never runs a worker: it would die with the command. On the embedded runtime, a
        work order launched while no jangar is open waits, `submitted`, in the data dir's
        Temporal database until jangar or `jangar worker` runs.
        """
        if self._runtime is not None:
            return
        from jangar_tui.orchestration.runtime import JangarRuntime

        runtime = JangarRuntime(self.settings, self.service.store, worker=False)
        await runtime.start()
        self._runtime = runtime
        self.service.launcher = runtime.launcher

    async def aclose(self) -> None:
        if self._runtime is not None:
            runtime, self._runtime = self._runtime, None
            self.service.launcher = None
            await runtime.aclose()
