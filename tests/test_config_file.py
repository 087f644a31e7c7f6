"""config.toml: every setting of the environment, the environment winning; `jangar config` masks secrets."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from jangar_tui import config
from jangar_tui.commands.schemas import COMMAND_SCHEMAS
from jangar_tui.config import ConfigError, load_settings

JANGAR = Path(sys.executable).with_name("jangar")


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_the_file_sets_what_the_environment_does_not(tmp_path: Path) -> None:
    config = _write(
        tmp_path / "config.toml",
        'JANGAR_BACKEND = "local"\nTEMPORAL_NAMESPACE = "from-file"\nJANGAR_AGENT_TIMEOUT = 90\n'
        'JANGAR_EMBEDDED_WORKER = false\nJANGAR_USER = "file-user"\n',
    )
    settings = load_settings({"JANGAR_DATA_DIR": str(tmp_path), "JANGAR_USER": "env-user"}, config_file=config)
    assert settings.temporal_namespace == "from-file"
    assert settings.agent_timeout_s == 90.0 and settings.embedded_worker is False
    assert settings.user == "env-user"  # the environment wins
    # No file named: a given environment stays hermetic.
    assert load_settings({"JANGAR_DATA_DIR": str(tmp_path), "JANGAR_USER": "u"}).temporal_namespace == "default"


def test_setup_commands_are_a_table_in_the_file(tmp_path: Path) -> None:
    config = _write(
        tmp_path / "config.toml",
        'JANGAR_SETUP_TIMEOUT = 300\n[JANGAR_SETUP_COMMANDS]\n"acme/app" = ["make", "deps"]\n'
        '"acme/web" = { run = "pnpm i && pnpm build", shell = true }\n',
    )
    settings = load_settings({"JANGAR_DATA_DIR": str(tmp_path), "JANGAR_USER": "u"}, config_file=config)
    assert settings.setup_commands["acme/app"].argv == ["make", "deps"]
    assert settings.setup_commands["acme/web"].shell is True and settings.setup_timeout_s == 300


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('JANGAR_SETUP_COMMANDS = "make"\n', "JANGAR_SETUP_COMMANDS must be a table"),
        ('JANGAR_BACKNED = "local"\n', "'JANGAR_BACKNED' is not a setting"),
        ("JANGAR_BACKEND = [1]\n", "JANGAR_BACKEND must be a string"),
        ("JANGAR_BACKEND = \n", "cannot be read"),
        ('JANGAR_BACKEND = "postgres"\n', "JANGAR_BACKEND must be one of"),
    ],
)
def test_a_bad_file_is_refused_with_what_to_fix(tmp_path: Path, text: str, message: str) -> None:
    config = _write(tmp_path / "config.toml", text)
    with pytest.raises(ConfigError, match=message):
        load_settings({"JANGAR_DATA_DIR": str(tmp_path), "JANGAR_USER": "u"}, config_file=config)


def _jangar(*argv: str, **environ: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("CONVEX_", "JANGAR_", "TEMPORAL_", "GH_", "GITHUB_"))
    }
    env.update(environ)
    return subprocess.run([str(JANGAR), *argv], env=env, capture_output=True, text=True, timeout=60, check=False)


def test_jangar_config_shows_sources_and_masks_secrets(tmp_path: Path) -> None:
    config = _write(tmp_path / "config.toml", 'TEMPORAL_NAMESPACE = "from-file"\nGH_TOKEN = "ghp_secret_in_file"\n')
    env = {
        "JANGAR_CONFIG": str(config),
        "JANGAR_DATA_DIR": str(tmp_path),
        "JANGAR_USER": "op",
        "CONVEX_URL": "http://127.0.0.1:3210",
        "CONVEX_ADMIN_KEY": "admin-key-in-env",
    }
    as_json = _jangar("config", "--json", **env)
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    jsonschema.validate(document, COMMAND_SCHEMAS["config"])
    assert document["variables"]["TEMPORAL_NAMESPACE"] == {"value": "from-file", "source": "config file"}
    assert document["variables"]["JANGAR_USER"] == {"value": "op", "source": "environment"}
    assert document["variables"]["TEMPORAL_ADDRESS"] == {"value": None, "source": "default"}
    assert document["variables"]["GH_TOKEN"]["source"] == "config file"
    assert document["settings"]["backend"] == "convex" and document["settings"]["temporal_namespace"] == "from-file"
    codex = " ".join(load_settings({}).codex_bin)
    assert document["agents"] == [
        f"work orders: Codex: {codex} (JANGAR_CODEX_BIN)",
        f"chat: Codex: {codex} (JANGAR_CODEX_BIN)",
    ]
    as_text = _jangar("config", **env)
    assert as_text.returncode == 0
    assert "TEMPORAL_NAMESPACE" in as_text.stdout and "(config file)" in as_text.stdout
    legacy = _jangar("config", **env, JANGAR_AGENT_COMMAND="codex exec", JANGAR_CHAT_COMMAND="my-chat")
    assert "JANGAR_AGENT_COMMAND names codex, which still works: set JANGAR_CODEX_BIN instead" in legacy.stdout
    assert "chat: another agent: my-chat (JANGAR_CHAT_COMMAND)" in legacy.stdout
    for output in (as_json.stdout + as_json.stderr, as_text.stdout + as_text.stderr):
        assert "ghp_secret_in_file" not in output and "admin-key-in-env" not in output


def test_every_variable_the_settings_read_can_be_set_in_the_file() -> None:
    """A variable added to config.py and forgotten in SETTING_VARIABLES would be refused in config.toml."""
    source = Path(config.__file__).read_text()
    named = set(re.findall(r'"((?:JANGAR|CONVEX|TEMPORAL)_[A-Z_]+|GH_TOKEN|GITHUB_TOKEN)"', source))
    named.discard("JANGAR_CONFIG")  # the file's own path
    assert named == set(config.SETTING_VARIABLES)
