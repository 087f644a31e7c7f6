"""The theme: JANGAR_THEME (environment or config.toml) at start, a palette choice remembered."""

from __future__ import annotations

from pathlib import Path

from ui_support import notified, until

from jangar_tui.config import load_settings
from jangar_tui.preferences import remember_theme, remembered_theme
from jangar_tui.service import JangarService
from jangar_tui.ui.app import JangarApp


async def test_the_configured_theme_is_used_and_a_new_choice_remembered(service: JangarService, tmp_path: Path) -> None:
    chosen: list[str] = []
    app = JangarApp(service, theme="nord", remember_theme=chosen.append)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.theme == "nord", "the configured theme")
        app.theme = "gruvbox"  # what the palette's "Change theme" does
        await until(pilot, lambda: chosen[-1:] == ["gruvbox"], "the choice remembered")


async def test_an_unknown_theme_says_so_and_keeps_the_default(service: JangarService) -> None:
    app = JangarApp(service, theme="no-such-theme\x1b[2J")
    async with app.run_test(size=(80, 24)) as pilot:
        default = JangarApp(service).theme
        await until(pilot, lambda: "Unknown theme" in notified(pilot), "the warning")
        assert app.theme == default
        assert "\x1b" not in notified(pilot)


def test_remembered_in_the_data_dir_and_the_setting_comes_from_config(tmp_path: Path) -> None:
    assert remembered_theme(tmp_path) is None
    remember_theme(tmp_path / "data", "dracula")
    assert remembered_theme(tmp_path / "data") == "dracula"
    (tmp_path / "data" / "ui-preferences.json").write_text("not json")
    assert remembered_theme(tmp_path / "data") is None
    config = tmp_path / "config.toml"
    config.write_text('JANGAR_THEME = "nord"\n')
    settings = load_settings({"JANGAR_USER": "u", "JANGAR_DATA_DIR": str(tmp_path)}, config_file=config)
    assert settings.theme == "nord"
