"""Settings from the environment: precedence, defaults, errors, secrets kept out of sight."""

from __future__ import annotations

import json
import logging
import os
import pwd
import socket
from pathlib import Path

import platformdirs
import pytest
from pydantic import ValidationError

from jangar_tui.config import ConfigError, Settings, SetupCommand, default_codex_bin, load_settings


def test_defaults_with_an_empty_environment() -> None:
    s = load_settings({})
    assert s.backend == "local"
    assert s.convex_url is None
    assert s.convex_site_origin is None
    assert s.convex_admin_key is None
    assert s.convex_auth_token is None
    assert s.convex_timeout_s == 10
    assert s.temporal_address == "127.0.0.1:7233"
    assert s.temporal_address_configured is False
    assert s.temporal_namespace == "default"
    assert s.task_queue.startswith("jangar-")  # the data dir's own queue (embedded Temporal)
    assert s.embedded_temporal_port is None  # chosen free per data dir by the embedded runtime
    assert s.embedded_worker is True
    assert s.user == pwd.getpwuid(os.getuid()).pw_name  # no LOGNAME/USER in this environment
    assert s.data_dir == Path(platformdirs.user_data_dir("jangar"))
    assert s.db_path == s.data_dir / "jangar.sqlite3"
    assert s.agent_command is None  # work orders run Codex...
    assert s.codex_bin == default_codex_bin()  # ...the binary chat turns run too
    assert s.agent_prompt_via == "arg"
    assert s.agent_timeout_s == 3600


def test_the_task_queue_belongs_to_the_data_dir_unless_temporal_or_the_queue_is_configured(tmp_path: Path) -> None:
    a = load_settings({"JANGAR_DATA_DIR": str(tmp_path / "a")}).task_queue
    b = load_settings({"JANGAR_DATA_DIR": str(tmp_path / "b")}).task_queue
    assert a != b and a.startswith("jangar-") and b.startswith("jangar-")
    assert load_settings({"JANGAR_DATA_DIR": str(tmp_path / "a")}).task_queue == a  # stable
    external = {"JANGAR_DATA_DIR": str(tmp_path / "a"), "TEMPORAL_ADDRESS": "t.internal:7233"}
    assert load_settings(external).task_queue == "jangar"
    assert load_settings({**external, "JANGAR_TASK_QUEUE": "mine"}).task_queue == "mine"


def test_reads_the_process_environment_when_none_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JANGAR_TASK_QUEUE", "from-os-environ")
    assert load_settings().task_queue == "from-os-environ"


@pytest.mark.parametrize(
    ("env", "url"),
    [
        ({"CONVEX_URL": "https://a.convex.cloud"}, "https://a.convex.cloud"),
        ({"CONVEX_DEPLOYMENT": "dev:happy-otter-123"}, "https://happy-otter-123.convex.cloud"),
        ({"CONVEX_DEPLOYMENT": "prod:calm-fox-7"}, "https://calm-fox-7.convex.cloud"),
        ({"CONVEX_DEPLOYMENT": "calm-fox-7"}, "https://calm-fox-7.convex.cloud"),
        ({"CONVEX_SELF_HOSTED_URL": "http://10.0.0.5:3210"}, "http://10.0.0.5:3210"),
        (
            {
                "CONVEX_URL": "https://a.convex.cloud",
                "CONVEX_DEPLOYMENT": "dev:b",
                "CONVEX_SELF_HOSTED_URL": "http://c",
            },
            "https://a.convex.cloud",
        ),
        ({"CONVEX_DEPLOYMENT": "dev:b", "CONVEX_SELF_HOSTED_URL": "http://c"}, "https://b.convex.cloud"),
    ],
)
def test_convex_url_precedence_selects_convex(env: dict[str, str], url: str) -> None:
    s = load_settings(env)
    assert s.backend == "convex"
    assert s.convex_url == url


def test_backend_convex_without_url_uses_the_local_self_hosted_default() -> None:
    s = load_settings({"JANGAR_BACKEND": "convex"})
    assert s.backend == "convex"
    assert s.convex_url == "http://127.0.0.1:3210"


def test_explicit_local_backend_wins_over_convex_variables() -> None:
    s = load_settings({"JANGAR_BACKEND": "local", "CONVEX_URL": "https://a.convex.cloud"})
    assert s.backend == "local"


def test_blank_values_count_as_unset() -> None:
    s = load_settings({"CONVEX_URL": "  ", "JANGAR_USER": "", "TEMPORAL_ADDRESS": ""})
    assert s.backend == "local"
    assert s.user == pwd.getpwuid(os.getuid()).pw_name
    assert s.temporal_address_configured is False


def test_user_defaults_to_the_login_name_of_the_given_environment() -> None:
    assert load_settings({"USER": "dora"}).user == "dora"
    assert load_settings({"LOGNAME": "erin", "USER": "dora"}).user == "erin"
    assert load_settings({"USER": "dora", "JANGAR_USER": "frank"}).user == "frank"


def test_admin_key_falls_back_to_deploy_key() -> None:
    assert load_settings({"CONVEX_DEPLOY_KEY": "deploy-k"}).convex_admin_key.get_secret_value() == "deploy-k"
    both = load_settings({"CONVEX_DEPLOY_KEY": "deploy-k", "CONVEX_ADMIN_KEY": "admin-k"})
    assert both.convex_admin_key.get_secret_value() == "admin-k"


def test_every_variable_is_read(tmp_path: Path) -> None:
    s = load_settings(
        {
            "CONVEX_SITE_ORIGIN": "https://a.convex.site",
            "JANGAR_CONVEX_AUTH_TOKEN": "jwt",
            "JANGAR_CONVEX_TIMEOUT": "2.5",
            "TEMPORAL_ADDRESS": "temporal.internal:7233",
            "TEMPORAL_NAMESPACE": "ops",
            "JANGAR_TASK_QUEUE": "q2",
            "JANGAR_EMBEDDED_TEMPORAL_PORT": "17233",
            "JANGAR_EMBEDDED_WORKER": "false",
            "JANGAR_USER": "carol",
            "JANGAR_DATA_DIR": str(tmp_path / "d"),
            "JANGAR_AGENT_COMMAND": "my-agent --flag 'two words'",
            "JANGAR_AGENT_PROMPT_VIA": "stdin",
            "JANGAR_AGENT_TIMEOUT": "60",
            "JANGAR_MAX_AGENTS": "3",
            "JANGAR_WORKER_NAME": "build-7 (eu-west)",
            "JANGAR_DRAIN_TIMEOUT": "90",
        }
    )
    assert s.convex_site_origin == "https://a.convex.site"
    assert s.convex_auth_token is not None and s.convex_auth_token.get_secret_value() == "jwt"
    assert s.convex_timeout_s == 2.5
    assert s.temporal_address == "temporal.internal:7233"
    assert s.temporal_address_configured is True
    assert s.temporal_namespace == "ops"
    assert s.task_queue == "q2"
    assert s.embedded_temporal_port == 17233
    assert s.embedded_worker is False
    assert s.user == "carol"
    assert s.db_path == tmp_path / "d" / "jangar.sqlite3"
    assert s.agent_command == ["my-agent", "--flag", "two words"]
    assert s.agent_prompt_via == "stdin"
    assert s.agent_timeout_s == 60
    assert s.max_agents == 3
    assert s.worker_name == "build-7 (eu-west)"
    assert s.drain_timeout_s == 90


def test_worker_defaults_fit_the_box() -> None:
    """Two agents per core (at least 2), named host:pid, five minutes to drain."""
    s = load_settings({})
    assert s.max_agents == max(2, 2 * (os.cpu_count() or 1))
    assert s.worker_name == f"{socket.gethostname()}:{os.getpid()}"
    assert s.drain_timeout_s == 300


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("JANGAR_BACKEND", "postgres"),
        ("CONVEX_URL", "ftp://x"),
        ("CONVEX_URL", "not a url"),
        ("CONVEX_URL", "http://host:notaport"),
        ("CONVEX_SELF_HOSTED_URL", "localhost:3210"),
        ("CONVEX_DEPLOYMENT", "dev:Bad Name!"),
        ("CONVEX_SITE_ORIGIN", "mailto:x@y"),
        ("JANGAR_CONVEX_TIMEOUT", "ten"),
        ("JANGAR_CONVEX_TIMEOUT", "-1"),
        ("JANGAR_CONVEX_TIMEOUT", "nan"),
        ("JANGAR_AGENT_TIMEOUT", "1h"),
        ("JANGAR_EMBEDDED_TEMPORAL_PORT", "70000"),
        ("JANGAR_EMBEDDED_TEMPORAL_PORT", "http"),
        ("TEMPORAL_ADDRESS", "no-port"),
        ("TEMPORAL_ADDRESS", "host:0"),
        ("JANGAR_EMBEDDED_WORKER", "maybe"),
        ("JANGAR_AGENT_COMMAND", "codex 'unbalanced"),
        ("JANGAR_AGENT_PROMPT_VIA", "pipe"),
        ("JANGAR_MAX_AGENTS", "0"),
        ("JANGAR_MAX_AGENTS", "-2"),
        ("JANGAR_MAX_AGENTS", "two"),
        ("JANGAR_MAX_AGENTS", "1.5"),
        ("JANGAR_DRAIN_TIMEOUT", "soon"),
        ("JANGAR_DRAIN_TIMEOUT", "0"),
        ("JANGAR_WORKER_NAME", "w1\x1b]0;owned\x07"),
        ("JANGAR_WORKER_NAME", "w\u202e1"),
        ("JANGAR_WORKER_NAME", "w" * 101),
    ],
)
def test_malformed_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({name: value})
    assert name in str(info.value)
    assert isinstance(info.value, ValueError)


SECRETS = {
    "CONVEX_URL": "https://a.convex.cloud",
    "CONVEX_ADMIN_KEY": "prod:admin|s3cr3t-admin-key",
    "JANGAR_CONVEX_AUTH_TOKEN": "eyJhbGciOi.s3cr3t-token",
}


def test_secrets_never_appear_in_repr_str_or_dumps(caplog: pytest.LogCaptureFixture) -> None:
    s = load_settings(SECRETS)
    logging.getLogger("jangar.test").warning("settings: %s %r", s, s)
    shown = [repr(s), str(s), s.model_dump_json(), str(s.model_dump()), caplog.text]
    for text in shown:
        assert "s3cr3t" not in text
    # ...while the code that needs them can still read them.
    assert s.convex_admin_key is not None
    assert s.convex_admin_key.get_secret_value() == SECRETS["CONVEX_ADMIN_KEY"]


def test_settings_are_immutable() -> None:
    s = load_settings({})
    with pytest.raises(ValidationError):
        s.backend = "convex"  # type: ignore[misc]
    assert isinstance(s, Settings)


@pytest.mark.parametrize(
    "env",
    [
        {},
        {
            "JANGAR_BACKEND": "local",
            "JANGAR_DATA_DIR": "/srv/jangar",
            "JANGAR_USER": "ops",
            "JANGAR_EMBEDDED_WORKER": "no",
        },
        {
            "CONVEX_URL": "https://happy-otter-123.convex.cloud",
            "CONVEX_ADMIN_KEY": "prod|secret-admin-key",
            "JANGAR_CONVEX_TIMEOUT": "2.5",
            "TEMPORAL_ADDRESS": "temporal.internal:7233",
            "JANGAR_AGENT_COMMAND": "codex exec --model o3 'quoted arg'",
            "JANGAR_AGENT_PROMPT_VIA": "stdin",
        },
    ],
)
def test_loaded_settings_equal_a_validated_model(env: dict[str, str]) -> None:
    """load_settings checks each variable itself and skips pydantic's second check (start-up time):
    what it builds must be exactly what validating the same values gives."""
    settings = load_settings(env)
    validated = Settings.model_validate({name: getattr(settings, name) for name in Settings.model_fields})
    assert settings == validated
    assert settings.model_dump() == validated.model_dump()


def test_one_codex_binary_for_work_orders_and_chat() -> None:
    vendored = load_settings({}).codex_bin
    assert vendored[0].endswith("/bin/codex") and Path(vendored[0]).is_file(), "npm ci installed the pinned codex"
    mine = load_settings({"JANGAR_CODEX_BIN": "/opt/codex --flag"})
    assert (mine.codex_bin, mine.agent_command) == (["/opt/codex", "--flag"], None)
    other = load_settings({"JANGAR_AGENT_COMMAND": "my-agent --go", "JANGAR_CODEX_BIN": "/opt/codex"})
    assert (other.agent_command, other.codex_bin) == (["my-agent", "--go"], ["/opt/codex"])
    # Older configurations named Codex as the work orders' agent: they still mean Codex.
    assert load_settings({"JANGAR_AGENT_COMMAND": "codex exec"}).agent_command is None
    assert load_settings({"JANGAR_AGENT_COMMAND": "codex exec"}).codex_bin == vendored
    old = load_settings({"JANGAR_AGENT_COMMAND": "/usr/local/bin/codex exec --model o3"})
    assert (old.agent_command, old.codex_bin) == (None, ["/usr/local/bin/codex"])
    same = load_settings({"JANGAR_AGENT_COMMAND": "/opt/codex exec", "JANGAR_CODEX_BIN": "/opt/codex"})
    assert (same.agent_command, same.codex_bin) == (None, ["/opt/codex"])
    with pytest.raises(ConfigError, match="JANGAR_AGENT_COMMAND names Codex .* JANGAR_CODEX_BIN"):
        load_settings({"JANGAR_AGENT_COMMAND": "/usr/local/bin/codex exec", "JANGAR_CODEX_BIN": "/opt/codex"})


def test_setup_commands_per_repository() -> None:
    table = {
        "acme/app": ["make", "deps"],
        "git@github.com:acme/api.git": "npm ci --ignore-scripts",
        "acme/web": {"run": "pnpm i && pnpm build", "shell": True},
    }
    s = load_settings({"JANGAR_SETUP_COMMANDS": json.dumps(table), "JANGAR_SETUP_TIMEOUT": "120"})
    assert s.setup_commands == {
        "acme/app": SetupCommand(argv=["make", "deps"]),
        "git@github.com:acme/api.git": SetupCommand(argv=["npm", "ci", "--ignore-scripts"]),
        "acme/web": SetupCommand(argv=["pnpm i && pnpm build"], shell=True),
    }
    assert s.setup_timeout_s == 120
    assert load_settings({}).setup_commands == {} and load_settings({}).setup_timeout_s == 900


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("make deps", "must be a JSON object"),
        ('["make"]', "must be a JSON object"),
        ('{"acme/app": 3}', "must be a command line, a list of arguments, or a table"),
        ('{"acme/app": []}', "names no program"),
        ('{"acme/app": "a \'b"}', "cannot be parsed"),
        ('{"acme/app": {"run": ["a", "&&", "b"], "shell": true}}', "with shell = true, run is one command line"),
        ('{"acme/app": {"command": "x"}}', "takes run"),
        ('{"acme/app": {"run": "x", "shell": "yes"}}', "shell must be true or false"),
    ],
)
def test_a_malformed_setup_command_names_the_setting(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_settings({"JANGAR_SETUP_COMMANDS": value})
    assert "JANGAR_SETUP_COMMANDS" in str(info.value)
