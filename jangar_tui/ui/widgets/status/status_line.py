"""The top line: where the data lives and how it is connected, and where Temporal is.

States read as words next to a glyph (● live, ◌ reconnecting, ✗ offline; ● up, ✗ down), so they
survive NO_COLOR and 16-colour terminals. The backend shows as "embedded" or the Convex host,
never a key. Temporal shows as "embedded port N" (the data dir's own server) or the configured
address.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from jangar_tui.models import ConnectionState, TemporalState
from jangar_tui.ui.safe_text import one_line

_CONNECTION_LOOK = {
    ConnectionState.LIVE: ("●", "green"),
    ConnectionState.RECONNECTING: ("◌", "yellow"),
    ConnectionState.OFFLINE: ("✗", "red"),
}


_GAP = {False: "  │  ", True: " │ "}  # between the parts, by compactness


class StatusLine(Static):
    backend: reactive[str] = reactive("")
    connection: reactive[ConnectionState | None] = reactive(None)
    connection_detail: reactive[str | None] = reactive(None)
    temporal: reactive[TemporalState | None] = reactive(None)
    temporal_note: reactive[str] = reactive("starting…")

    def render(self) -> Text:
        # "embedded (/path/to/db)": the kind up front, the path last, where truncation may eat it.
        kind, _, location = one_line(self.backend or "…").partition(" (")
        compact = False
        line = self._states(kind, compact=compact)
        if line.cell_len > self.content_size.width:
            # Narrow terminals (80 columns): the states must stay in sight, so the name and the
            # wide gaps go before anything of them is cut.
            compact = True
            line = self._states(kind, compact=compact)
        if location:
            line.append(f"{_GAP[compact]}{location.removesuffix(')')}", style="dim")
        line.no_wrap, line.overflow = True, "ellipsis"
        return line

    def _states(self, kind: str, *, compact: bool) -> Text:
        """The backend and Temporal, each with its state."""
        line = Text() if compact else Text.assemble(("Jangar", "bold"), "  ")
        line.append_text(Text.assemble("data ", (kind, "bold"), " "))
        if self.connection is None:
            line.append("◌ connecting", style="yellow")
        else:
            glyph, colour = _CONNECTION_LOOK[self.connection]
            line.append(f"{glyph} {self.connection.value}", style=colour)
            if self.connection != ConnectionState.LIVE and self.connection_detail:
                line.append(f" ({self.connection_detail})", style="dim")
        line.append(f"{_GAP[compact]}Temporal ")
        state = self.temporal
        if state is None:
            line.append(one_line(self.temporal_note), style="dim")
        else:
            # The embedded server is always on this host: its port is what tells two apart.
            where = f"embedded port {state.address.rpartition(':')[2]}" if state.embedded else state.address
            line.append(one_line(where), style="bold")
            line.append(" ")
            if state.up:
                line.append("● up", style="green")
            else:
                line.append("✗ down", style="red")
                if state.detail:
                    line.append(one_line(f" ({state.detail})"), style="dim")
        return line
