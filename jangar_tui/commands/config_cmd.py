"""`jangar config`: the resolved settings, where each came from, secrets masked, and the keys the
app would bind (config.toml's [keys] checked as the app checks it at start)."""

from __future__ import annotations

import argparse
import os
import shlex
from collections.abc import Callable
from typing import Any

from jangar_tui.commands.output import Printer
from jangar_tui.config import (
    SECRET_VARIABLES,
    SETTING_VARIABLES,
    Settings,
    config_file_path,
    names_codex,
    read_config_file,
)
from jangar_tui.text_safety import one_line

MASK = "********"

# Settings -> every key binding as the app would make it: (binding id, keys, set by [keys]). The
# key table lives in the UI; the entry point hands its resolver in. A bad [keys] raises ConfigError.
BindingsOf = Callable[[Settings], list[tuple[str, str, bool]]]


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "config", parents=[common], help="the resolved settings (secrets masked)", description=__doc__
    )
    parser.set_defaults(handler=None, offline=True)


def show_config(args: argparse.Namespace, settings: Settings, printer: Printer, bindings_of: BindingsOf) -> None:
    """Raises ConfigError, before printing anything, on a [keys] table the app would refuse."""
    bindings = bindings_of(settings)
    path = config_file_path(os.environ)
    from_file = read_config_file(path)
    variables: dict[str, dict[str, Any]] = {}
    for name in SETTING_VARIABLES:
        value = os.environ.get(name) or None
        source = "environment" if value is not None else None
        if value is None and name in from_file:
            value, source = from_file[name], "config file"
        if value is not None and name in SECRET_VARIABLES:
            value = MASK
        variables[name] = {"value": value, "source": source or "default"}
    keys = dict(settings.key_overrides)
    resolved: dict[str, Any] = {}
    for field, value in settings.model_dump(mode="json", exclude={"key_overrides"}).items():
        secret = field in ("convex_admin_key", "convex_auth_token", "github_token", "serve_token")
        resolved[field] = (MASK if value else None) if secret else value
    lines = [f"config file: {one_line(str(path))}" + ("" if path.exists() else " (none)"), ""]
    width = max(len(name) for name in SETTING_VARIABLES)
    for name, entry in variables.items():
        shown = "-" if entry["value"] is None else one_line(str(entry["value"]))
        lines.append(f"{name:<{width}}  {shown}  ({entry['source']})")
    agents = _agents(settings, variables)
    lines += ["", "agents:", *(f"  {line}" for line in agents)]
    lines += ["", "keys (config file's [keys]; the rest as in the help, f1):" if keys else "keys: the defaults (f1)"]
    lines += [f"  {one_line(entry)} = {one_line(value)}" for entry, value in keys.items()]
    lines += ["", "bindings (what the app binds, [keys] applied):"]
    id_width = max(len(binding) for binding, _, _ in bindings)
    lines += [
        f"  {binding:<{id_width}}  {keys_bound.replace(',', ', ')}" + ("  ([keys])" if changed else "")
        for binding, keys_bound, changed in bindings
    ]
    lines += ["", "resolved:"]
    lines += [f"  {field} = {one_line(str(value))}" for field, value in resolved.items()]
    printer.emit(
        {
            "configFile": str(path),
            "exists": path.exists(),
            "variables": variables,
            "settings": resolved,
            "keys": keys,
            "bindings": {
                binding: {"keys": keys_bound, "fromConfig": changed} for binding, keys_bound, changed in bindings
            },
            "agents": agents,
        },
        lines,
    )


def _agents(settings: Settings, variables: dict[str, dict[str, Any]]) -> list[str]:
    """Who answers: the program each of work orders and chat runs, and from which setting."""
    codex = " ".join(settings.codex_bin)
    legacy = variables["JANGAR_AGENT_COMMAND"]["value"]
    if settings.agent_command is not None:
        work_orders = f"another agent: {' '.join(settings.agent_command)} (JANGAR_AGENT_COMMAND)"
    else:
        work_orders = f"Codex: {codex} (JANGAR_CODEX_BIN)"
        if legacy is not None and names_codex(shlex.split(legacy)):
            work_orders += "; JANGAR_AGENT_COMMAND names codex, which still works: set JANGAR_CODEX_BIN instead"
    if settings.chat_command is not None:
        chat = f"another agent: {' '.join(settings.chat_command)} (JANGAR_CHAT_COMMAND)"
    else:
        chat = f"Codex: {codex} (JANGAR_CODEX_BIN)"
    return [one_line(f"work orders: {work_orders}"), one_line(f"chat: {chat}")]
