"""The floor under Jangar's startup: the least a Textual app with pydantic models does.

It imports what any app on this stack must (Textual's `App`, pydantic with one model class, which
is what pulls in `pydantic.fields` and `pydantic.types`), then shows a single `Static` with the
marker given on the command line. `bench_ui.py` starts it in the same pty, interleaved with Jangar's
runs, so the report can say how much of Jangar's startup is Jangar's own on that same minute.
"""

from __future__ import annotations

import sys

from pydantic import BaseModel, ConfigDict
from textual.app import App, ComposeResult
from textual.widgets import Static


class Row(BaseModel):
    model_config = ConfigDict(defer_build=True)  # as Jangar's models

    title: str


class FloorApp(App[None]):
    def __init__(self, marker: str) -> None:
        super().__init__()
        self._row = Row.model_construct(title=marker)

    def compose(self) -> ComposeResult:
        yield Static(self._row.title)


if __name__ == "__main__":
    FloorApp(sys.argv[1]).run()
