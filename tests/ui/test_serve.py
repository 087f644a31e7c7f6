"""`jangar serve` before any browser: what counts as loopback, what each tab runs, what stops it."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from jangar_tui import cli
from jangar_tui.ui.serve import app_command, is_loopback


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("example.com", False),
    ],
)
def test_loopback_is_what_only_this_machine_reaches(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_each_tab_runs_this_pythons_jangar_with_the_serves_flags() -> None:
    command = app_command(["--data-dir=/tmp/a dir; rm -rf ~", "--user=op"])
    assert shlex.split(command) == [sys.executable, "-m", "jangar_tui", "--data-dir=/tmp/a dir; rm -rf ~", "--user=op"]


def test_a_bad_keys_table_stops_the_serve_before_it_listens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keys]\nboard = "ctrl+n"\n')
    monkeypatch.setenv("JANGAR_CONFIG", str(config))
    monkeypatch.setenv("JANGAR_DATA_DIR", str(tmp_path / "data"))
    assert cli.main(["serve", "--port", "0"]) == 2
    assert capsys.readouterr().err.startswith(f"jangar serve: {config}: [keys] main.board = 'ctrl+n'")
    config.write_text("")
    assert cli.main(["serve", "--port", "70000"]) == 2
    assert "--port must be 0-65535" in capsys.readouterr().err


def test_the_help_says_an_address_other_than_loopback_asks_for_a_token(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "JANGAR_SERVE_TOKEN" in text and "token" in text
