"""The README's reference parts are the code's: every setting with its default, the scopes of
[keys], the scripting commands. A newcomer reads these tables, not config.py."""

from __future__ import annotations

import re
from pathlib import Path

from jangar_tui.commands import COMMAND_NAMES
from jangar_tui.config import SETTING_VARIABLES, Settings, load_settings
from jangar_tui.ui.keymap import SCOPES

README = Path(__file__).resolve().parents[1] / "README.md"
# Read by config.py besides the settings (it names the file they come from), and passed through
# to codex unchanged: both documented in the same table.
OTHER_DOCUMENTED = {"JANGAR_CONFIG", "CODEX_HOME"}
# A setting whose documented default is one literal, and the Settings field it becomes.
LITERAL_DEFAULTS = {
    "JANGAR_CONVEX_TIMEOUT": "convex_timeout_s",
    "TEMPORAL_NAMESPACE": "temporal_namespace",
    "JANGAR_EMBEDDED_WORKER": "embedded_worker",
    "JANGAR_AGENT_PROMPT_VIA": "agent_prompt_via",
    "JANGAR_AGENT_TIMEOUT": "agent_timeout_s",
    "JANGAR_GITHUB_API_URL": "github_api_url",
    "JANGAR_WORKSPACE_RETENTION": "workspace_retention_s",
    "JANGAR_SETUP_TIMEOUT": "setup_timeout_s",
    "JANGAR_CHAT_SANDBOX": "chat_sandbox",
    "JANGAR_CHAT_TIMEOUT": "chat_turn_timeout_s",
    "JANGAR_DRAIN_TIMEOUT": "drain_timeout_s",
    "JANGAR_ALLOW_LOCAL_REPOS": "allow_local_repos",
}


def _section(title: str) -> str:
    return README.read_text().split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _configuration_rows() -> dict[str, list[str]]:
    """Each variable of the Configuration table -> its row's cells (a row may name two)."""
    rows: dict[str, list[str]] = {}
    for line in _section("Configuration").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if not line.startswith("| `") or len(cells) != 3:
            continue
        for name in re.findall(r"`([A-Z_]+)`", cells[0]):
            rows[name] = cells
    return rows


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def test_every_setting_is_in_the_configuration_table() -> None:
    documented = set(_configuration_rows())
    assert documented - OTHER_DOCUMENTED == set(SETTING_VARIABLES)
    assert OTHER_DOCUMENTED <= documented


def test_the_documented_defaults_are_the_code_s(tmp_path: Path) -> None:
    settings: Settings = load_settings({"JANGAR_DATA_DIR": str(tmp_path)})
    rows = _configuration_rows()
    for variable, field in LITERAL_DEFAULTS.items():
        default = re.match(r"`([^`]+)`", rows[variable][2])
        assert default is not None, f"{variable}: no default in the README"
        assert default.group(1) == _shown(getattr(settings, field)), variable


def test_the_key_scopes_are_the_help_s_sections_in_order() -> None:
    paragraph = README.read_text().split("Scopes are ", 1)[1].split("(the help's sections, in order)", 1)[0]
    assert re.findall(r"`(\w+)`", paragraph) == list(SCOPES)


def test_every_scripting_command_is_one_jangar_runs() -> None:
    block = _section("Scripting").split("```sh", 1)[1].split("```", 1)[0]
    nouns = {line.split()[1] for line in block.splitlines() if line.startswith("jangar ")}
    assert nouns and nouns <= COMMAND_NAMES
