"""Parse a command line, run the command against the configured store, map errors to exit codes."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Mapping
from typing import TextIO

from jangar_tui.commands import config_cmd, exit_codes, messages, search, sessions, work_orders, workspaces
from jangar_tui.commands.context import Context
from jangar_tui.commands.output import Printer
from jangar_tui.commands.parsing import common_options
from jangar_tui.config import ConfigError, Settings
from jangar_tui.models import JangarError
from jangar_tui.service import JangarService
from jangar_tui.store.base import Store

SettingsFrom = Callable[[argparse.Namespace, Mapping[str, str]], Settings]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jangar",
        description="Jangar from a script: sessions, messages, work orders and search. "
        "Every command takes --json; the exit status names the error (see the README, Scripting).",
    )
    commands = parser.add_subparsers(dest="noun", required=True, metavar="COMMAND")
    common = common_options()
    sessions.add_parser(commands, common)
    messages.add_parser(commands, common)
    work_orders.add_parser(commands, common)
    search.add_parser(commands, common)
    workspaces.add_parser(commands, common)
    config_cmd.add_parser(commands, common)
    _name_the_command_in_errors(parser)
    return parser


def _name_the_command_in_errors(parser: argparse.ArgumentParser) -> None:
    """Each command remembers its own parser, so that an option it does not know is refused with
    its usage (`jangar session list: error: ... --bogus`), not the top level's ('jangar [-h]
    COMMAND ...'), which argparse gives for any argument a subcommand left over."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in set(action.choices.values()):
                sub.set_defaults(command_parser=sub)
                _name_the_command_in_errors(sub)


def commands_main(argv: list[str], settings_from: SettingsFrom, bindings_of: config_cmd.BindingsOf) -> int:
    """`jangar session|message|wo ...`: returns the exit status. `bindings_of` resolves the app's
    keys for `jangar config` (the entry point passes the UI's key table: see config_cmd)."""
    # A usage error exits 2 with argparse's message, from the command's own parser when it has one.
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        getattr(args, "command_parser", parser).error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        settings = settings_from(args, os.environ)
    except ConfigError as error:
        print(f"jangar: {error}", file=sys.stderr)
        return exit_codes.USAGE
    if getattr(args, "offline", False):  # needs no store
        try:
            config_cmd.show_config(args, settings, Printer(sys.stdout, as_json=args.json), bindings_of)
        except ConfigError as error:
            print(f"jangar: {error}", file=sys.stderr)
            return exit_codes.USAGE
        return exit_codes.OK
    try:
        return asyncio.run(_open_and_run(args, settings))
    except KeyboardInterrupt:  # ctrl+c during `wo logs --follow`: stop quietly
        return 130


async def _open_and_run(args: argparse.Namespace, settings: Settings) -> int:
    from jangar_tui.store.factory import open_store

    try:
        store = open_store(settings)
    except ConfigError as error:
        print(f"jangar: {error}", file=sys.stderr)
        return exit_codes.USAGE
    except JangarError as error:
        return _refused(args, error, sys.stdout, sys.stderr)
    except OSError as error:
        print(f"jangar: cannot open the data store: {error}", file=sys.stderr)
        return exit_codes.FAILURE
    try:
        return await run(args, settings, store, stdout=sys.stdout, stderr=sys.stderr, stdin=sys.stdin)
    finally:
        await store.close()


async def run(
    args: argparse.Namespace, settings: Settings, store: Store, *, stdout: TextIO, stderr: TextIO, stdin: TextIO
) -> int:
    """Run the parsed command on `store` (left open); a refusal prints the error and gives its code."""
    ctx = Context(
        JangarService(store, settings.user, data_dir=settings.data_dir),
        settings,
        Printer(stdout, as_json=args.json),
        stdin,
    )
    try:
        await args.handler(args, ctx)
    except JangarError as error:
        return _refused(args, error, stdout, stderr)
    finally:
        await ctx.aclose()
    return exit_codes.OK


def _refused(args: argparse.Namespace, error: JangarError, stdout: TextIO, stderr: TextIO) -> int:
    Printer(stdout, as_json=args.json).error(error, stderr)
    return exit_codes.BY_ERROR_CODE.get(error.code, exit_codes.FAILURE)
