"""Resume the terminal only after a suspend, and only onto a terminal that is still there.

Textual's Linux driver restarts its input thread on every SIGCONT. A terminal that hangs up (a
dropped ssh connection) sends SIGCONT along with SIGHUP, so the driver started a second input
thread reading the dead terminal in a busy loop. Textual's shutdown stops only the newest input
thread and then clears the flag the older one waits for, so one of them could spin on at full CPU
and keep the process alive forever after the UI had stopped (seen when the hang-up came during
the seconds ctrl+q spends stopping Temporal; `tests/e2e` covers it).
"""

from __future__ import annotations

import signal
import sys
import termios
from types import FrameType
from typing import Any


def terminal_alive() -> bool:
    """True while stdin is a terminal that answers (a hung-up one fails with EIO)."""
    try:
        termios.tcgetattr(sys.__stdin__.fileno())  # type: ignore[union-attr]
    except (termios.error, OSError, ValueError, AttributeError):
        return False
    return True


def install() -> None:
    """Wrap the driver's SIGTSTP/SIGCONT handlers; call once the driver has installed them."""
    on_suspend, on_resume = signal.getsignal(signal.SIGTSTP), signal.getsignal(signal.SIGCONT)
    if not callable(on_suspend) or not callable(on_resume):
        return  # not Textual's Linux driver (headless, or a platform without these signals)
    suspended = False

    def suspend(signum: int, frame: FrameType | None) -> Any:
        nonlocal suspended
        suspended = True
        return on_suspend(signum, frame)  # stops the process until SIGCONT

    def resume(signum: int, frame: FrameType | None) -> Any:
        nonlocal suspended
        if suspended and terminal_alive():
            suspended = False
            return on_resume(signum, frame)
        return None  # a hang-up, or a SIGCONT nobody asked for: nothing to resume

    signal.signal(signal.SIGTSTP, suspend)
    signal.signal(signal.SIGCONT, resume)
