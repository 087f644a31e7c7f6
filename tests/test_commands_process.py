"""The installed `jangar` binary as a script runs it: exit statuses and JSON, on both backends."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from pathlib import Path

import pytest

from jangar_tui.commands import exit_codes
from jangar_tui.models import ErrorCode
from tests.convex_bridge.client import ConvexBridge
from tests.convex_bridge.sync_server import ConvexSyncServer

JANGAR = Path(sys.executable).with_name("jangar")


async def jangar(*argv: str, **environ: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONVEX_", "JANGAR_", "TEMPORAL_"))}
    env.update(environ)
    proc = await asyncio.create_subprocess_exec(
        str(JANGAR), *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_embedded_store(tmp_path: Path) -> None:
    env = {"JANGAR_DATA_DIR": str(tmp_path), "JANGAR_USER": "scripter"}
    code, out, _ = await jangar("session", "new", "From a script", "--json", **env)
    assert code == exit_codes.OK
    session = json.loads(out)
    code, out, _ = await jangar("session", "list", "--json", **env)
    assert (code, [s["_id"] for s in json.loads(out)["page"]]) == (0, [session["_id"]])

    code, out, err = await jangar("wo", "show", "wo_" + "0" * 32, **env)
    assert (code, out) == (exit_codes.BY_ERROR_CODE[ErrorCode.NOT_FOUND], "")
    assert err.startswith("jangar: NOT_FOUND: ")


async def test_usage_and_configuration_errors_exit_2(tmp_path: Path) -> None:
    code, _, err = await jangar("wo", JANGAR_DATA_DIR=str(tmp_path))
    assert code == exit_codes.USAGE and "usage:" in err
    code, _, err = await jangar("wo", "list", "--status", "sleeping", JANGAR_DATA_DIR=str(tmp_path))
    assert code == exit_codes.USAGE and "invalid choice" in err
    # An option the command does not take: refused with that command's usage, naming it.
    code, _, err = await jangar("session", "list", "--bogus", JANGAR_DATA_DIR=str(tmp_path))
    assert code == exit_codes.USAGE and "usage: jangar session list" in err
    assert "jangar session list: error: unrecognized arguments: --bogus" in err
    code, _, err = await jangar("search", "words", "more", "--bogus", JANGAR_DATA_DIR=str(tmp_path))
    assert code == exit_codes.USAGE and "jangar search: error: unrecognized arguments: more --bogus" in err
    code, _, err = await jangar("session", "list", JANGAR_DATA_DIR=str(tmp_path), JANGAR_CONVEX_TIMEOUT="soon")
    assert code == exit_codes.USAGE and err.startswith("jangar: JANGAR_CONVEX_TIMEOUT")


async def test_the_apps_options_may_come_before_the_command(tmp_path: Path) -> None:
    """`jangar --data-dir D session list`: --backend, --data-dir and --user are the app's own
    options (jangar --help lists them), so they are taken before a command's word too, not refused
    as 'unrecognized arguments: session list'."""
    data_dir = tmp_path / "data"
    code, out, err = await jangar("--data-dir", str(data_dir), "--user", "early", "session", "new", "Early", "--json")
    assert (code, err) == (exit_codes.OK, "")
    assert json.loads(out)["userId"] == "early"
    code, out, _ = await jangar(f"--data-dir={data_dir}", "--user=early", "sessions", "list", "--json")
    assert (code, [s["title"] for s in json.loads(out)["page"]]) == (0, ["Early"])
    # Given after the command's word as well, that one wins: it is written later.
    code, out, _ = await jangar(
        "--user", "early", "session", "list", "--json", "--user", "late", JANGAR_DATA_DIR=str(data_dir)
    )
    assert (code, json.loads(out)["page"]) == (0, [])
    # A value the option refuses is refused by the command's own parser, exit 2, naming it.
    code, _, err = await jangar("--backend", "nope", "session", "list", JANGAR_DATA_DIR=str(data_dir))
    assert code == exit_codes.USAGE and "--backend" in err and "nope" in err
    # Before `--` (after it, everything is text): still options.
    code, out, _ = await jangar("--data-dir", str(data_dir), "--user", "early", "search", "--json", "--", "Early")
    assert code == 0 and [hit["sessionTitle"] for hit in json.loads(out)["sessions"]] == ["Early"]


async def test_convex_through_the_official_client(bridge: ConvexBridge, tmp_path: Path) -> None:
    bridge.reset()
    server = ConvexSyncServer(bridge)
    await server.start()
    env = {
        "CONVEX_URL": server.url,
        "CONVEX_ADMIN_KEY": "stand-in-admin-key",
        "JANGAR_USER": "scripter",
        "JANGAR_DATA_DIR": str(tmp_path),
    }
    try:
        code, out, _ = await jangar("session", "new", "On Convex", "--json", **env)
        assert code == 0
        session = json.loads(out)
        code, out, _ = await jangar("message", "send", session["_id"], "hello", "--no-reply", "--json", **env)
        assert (code, json.loads(out)["content"]) == (0, "hello")
        code, out, _ = await jangar("session", "list", "--json", **env)
        assert [s["title"] for s in json.loads(out)["page"]] == ["On Convex"]
        code, out, _ = await jangar("session", "rename", session["_id"], "", "--json", **env)
        assert code == exit_codes.BY_ERROR_CODE[ErrorCode.INVALID_ARGUMENT]
        assert json.loads(out)["error"]["code"] == "INVALID_ARGUMENT"
    finally:
        await server.stop()
    assert "stand-in-admin-key" not in out


def test_every_scripting_noun_reaches_the_scripting_cli() -> None:
    """`jangar NOUN` is routed by its first word before the parser is built: a noun the parser
    knows but COMMAND_NAMES does not would start the TUI's argument parser instead."""
    from jangar_tui.commands import COMMAND_NAMES
    from jangar_tui.commands.main import build_parser

    nouns = next(action for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction))
    assert set(nouns.choices) == set(COMMAND_NAMES)


async def test_workspace_list_from_the_binary(tmp_path: Path) -> None:
    code, out, err = await jangar("workspace", "list", "--json", JANGAR_DATA_DIR=str(tmp_path))
    assert (code, err) == (exit_codes.OK, "")
    assert json.loads(out) == {"workspaces": [], "caches": [], "totalBytes": 0}


def test_the_help_names_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    from jangar_tui.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps at the terminal's width
    for command in ("worker", "deploy", "serve", "config", "session", "message", "wo", "search", "workspace"):
        assert re.search(rf"\b{command}\b", text), command


def test_the_worker_help_names_what_it_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """Work orders run Codex by default: the worker's help names its binary's setting, not only
    the setting for another agent, and says where it finds Temporal when none is configured."""
    from jangar_tui.cli import main

    with pytest.raises(SystemExit):
        main(["worker", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "JANGAR_CODEX_BIN" in text and "JANGAR_AGENT_COMMAND" in text
    assert "JANGAR_DATA_DIR" in text and "embedded" in text
