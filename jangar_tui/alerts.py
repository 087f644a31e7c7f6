"""Alerts when a work order ends: which ones are new, and what to send the terminal about them.

Terminal notifications must work over ssh and in tmux and never show as garbage: the bell works
everywhere (tmux turns it into its own alert); OSC 9 (iTerm2, WezTerm, ghostty) and OSC 777
(urxvt, foot, WezTerm, ghostty) only where the terminal is known to understand them, or where the
operator says so (`JANGAR_NOTIFY`); inside tmux an OSC goes through tmux's passthrough (tmux 3.3+
with `allow-passthrough on`), and in `auto` mode tmux gets the bell only. Titles come from data:
everything but printable characters is dropped, and so is `;` (OSC 777's separator).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from jangar_tui.models import WorkOrder, WorkOrderStatus

NotifyMode = Literal["off", "bell", "osc9", "osc777"]

BEL = "\a"
ESC = "\x1b"
ST = ESC + "\\"
TEXT_MAX = 120


def plain(text: str) -> str:
    """`text` with only printable characters, no `;`, at most TEXT_MAX of them."""
    kept = "".join(c if c.isprintable() and c != ";" else " " for c in text)
    return " ".join(kept.split())[:TEXT_MAX]


def terminal_sequence(mode: NotifyMode, title: str, body: str, *, in_tmux: bool) -> str:
    """What to write to the terminal for one alert ("" when alerts are off)."""
    if mode == "off":
        return ""
    if mode == "bell":
        return BEL
    if mode == "osc9":
        osc = f"{ESC}]9;{plain(f'{title}: {body}')}{BEL}"
    else:
        osc = f"{ESC}]777;notify;{plain(title)};{plain(body)}{BEL}"
    if in_tmux:
        # tmux passes a DCS-wrapped sequence to the outer terminal, with every ESC doubled.
        osc = f"{ESC}Ptmux;{osc.replace(ESC, ESC + ESC)}{ST}"
        return osc + BEL  # and the bell: without passthrough tmux drops the OSC, never the bell
    return osc


class EndedWatch:
    """Which work orders ended since it started, from snapshots of each ended status.

    A status's first snapshot is what had ended before: remembered, never announced. After it,
    a work order seen in the status for the first time has just ended.
    """

    def __init__(self) -> None:
        self._known: dict[WorkOrderStatus, set[str]] = {}

    @property
    def following(self) -> frozenset[WorkOrderStatus]:
        """The statuses whose first snapshot has arrived: from then on, what ends there is announced."""
        return frozenset(self._known)

    def newly_ended(self, status: WorkOrderStatus, work_orders: Iterable[WorkOrder]) -> list[WorkOrder]:
        ids = {w.id: w for w in work_orders if w.status == status}
        known = self._known.get(status)
        self._known[status] = (known or set()) | set(ids)
        if known is None:
            return []
        return sorted((w for i, w in ids.items() if i not in known), key=lambda w: w.updatedAt)
