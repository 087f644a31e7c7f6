"""The terminal is resumed only after a suspend, onto a terminal that is still there.

The handlers are called directly here; `tests/e2e` hangs up a real terminal on `jangar`.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from types import FrameType

import pytest

from jangar_tui.ui import resume_guard

SIGNALS = (signal.SIGTSTP, signal.SIGCONT)


@pytest.fixture
def restored_handlers() -> Iterator[None]:
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def test_a_sigcont_resumes_only_what_was_suspended_and_only_onto_a_live_terminal(
    restored_handlers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    terminal = {"alive": True}

    def driver_suspend(signum: int, frame: FrameType | None) -> None:
        calls.append("suspend")

    def driver_resume(signum: int, frame: FrameType | None) -> None:
        calls.append("resume")

    signal.signal(signal.SIGTSTP, driver_suspend)  # what Textual's Linux driver installs
    signal.signal(signal.SIGCONT, driver_resume)
    monkeypatch.setattr(resume_guard, "terminal_alive", lambda: terminal["alive"])
    resume_guard.install()
    suspend, resume = signal.getsignal(signal.SIGTSTP), signal.getsignal(signal.SIGCONT)
    assert callable(suspend) and callable(resume)

    resume(signal.SIGCONT, None)  # a hang-up's SIGCONT: nothing was suspended
    assert calls == []
    suspend(signal.SIGTSTP, None)
    resume(signal.SIGCONT, None)
    assert calls == ["suspend", "resume"]
    resume(signal.SIGCONT, None)  # a second SIGCONT has nothing left to resume
    assert calls == ["suspend", "resume"]

    suspend(signal.SIGTSTP, None)
    terminal["alive"] = False  # the terminal hung up while the process was stopped
    resume(signal.SIGCONT, None)
    assert calls == ["suspend", "resume", "suspend"]


def test_without_the_drivers_handlers_nothing_is_installed(restored_handlers: None) -> None:
    for signum in SIGNALS:
        signal.signal(signum, signal.SIG_DFL)  # a headless run: the driver set no handlers
    resume_guard.install()
    assert [signal.getsignal(signum) for signum in SIGNALS] == [signal.SIG_DFL, signal.SIG_DFL]


def test_a_closed_stdin_is_not_a_live_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.__stdin__", None)
    assert resume_guard.terminal_alive() is False
