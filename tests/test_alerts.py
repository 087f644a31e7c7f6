"""Alerts: the exact bytes each mode writes, the modes `auto` picks, and which work orders are new."""

from __future__ import annotations

import pytest

from jangar_tui.alerts import BEL, ESC, EndedWatch, plain, terminal_sequence
from jangar_tui.config import ConfigError, load_settings
from jangar_tui.models import WorkOrder, WorkOrderStatus

S = WorkOrderStatus


def test_the_bytes_of_each_mode() -> None:
    assert terminal_sequence("off", "Jangar", "Deploy succeeded", in_tmux=False) == ""
    assert terminal_sequence("bell", "Jangar", "Deploy succeeded", in_tmux=False) == "\a"
    assert terminal_sequence("bell", "Jangar", "Deploy succeeded", in_tmux=True) == "\a"
    assert terminal_sequence("osc9", "Jangar", "Deploy succeeded", in_tmux=False) == "\x1b]9;Jangar: Deploy succeeded\a"
    assert (
        terminal_sequence("osc777", "Jangar", "Deploy succeeded", in_tmux=False)
        == "\x1b]777;notify;Jangar;Deploy succeeded\a"
    )
    # In tmux: DCS passthrough with the inner ESC doubled, then a bell tmux always shows.
    assert (
        terminal_sequence("osc9", "Jangar", "Deploy succeeded", in_tmux=True)
        == "\x1bPtmux;\x1b\x1b]9;Jangar: Deploy succeeded\a\x1b\\\a"
    )


def test_text_from_data_cannot_end_the_sequence_or_start_another() -> None:
    hostile = "x\x1b]52;c;AAAA\a\x9b2J\u202e; y\n" + "z" * 500
    sequence = terminal_sequence("osc777", "Jangar", hostile, in_tmux=False)
    assert sequence.count(ESC) == 1 and sequence.count(BEL) == 1  # only the framing's own
    assert sequence.startswith("\x1b]777;notify;Jangar;") and sequence.endswith("\a")
    body = sequence.removeprefix("\x1b]777;notify;Jangar;").removesuffix("\a")
    assert ";" not in body and "\x9b" not in body and "\u202e" not in body and "\n" not in body
    assert len(body) <= 120
    assert plain("a\tb\x00c") == "a b c"


@pytest.mark.parametrize(
    ("environ", "mode", "in_tmux"),
    [
        ({}, "bell", False),
        ({"TERM_PROGRAM": "iTerm.app"}, "osc9", False),
        ({"LC_TERMINAL": "iTerm2"}, "osc9", False),  # what iTerm2 passes over ssh
        ({"TERM_PROGRAM": "WezTerm"}, "osc9", False),
        ({"TERM": "foot"}, "osc777", False),
        ({"TERM": "xterm-256color", "TERM_PROGRAM": "Apple_Terminal"}, "bell", False),
        ({"TMUX": "/tmp/tmux-0/default,1,0", "TERM_PROGRAM": "tmux", "LC_TERMINAL": "iTerm2"}, "bell", True),
        ({"TMUX": "/tmp/tmux-0/default,1,0", "JANGAR_NOTIFY": "osc9"}, "osc9", True),
        ({"TERM_PROGRAM": "iTerm.app", "JANGAR_NOTIFY": "off"}, "off", False),
        ({"JANGAR_NOTIFY": "OSC777"}, "osc777", False),
    ],
)
def test_auto_picks_what_the_terminal_understands(environ: dict[str, str], mode: str, in_tmux: bool) -> None:
    settings = load_settings({"JANGAR_USER": "u", "JANGAR_DATA_DIR": "/tmp/x", **environ})
    assert (settings.notify, settings.in_tmux) == (mode, in_tmux)


def test_a_bad_setting_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="JANGAR_NOTIFY"):
        load_settings({"JANGAR_USER": "u", "JANGAR_DATA_DIR": "/tmp/x", "JANGAR_NOTIFY": "loud"})


def _wo(ident: str, status: WorkOrderStatus, updated: int = 1) -> WorkOrder:
    return WorkOrder(_id=ident, sessionId="s", workflowId=f"w-{ident}", status=status, createdAt=0, updatedAt=updated)


def test_what_ended_before_is_never_announced() -> None:
    watch = EndedWatch()
    assert watch.newly_ended(S.FAILED, [_wo("old", S.FAILED)]) == []
    assert watch.newly_ended(S.SUCCEEDED, []) == []
    assert [w.id for w in watch.newly_ended(S.FAILED, [_wo("new", S.FAILED, 3), _wo("old", S.FAILED)])] == ["new"]
    assert watch.newly_ended(S.FAILED, [_wo("new", S.FAILED, 3), _wo("old", S.FAILED)]) == []  # once
    assert [w.id for w in watch.newly_ended(S.SUCCEEDED, [_wo("b", S.SUCCEEDED, 5), _wo("a", S.SUCCEEDED, 4)])] == [
        "a",
        "b",
    ]
