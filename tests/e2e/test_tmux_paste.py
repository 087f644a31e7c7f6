"""A paste in the real terminal stays text: a coloured log pasted into the message input sends
nothing, opens nothing and quits nothing (Textual alone replayed a paste with an ESC in it as key
presses: each CR sent a message, BEL opened the board, DC1 quit)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_tmux_e2e import JANGAR, STARTUP_S, UI_STEP_S, ProcessWatch, kill_tree, tmux_env, wait_until
from tmux import TmuxDriver

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (the e2e test runs jangar in it)"),
]

__all__ = ["tmux_env"]  # the fixture, shared with test_tmux_e2e

PASTE = "log \x1b[31mred\x1b[0m line\nsecond\x07 board\x11 quit end"


def test_a_pasted_coloured_log_is_text_in_the_input(tmux_env: tuple[TmuxDriver, Path, int], tmp_path: Path) -> None:
    tmux, _data_dir, _port = tmux_env
    tmux.start([str(JANGAR)])
    watch = ProcessWatch(tmux.pane_pid())
    try:
        tmux.wait_for_text("No session yet", timeout_s=STARTUP_S)
        source = tmp_path / "paste.txt"
        source.write_bytes(PASTE.encode())
        tmux.tmux("load-buffer", "-b", "hostile", str(source))
        # -p: bracketed, as the terminal does for a paste; the app asked for it at start.
        tmux.tmux("paste-buffer", "-p", "-r", "-b", "hostile", "-t", tmux.target)
        screen = tmux.wait_for_text("second␇ board␑ quit end", timeout_s=UI_STEP_S)
        assert "log ␛[31mred␛[0m line" in screen
        assert "Sessions (0)" in screen and "Board" not in screen  # nothing sent, no board
        assert not tmux.pane_dead()
        tmux.send_keys("C-q")
        wait_until(tmux.pane_dead, "jangar to quit", UI_STEP_S * 2)
        assert tmux.pane_exit_status() == 0
    finally:
        kill_tree(watch)
