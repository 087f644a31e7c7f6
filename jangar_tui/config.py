"""Settings from the environment, resolved once at start-up (README.md, "Configuration").

`load_settings()` reads the variables, applies the precedence rules and defaults, and validates
every value. A malformed value raises `ConfigError` whose message names the variable, so the
operator knows what to fix. Keys and tokens are `SecretStr` and left out of the repr.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import pwd
import re
import shlex
import socket
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr

DEFAULT_SELF_HOSTED_URL = "http://127.0.0.1:3210"
DEFAULT_TEMPORAL_ADDRESS = "127.0.0.1:7233"
DEFAULT_GITHUB_API_URL = "https://api.github.com"
DB_FILE_NAME = "jangar.sqlite3"

# Any of these selects the Convex backend by default; their order is the URL precedence.
_CONVEX_URL_VARS = ("CONVEX_URL", "CONVEX_DEPLOYMENT", "CONVEX_SELF_HOSTED_URL")
_DEPLOYMENT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,126}$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


# JANGAR_NOTIFY: how the terminal is told a work order ended (see jangar_tui.alerts).
NOTIFY_SETTINGS = ("auto", "off", "bell", "osc9", "osc777")
# TERM_PROGRAM (or LC_TERMINAL, which iTerm2 passes over ssh) of terminals that show OSC 9.
_OSC9_PROGRAMS = frozenset({"iterm.app", "iterm2", "wezterm", "ghostty"})


# `jangar worker` on SIGTERM: how long running agents may finish before they are handed back.
DEFAULT_DRAIN_TIMEOUT_S = 300.0
WORKER_NAME_MAX_CHARS = 100

# The Codex CLI that package-lock.json pins, as `npm ci` installs it.
_REPO = Path(__file__).resolve().parents[1]
_VENDORED_CODEX = _REPO / "node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex"
_NODE_CODEX = _REPO / "node_modules/.bin/codex"

CONFIG_FILE_NAME = "config.toml"
# The table of config.toml that rebinds keys: action id -> key(s) (jangar_tui.ui.keymap checks them).
KEYS_TABLE = "keys"
# Every variable the settings are read from: the keys config.toml may set (the environment wins).
SETTING_VARIABLES = (
    "JANGAR_BACKEND",
    "CONVEX_URL",
    "CONVEX_DEPLOYMENT",
    "CONVEX_SELF_HOSTED_URL",
    "CONVEX_SITE_ORIGIN",
    "CONVEX_ADMIN_KEY",
    "CONVEX_DEPLOY_KEY",
    "JANGAR_CONVEX_AUTH_TOKEN",
    "JANGAR_CONVEX_TIMEOUT",
    "TEMPORAL_ADDRESS",
    "TEMPORAL_NAMESPACE",
    "JANGAR_TASK_QUEUE",
    "JANGAR_EMBEDDED_TEMPORAL_PORT",
    "JANGAR_EMBEDDED_WORKER",
    "JANGAR_USER",
    "JANGAR_DATA_DIR",
    "JANGAR_AGENT_COMMAND",
    "JANGAR_AGENT_PROMPT_VIA",
    "JANGAR_AGENT_TIMEOUT",
    "JANGAR_NOTIFY",
    "JANGAR_THEME",
    "GH_TOKEN",
    "GITHUB_TOKEN",
    "JANGAR_GITHUB_API_URL",
    "JANGAR_GIT_AUTHOR_NAME",
    "JANGAR_GIT_AUTHOR_EMAIL",
    "JANGAR_WORKSPACE_RETENTION",
    "JANGAR_SETUP_COMMANDS",
    "JANGAR_SETUP_TIMEOUT",
    "JANGAR_CODEX_BIN",
    "JANGAR_CHAT_MODEL",
    "JANGAR_CHAT_SANDBOX",
    "JANGAR_CHAT_DIR",
    "JANGAR_CODEX_CONFIG",
    "JANGAR_CHAT_COMMAND",
    "JANGAR_CHAT_TIMEOUT",
    "JANGAR_ALLOW_LOCAL_REPOS",
    "JANGAR_SERVE_TOKEN",
    "JANGAR_MAX_AGENTS",
    "JANGAR_WORKER_NAME",
    "JANGAR_DRAIN_TIMEOUT",
)
# Settings whose config.toml value is a table; in the environment, the same as a JSON object.
TABLE_VARIABLES = frozenset({"JANGAR_SETUP_COMMANDS"})
SECRET_VARIABLES = frozenset(
    {
        "CONVEX_ADMIN_KEY",
        "CONVEX_DEPLOY_KEY",
        "JANGAR_CONVEX_AUTH_TOKEN",
        "GH_TOKEN",
        "GITHUB_TOKEN",
        "JANGAR_SERVE_TOKEN",
    }
)


class ConfigError(ValueError):
    """A configuration variable holds a value Jangar cannot use; the message names it."""


class SetupCommand(BaseModel):
    """A repository's setup command, run in each new worktree before the agent: `argv` without a
    shell, or with `shell` one script run by /bin/sh -c."""

    model_config = ConfigDict(frozen=True)

    argv: list[str]
    shell: bool = False


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    backend: Literal["local", "convex"] = "local"
    convex_url: str | None = None
    convex_site_origin: str | None = None
    convex_admin_key: SecretStr | None = Field(default=None, repr=False)
    convex_auth_token: SecretStr | None = Field(default=None, repr=False)
    convex_timeout_s: float = 10.0
    temporal_address: str = DEFAULT_TEMPORAL_ADDRESS
    temporal_address_configured: bool = False
    temporal_namespace: str = "default"
    task_queue: str = "jangar"
    # None: the data dir's embedded runtime chooses a free port and remembers it (embedded.py).
    embedded_temporal_port: int | None = None
    embedded_worker: bool = True
    user: str
    data_dir: Path
    # Another agent work orders run instead of Codex (None: Codex, `codex_bin`).
    agent_command: list[str] | None = None
    agent_prompt_via: Literal["arg", "stdin"] = "arg"
    agent_timeout_s: float = 3600.0
    notify: Literal["off", "bell", "osc9", "osc777"] = "bell"
    in_tmux: bool = False
    # A Textual theme's name; None: the one last chosen in the app (preferences.py), else Textual's.
    theme: str | None = None
    # Opening pull requests (delivery.py): the token goes in a header, never anywhere else.
    github_token: SecretStr | None = Field(default=None, repr=False)
    github_api_url: str = DEFAULT_GITHUB_API_URL
    git_author_name: str = "Jangar"
    git_author_email: str = "jangar@localhost"
    # Worktrees of ended work orders are removed this long after they ended.
    workspace_retention_s: float = 7 * 24 * 3600.0
    # Per repository (as work orders name it): the command run in a new worktree, and its time limit.
    setup_commands: dict[str, SetupCommand] = Field(default_factory=dict)
    setup_timeout_s: float = 900.0
    # The Codex binary work orders and chat turns run (`codex_command`).
    codex_bin: list[str] = Field(default_factory=lambda: ["codex"])
    # Chat turns (jangar_tui.chat): model (None: codex's own config), sandbox, working directory
    # (None: data_dir/chat), extra `-c key=value` overrides; or another agent whose stdout is the reply.
    chat_model: str | None = None
    chat_sandbox: Literal["read-only", "workspace-write", "danger-full-access"] = "read-only"
    chat_dir: Path | None = None
    codex_config: list[str] = Field(default_factory=list)
    chat_command: list[str] | None = None
    chat_turn_timeout_s: float = 1800.0
    # Development only: work orders of the embedded store may target a repository on this machine
    # (a path or file://), which any work order could then clone (tests/contract/README.md).
    allow_local_repos: bool = False
    # `jangar serve`: the token a browser must present (None: one is generated where one is needed).
    serve_token: SecretStr | None = Field(default=None, repr=False)
    # config.toml's [keys]: (action id, keys) in the file's order, and the file, named in errors.
    key_overrides: tuple[tuple[str, str], ...] = ()
    config_file: Path | None = None
    # Many workers (worker.py): agents this worker runs at once, its name in the run log and in
    # Temporal, and how long `jangar worker` lets running agents finish after SIGTERM.
    max_agents: int = Field(default_factory=lambda: default_max_agents(), ge=1)
    worker_name: str = Field(default_factory=lambda: default_worker_name())
    drain_timeout_s: float = DEFAULT_DRAIN_TIMEOUT_S

    @property
    def db_path(self) -> Path:
        return self.data_dir / DB_FILE_NAME

    @property
    def chat_workdir(self) -> Path:
        return self.chat_dir or self.data_dir / "chat"


def config_file_path(environ: Mapping[str, str]) -> Path:
    """`JANGAR_CONFIG` when set, else config.toml in the platform's user config dir."""
    explicit = (environ.get("JANGAR_CONFIG") or "").strip()
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_config_dir("jangar")) / CONFIG_FILE_NAME


def _read_toml(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path} cannot be read: {exc}") from None


def read_config_file(path: Path) -> dict[str, str]:
    """The variables config.toml sets (top-level keys named like them); {} when there is no file.

    A key that is no setting, or a value that is not a string, number or boolean, is refused with
    the file and the key named, rather than silently ignored. The [keys] table is
    `read_key_overrides`'.
    """
    values: dict[str, str] = {}
    for key, value in _read_toml(path).items():
        if key == KEYS_TABLE:
            continue
        if key not in SETTING_VARIABLES:
            raise ConfigError(f"{path}: {key!r} is not a setting (keys are the variables' names, e.g. JANGAR_BACKEND).")
        if key in TABLE_VARIABLES:
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: {key} must be a table ([{key}]).")
            values[key] = json.dumps(value)
        elif isinstance(value, bool):
            values[key] = "true" if value else "false"
        elif isinstance(value, (str, int, float)):
            values[key] = str(value)
        else:
            raise ConfigError(f"{path}: {key} must be a string, a number or true/false.")
    return values


def read_key_overrides(path: Path) -> tuple[tuple[str, str], ...]:
    """config.toml's [keys]: `board = "f4"`, `detail.launch = ["L", "f5"]` (a dotted key is a
    scope and an action). Values are keys joined by commas; whether the ids and keys exist is for
    the key table to say (jangar_tui.ui.keymap.apply_overrides)."""
    table = _read_toml(path).get(KEYS_TABLE, {})
    if not isinstance(table, dict):
        raise ConfigError(f'{path}: {KEYS_TABLE} must be a table ([keys] then lines like board = "f4").')
    overrides: list[tuple[str, str]] = []
    for name, value in table.items():
        entries = value.items() if isinstance(value, dict) else [("", value)]
        for action, keys in entries:
            entry = f"{name}.{action}" if action else name
            overrides.append((entry, _key_list(path, entry, keys)))
    return tuple(overrides)


def _key_list(path: Path, entry: str, value: object) -> str:
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        items = value
    else:
        raise ConfigError(f'{path}: [keys] {entry} must be a key or a list of keys ("f4" or ["f4", "f5"]).')
    keys = [item.strip() for item in items]
    if not keys or not all(keys):
        raise ConfigError(f"{path}: [keys] {entry} has an empty key.")
    return ",".join(keys)


def load_settings(environ: Mapping[str, str] | None = None, *, config_file: Path | None = None) -> Settings:
    """Resolve the settings from `environ` (default: the process environment) over `config_file`'s.

    With no `environ` given, the config file is the user's (`config_file_path`); with one given,
    only the file named (tests and callers that build their own environment stay hermetic).
    """
    if environ is None:
        environ = os.environ
        config_file = config_file or config_file_path(environ)
    key_overrides: tuple[tuple[str, str], ...] = ()
    if config_file is not None:
        environ = {**read_config_file(config_file), **environ}
        key_overrides = read_key_overrides(config_file)
    env = _Env(environ)

    any_convex = any(env.get(name) is not None for name in _CONVEX_URL_VARS)
    backend = env.choice("JANGAR_BACKEND", ("local", "convex"), "convex" if any_convex else "local")

    convex_url = _resolve_convex_url(env)
    if convex_url is None and backend == "convex":
        convex_url = DEFAULT_SELF_HOSTED_URL

    site_origin = env.get("CONVEX_SITE_ORIGIN")
    if site_origin is not None:
        site_origin = _http_url("CONVEX_SITE_ORIGIN", site_origin)

    admin_key = env.get("CONVEX_ADMIN_KEY") or env.get("CONVEX_DEPLOY_KEY")
    auth_token = env.get("JANGAR_CONVEX_AUTH_TOKEN")
    github_token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")
    serve_token = env.get("JANGAR_SERVE_TOKEN")

    temporal_address = env.get("TEMPORAL_ADDRESS")
    if temporal_address is not None:
        _host_port("TEMPORAL_ADDRESS", temporal_address)

    data_dir_value = env.get("JANGAR_DATA_DIR")
    data_dir = (
        Path(data_dir_value).expanduser().absolute() if data_dir_value else Path(platformdirs.user_data_dir("jangar"))
    )
    agent_command = _agent_command(env.get("JANGAR_AGENT_COMMAND"))
    codex_bin = _command("JANGAR_CODEX_BIN", env.get("JANGAR_CODEX_BIN"))
    if agent_command is not None and names_codex(agent_command):
        # An older setting: Codex named as the work orders' agent. It still means Codex, whose
        # binary JANGAR_CODEX_BIN now sets for work orders and chat alike.
        codex_bin = _legacy_codex(agent_command, codex_bin)
        agent_command = None
    # Every value was checked above, by the name of its variable: `model_construct` skips checking
    # them again, which would build Settings' validator (~35 ms of start-up, see models.py).
    # tests/test_config.py holds the result equal to a validated Settings.
    return Settings.model_construct(
        backend=backend,  # type: ignore[arg-type]
        convex_url=convex_url,
        convex_site_origin=site_origin,
        convex_admin_key=SecretStr(admin_key) if admin_key else None,
        convex_auth_token=SecretStr(auth_token) if auth_token else None,
        convex_timeout_s=env.seconds("JANGAR_CONVEX_TIMEOUT", 10.0),
        temporal_address=temporal_address or DEFAULT_TEMPORAL_ADDRESS,
        temporal_address_configured=temporal_address is not None,
        temporal_namespace=env.get("TEMPORAL_NAMESPACE") or "default",
        task_queue=env.get("JANGAR_TASK_QUEUE") or _default_task_queue(data_dir, temporal_address is not None),
        embedded_temporal_port=env.optional_port("JANGAR_EMBEDDED_TEMPORAL_PORT"),
        embedded_worker=env.flag("JANGAR_EMBEDDED_WORKER", True),
        user=env.get("JANGAR_USER") or _login_name(env),
        data_dir=data_dir,
        agent_command=agent_command,
        agent_prompt_via=env.choice("JANGAR_AGENT_PROMPT_VIA", ("arg", "stdin"), "arg"),  # type: ignore[arg-type]
        agent_timeout_s=env.seconds("JANGAR_AGENT_TIMEOUT", 3600.0),
        notify=_notify_mode(env),  # type: ignore[arg-type]
        in_tmux=env.get("TMUX") is not None,
        theme=env.get("JANGAR_THEME"),
        github_token=SecretStr(github_token) if github_token else None,
        github_api_url=_http_url("JANGAR_GITHUB_API_URL", env.get("JANGAR_GITHUB_API_URL") or DEFAULT_GITHUB_API_URL),
        git_author_name=env.get("JANGAR_GIT_AUTHOR_NAME") or "Jangar",
        git_author_email=env.get("JANGAR_GIT_AUTHOR_EMAIL") or "jangar@localhost",
        workspace_retention_s=env.seconds("JANGAR_WORKSPACE_RETENTION", 7 * 24 * 3600.0),
        setup_commands=_setup_commands(env.get("JANGAR_SETUP_COMMANDS")),
        setup_timeout_s=env.seconds("JANGAR_SETUP_TIMEOUT", 900.0),
        codex_bin=codex_bin or default_codex_bin(),
        chat_model=env.get("JANGAR_CHAT_MODEL"),
        chat_sandbox=env.choice(  # type: ignore[arg-type]
            "JANGAR_CHAT_SANDBOX", ("read-only", "workspace-write", "danger-full-access"), "read-only"
        ),
        chat_dir=_directory(env.get("JANGAR_CHAT_DIR")),
        codex_config=_overrides(env.get("JANGAR_CODEX_CONFIG")),
        chat_command=_command("JANGAR_CHAT_COMMAND", env.get("JANGAR_CHAT_COMMAND")),
        chat_turn_timeout_s=env.seconds("JANGAR_CHAT_TIMEOUT", 1800.0),
        allow_local_repos=env.flag("JANGAR_ALLOW_LOCAL_REPOS", False),
        serve_token=SecretStr(serve_token) if serve_token else None,
        key_overrides=key_overrides,
        config_file=config_file,
        max_agents=env.count("JANGAR_MAX_AGENTS", default_max_agents()),
        worker_name=_worker_name(env.get("JANGAR_WORKER_NAME")),
        drain_timeout_s=env.seconds("JANGAR_DRAIN_TIMEOUT", DEFAULT_DRAIN_TIMEOUT_S),
    )


class _Env:
    """Typed reads of environment variables. Empty or blank values count as unset."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def get(self, name: str) -> str | None:
        value = self._environ.get(name)
        if value is None or not value.strip():
            return None
        return value.strip()

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.get(name)
        if value is None:
            return default
        if value.lower() not in allowed:
            raise ConfigError(f"{name} must be one of {', '.join(allowed)} (got {value!r}).")
        return value.lower()

    def seconds(self, name: str, default: float) -> float:
        value = self.get(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(f"{name} must be a number of seconds (got {value!r}).") from None
        if not math.isfinite(number) or number <= 0:
            raise ConfigError(f"{name} must be a positive number of seconds (got {value!r}).")
        return number

    def count(self, name: str, default: int) -> int:
        value = self.get(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number of at least 1 (got {value!r}).") from None
        if number < 1:
            raise ConfigError(f"{name} must be a whole number of at least 1 (got {value!r}).")
        return number

    def optional_port(self, name: str) -> int | None:
        value = self.get(name)
        if value is None:
            return None
        return _port_number(name, value)

    def flag(self, name: str, default: bool) -> bool:
        value = self.get(name)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise ConfigError(f"{name} must be true or false (got {value!r}).")


def default_max_agents() -> int:
    """Two agents per core: an agent mostly waits for its model, but the commands it runs
    (builds, tests) use the CPU."""
    return max(2, 2 * (os.cpu_count() or 1))


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _worker_name(value: str | None) -> str:
    if value is None:
        return default_worker_name()
    if len(value) > WORKER_NAME_MAX_CHARS or not value.isprintable():
        raise ConfigError(
            f"JANGAR_WORKER_NAME must be at most {WORKER_NAME_MAX_CHARS} printable characters (got {value!r})."
        )
    return value


def _default_task_queue(data_dir: Path, external_temporal: bool) -> str:
    """`jangar` on a configured Temporal (workers elsewhere must agree on it); on the embedded one,
    a queue of the data dir's own, so two data dirs never take each other's work."""
    if external_temporal:
        return "jangar"
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
    return f"jangar-{digest}"


def _notify_mode(env: _Env) -> str:
    """JANGAR_NOTIFY, with `auto` made what this terminal understands: OSC 9 or OSC 777 only where
    the terminal is known to show it, else the bell (also inside tmux, whose outer terminal is
    unknown: tmux shows the bell itself)."""
    setting = env.choice("JANGAR_NOTIFY", NOTIFY_SETTINGS, "auto")
    if setting != "auto":
        return setting
    if env.get("TMUX") is not None:
        return "bell"
    program = (env.get("TERM_PROGRAM") or env.get("LC_TERMINAL") or "").lower()
    if program in _OSC9_PROGRAMS:
        return "osc9"
    if (env.get("TERM") or "").startswith("foot"):
        return "osc777"
    return "bell"


def _resolve_convex_url(env: _Env) -> str | None:
    url = env.get("CONVEX_URL")
    if url is not None:
        return _http_url("CONVEX_URL", url)
    deployment = env.get("CONVEX_DEPLOYMENT")
    if deployment is not None:
        # `npx convex dev` writes e.g. "dev:happy-otter-123"; the cloud URL uses the bare name.
        name = deployment.split(":", 1)[1] if deployment.startswith(("dev:", "prod:")) else deployment
        if not _DEPLOYMENT_NAME.match(name):
            raise ConfigError(
                f"CONVEX_DEPLOYMENT must be a deployment name like dev:happy-otter-123 (got {deployment!r})."
            )
        return f"https://{name}.convex.cloud"
    self_hosted = env.get("CONVEX_SELF_HOSTED_URL")
    if self_hosted is not None:
        return _http_url("CONVEX_SELF_HOSTED_URL", self_hosted)
    return None


def _http_url(name: str, value: str) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ConfigError(f"{name} must be an http(s) URL (got {value!r}).") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name} must be an http(s) URL (got {value!r}).")
    return value.rstrip("/")


def _host_port(name: str, value: str) -> None:
    host, sep, port = value.rpartition(":")
    if not sep or not host or any(c.isspace() for c in host):
        raise ConfigError(f"{name} must be host:port (got {value!r}).")
    _port_number(name, port)


def _port_number(name: str, value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a port number 1-65535 (got {value!r}).") from None
    if not 1 <= port <= 65535:
        raise ConfigError(f"{name} must be a port number 1-65535 (got {value!r}).")
    return port


def names_codex(argv: list[str]) -> bool:
    """An agent command whose program is codex (`codex exec`, `/opt/bin/codex ...`)."""
    return bool(argv) and Path(argv[0]).name == "codex"


def default_codex_bin() -> list[str]:
    """The binary `npm ci` installed (called directly: 0.01 s to start against the node wrapper's
    0.5 s), else its node wrapper, else `codex` on PATH."""
    for candidate in (_VENDORED_CODEX, _NODE_CODEX):
        if os.access(candidate, os.X_OK):
            return [str(candidate)]
    return ["codex"]


def _legacy_codex(agent_command: list[str], codex_bin: list[str] | None) -> list[str] | None:
    """The Codex binary when JANGAR_AGENT_COMMAND names codex: a bare `codex` names none (the
    default is meant); a path is the binary, unless JANGAR_CODEX_BIN names another one."""
    program = agent_command[0]
    if program == "codex":
        return codex_bin
    if codex_bin is not None and codex_bin[0] != program:
        raise ConfigError(
            f"JANGAR_AGENT_COMMAND names Codex ({program}) and JANGAR_CODEX_BIN another ({codex_bin[0]}): "
            "set the Codex binary in JANGAR_CODEX_BIN only, and leave JANGAR_AGENT_COMMAND for another agent."
        )
    return codex_bin or [program]


def _agent_command(value: str | None) -> list[str] | None:
    if value is None:
        return None
    try:
        argv = shlex.split(value)
    except ValueError as exc:
        raise ConfigError(f"JANGAR_AGENT_COMMAND cannot be parsed as a command line: {exc}.") from None
    if not argv:
        raise ConfigError("JANGAR_AGENT_COMMAND is empty.")
    return argv


def _command(name: str, value: str | None) -> list[str] | None:
    if value is None:
        return None
    try:
        argv = shlex.split(value)
    except ValueError as exc:
        raise ConfigError(f"{name} cannot be parsed as a command line: {exc}.") from None
    return argv or None


def _setup_commands(value: str | None) -> dict[str, SetupCommand]:
    """`{"owner/repo": ["make", "deps"], "git@host:x/y.git": "npm ci", "z/w": {"run": "a && b", "shell": true}}`:
    an argv list, a command line split like a shell would (never run through one), or a table whose
    `run` a shell runs only when `shell = true` says so."""
    if value is None:
        return {}
    name = "JANGAR_SETUP_COMMANDS"
    try:
        table = json.loads(value)
    except ValueError:
        raise ConfigError(f"{name} must be a JSON object (a table in config.toml) of repository -> command.") from None
    if not isinstance(table, dict):
        raise ConfigError(f"{name} must be a JSON object (a table in config.toml) of repository -> command.")
    commands: dict[str, SetupCommand] = {}
    for repo, entry in table.items():
        if not repo.strip():
            raise ConfigError(f"{name}: a repository name is empty.")
        shell = False
        run: object = entry
        if isinstance(entry, dict):
            unknown = set(entry) - {"run", "shell"}
            if unknown or "run" not in entry:
                raise ConfigError(f"{name}: {repo!r} takes run (and shell = true to run it through a shell).")
            run, shell = entry["run"], entry.get("shell", False)
            if not isinstance(shell, bool):
                raise ConfigError(f"{name}: {repo!r}: shell must be true or false.")
        if shell:
            if not isinstance(run, str) or not run.strip():
                raise ConfigError(f"{name}: {repo!r}: with shell = true, run is one command line.")
            argv = [run]
        elif isinstance(run, str):
            try:
                argv = shlex.split(run)
            except ValueError as exc:
                raise ConfigError(f"{name}: {repo!r} cannot be parsed as a command line: {exc}.") from None
        elif isinstance(run, list) and all(isinstance(arg, str) for arg in run):
            argv = list(run)
        else:
            raise ConfigError(f"{name}: {repo!r} must be a command line, a list of arguments, or a table.")
        if not argv or not argv[0]:
            raise ConfigError(f"{name}: {repo!r} names no program.")
        commands[repo.strip()] = SetupCommand(argv=argv, shell=shell)
    return commands


def _directory(value: str | None) -> Path | None:
    return Path(value).expanduser().absolute() if value else None


def _overrides(value: str | None) -> list[str]:
    """`-c` overrides for codex: `key=value` items separated by spaces (quoted like a shell)."""
    if value is None:
        return []
    try:
        items = shlex.split(value)
    except ValueError as exc:
        raise ConfigError(f"JANGAR_CODEX_CONFIG cannot be parsed: {exc}.") from None
    for item in items:
        key, sep, _ = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError("JANGAR_CODEX_CONFIG items must be key=value (an item has no '=').")
    return items


def _login_name(env: _Env) -> str:
    """What getpass.getuser() answers, but from the given environment rather than os.environ."""
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        value = env.get(name)
        if value is not None:
            return value
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:  # a uid with no passwd entry (some containers)
        return "operator"
