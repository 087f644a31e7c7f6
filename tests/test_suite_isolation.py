"""The suite runs on its own settings whatever the developer's shell, home or git config hold
(conftest's no_developer_settings): a test that read them passed on one machine and failed on another."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from jangar_tui.config import config_file_path, load_settings


def test_the_settings_from_the_process_environment_are_the_defaults(tmp_path_factory: pytest.TempPathFactory) -> None:
    config_file = config_file_path(os.environ)
    assert load_settings() == load_settings({}, config_file=config_file)
    base = tmp_path_factory.getbasetemp()
    assert config_file.is_relative_to(base)
    assert load_settings().data_dir.is_relative_to(base)


def test_no_home_or_global_git_config_of_the_developers_is_read(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert Path.home().is_relative_to(tmp_path_factory.getbasetemp())
    listed = subprocess.run(["git", "config", "--list"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert listed.stdout == ""
