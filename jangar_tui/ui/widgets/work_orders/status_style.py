"""How a work-order status looks: glyph + word + colour, so it reads without colour too."""

from __future__ import annotations

from rich.text import Text

from jangar_tui.models import WorkOrderStatus as S

STATUS_LOOK: dict[S, tuple[str, str]] = {
    S.DRAFT: ("○", "white"),
    S.SUBMITTED: ("↑", "blue"),
    S.ACCEPTED: ("◎", "cyan"),
    S.RUNNING: ("▶", "yellow"),
    S.SUCCEEDED: ("✓", "green"),
    S.FAILED: ("✗", "red"),
    S.CANCELED: ("⊘", "bright_black"),
}


def status_text(status: S) -> Text:
    glyph, colour = STATUS_LOOK[status]
    return Text(f"{glyph} {status.value}", style=f"bold {colour}")
