"""What the UI remembers in the data dir: each change merged into the file, per user where it is."""

from __future__ import annotations

from pathlib import Path

from jangar_tui.preferences import (
    PREFERENCES_FILE,
    remember_board_seen,
    remember_theme,
    remembered_board_seen,
    remembered_theme,
)


def test_board_seen_is_per_user_and_kept_beside_the_theme(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert remembered_board_seen(data, "alice") is None
    remember_board_seen(data, "alice", 1_700_000_000_000)
    remember_theme(data, "nord")
    remember_board_seen(data, "bob", 5)
    assert remembered_board_seen(data, "alice") == 1_700_000_000_000
    assert remembered_board_seen(data, "bob") == 5
    assert remembered_board_seen(data, "carol") is None
    assert remembered_theme(data) == "nord"
    remember_theme(data, "dracula")  # a new theme keeps what else was remembered
    assert remembered_board_seen(data, "alice") == 1_700_000_000_000
    assert [p.name for p in data.iterdir()] == [PREFERENCES_FILE]  # no temporary file left


def test_a_damaged_file_remembers_nothing_and_is_replaced(tmp_path: Path) -> None:
    (tmp_path / PREFERENCES_FILE).write_text('{"boardSeenAt": {"alice": "yesterday", "bob": true}, "theme": 3}')
    assert remembered_board_seen(tmp_path, "alice") is None
    assert remembered_board_seen(tmp_path, "bob") is None
    assert remembered_theme(tmp_path) is None
    (tmp_path / PREFERENCES_FILE).write_text("[1, 2]")
    assert remembered_board_seen(tmp_path, "alice") is None
    remember_board_seen(tmp_path, "alice", 7)
    assert remembered_board_seen(tmp_path, "alice") == 7
