"""The top line: where the data lives and how it is connected, and where Temporal is.

States read as words next to a glyph (● live, ◌ reconnecting, ✗ offline; ● up, ✗ down), so they
survive NO_COLOR and 16-colour terminals. The backend shows as "embedded" or the Convex host,
never a key.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from jangar_tui.models import ConnectionState, TemporalState

_CONNECTION_LOOK = {
    ConnectionState.LIVE: ("●", "green"),
    ConnectionState.RECONNECTING: ("◌", "yellow"),
    ConnectionState.OFFLINE: ("✗", "red"),
}


class StatusLine(Static):
    backend: reactive[str] = reactive("")
    connection: reactive[ConnectionState | None] = reactive(None)
    temporal: reactive[TemporalState | None] = reactive(None)
    temporal_note: reactive[str] = reactive("starting…")

    def render(self) -> Text:
        # "embedded (/path/to/db)": the kind up front, the path last, where truncation may eat it.
        kind, _, location = (self.backend or "…").partition(" (")
        line = Text.assemble(("Jangar", "bold"), "  data ", (kind, "bold"), " ")
        if self.connection is None:
            line.append("◌ connecting", style="yellow")
        else:
            glyph, colour = _CONNECTION_LOOK[self.connection]
            line.append(f"{glyph} {self.connection.value}", style=colour)
        line.append("  │  Temporal ")
        state = self.temporal
        if state is None:
            line.append(self.temporal_note, style="dim")
        else:
            where = f"embedded {state.address}" if state.embedded else state.address
            line.append(where, style="bold")
            line.append(" ")
            if state.up:
                line.append("● up", style="green")
            else:
                line.append("✗ down", style="red")
                if state.detail:
                    line.append(f" ({state.detail})", style="dim")
        if location:
            line.append(f"  │  {location.removesuffix(')')}", style="dim")
        line.no_wrap, line.overflow = True, "ellipsis"
        return line
