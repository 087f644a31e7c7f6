"""`jangar`: the terminal UI; `jangar worker`: a Temporal worker; `jangar deploy`: push the Convex functions;
`jangar serve`: the UI in a browser; the scripting commands (`jangar_tui.commands`) by their first word.

Each is imported only when its command runs: the UI (and Textual) only for the UI, so `jangar worker`
and the scripting commands start without it. A configuration error is one line on stderr and exit
status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import signal
import sys
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Self

from jangar_tui import gc_policy
from jangar_tui.commands import COMMAND_NAMES
from jangar_tui.config import ConfigError, Settings, config_file_path, load_settings
from jangar_tui.models import JangarError

if TYPE_CHECKING:
    from jangar_tui.orchestration.runtime import JangarRuntime
    from jangar_tui.service import Launcher
    from jangar_tui.store.base import Store

EXIT_CONFIG = 2


# The app's own options (`jangar --help`), which the commands that read a store take too.
_APP_OPTIONS = ("--backend", "--data-dir", "--user")
# Command words whose parsers take _APP_OPTIONS (the worker reads its settings from the environment).
_TAKES_APP_OPTIONS = COMMAND_NAMES | {"serve"}


def _options_after_command(args: list[str]) -> list[str]:
    """`jangar --data-dir D session list` as `jangar session list --data-dir D`: the app's options
    given before a command's word are handed to the command, ahead of its own options (so those,
    written later, win as argparse's last value does, and a `--` still ends the options); any
    other line is returned as it is."""
    options: list[str] = []
    rest = args
    while rest and rest[0].split("=", 1)[0] in _APP_OPTIONS:
        taken = 1 if "=" in rest[0] else 2
        options, rest = options + rest[:taken], rest[taken:]
    if not options or not rest or rest[0] not in _TAKES_APP_OPTIONS:
        return args
    words = next((i for i, arg in enumerate(rest) if arg.startswith("-")), len(rest))
    return [*rest[:words], *options, *rest[words:]]


def main(argv: list[str] | None = None) -> int:
    args = _options_after_command(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["worker"], ["deploy"], ["serve"]) or (args and args[0] in COMMAND_NAMES):
        gc_policy.release()  # only the UI is worth tuning the collector for
    if args[:1] == ["worker"]:
        from jangar_tui.orchestration.worker import worker_main

        return worker_main(args[1:])
    if args[:1] == ["deploy"]:
        from jangar_tui.deploy import deploy_main

        return deploy_main(args[1:])
    if args[:1] == ["serve"]:
        from jangar_tui.ui.serve import serve_main

        return serve_main(args[1:], settings_from)
    if args and args[0] in COMMAND_NAMES:
        from jangar_tui.commands.main import commands_main

        return commands_main(args, settings_from, _resolved_bindings)
    return _tui_main(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jangar",
        description="Terminal control plane for Codex background workers. "
        "Subcommands: `jangar worker` (a Temporal worker), `jangar deploy` (deploy the Convex functions), "
        "`jangar session|message|wo|search|workspace` (scripting: each takes --help), "
        "`jangar config` (the resolved settings and where each comes from, secrets masked), "
        "`jangar serve` (the app in a browser).",
    )
    parser.add_argument("--backend", choices=("local", "convex"), help="where the data lives (JANGAR_BACKEND)")
    parser.add_argument("--data-dir", metavar="DIR", help="embedded data directory (JANGAR_DATA_DIR)")
    parser.add_argument("--user", help="whose sessions to show (JANGAR_USER)")
    return parser


def settings_from(args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    """The environment's settings with the command-line flags taking precedence."""
    env = dict(environ)
    for flag, variable in (("backend", "JANGAR_BACKEND"), ("data_dir", "JANGAR_DATA_DIR"), ("user", "JANGAR_USER")):
        value = getattr(args, flag)
        if value is not None:
            env[variable] = value
    return load_settings(env, config_file=config_file_path(env))


def _resolved_bindings(settings: Settings) -> list[tuple[str, str, bool]]:
    """For `jangar config`: the app's keys under `settings`, checked by the app's own loader (the
    commands cannot import the UI; the key table imports Textual, so only `jangar config` loads it)."""
    from jangar_tui.ui.keymap import resolved_bindings

    return resolved_bindings(settings)


def _tui_main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = settings_from(args, os.environ)
    except ConfigError as error:
        print(f"jangar: {error}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        return asyncio.run(_run_tui(settings))
    except ConfigError as error:  # found while opening the backend
        print(f"jangar: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except JangarError as error:  # the store refused to open
        print(f"jangar: {error.message}", file=sys.stderr)
        return EXIT_CONFIG
    except OSError as error:  # e.g. the data directory cannot be created
        print(f"jangar: cannot open the data store: {error}", file=sys.stderr)
        return EXIT_CONFIG


class DeferredRuntime:
    """`JangarRuntime`, imported and built only when the app enters it (after the first frame).

    Importing temporalio costs a few hundred milliseconds; done up front it would delay the first
    frame. The import runs on a thread so the UI keeps drawing meanwhile.
    """

    def __init__(self, settings: Settings, store: Store) -> None:
        self._settings = settings
        self._store = store
        self._runtime: JangarRuntime | None = None
        # Set by the app: told "starting…" when the runtime starts the data dir's server itself.
        self.on_note: Callable[[str], None] | None = None

    @property
    def launcher(self) -> Launcher:
        assert self._runtime is not None, "the runtime has not been entered"
        return self._runtime.launcher

    async def __aenter__(self) -> Self:
        module = await asyncio.to_thread(importlib.import_module, "jangar_tui.orchestration.runtime")
        runtime: JangarRuntime = module.JangarRuntime(self._settings, self._store, on_note=self.on_note)
        await runtime.__aenter__()
        self._runtime = runtime
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._runtime is not None:
            await self._runtime.__aexit__(exc_type, exc, tb)


async def _run_tui(settings: Settings) -> int:
    from jangar_tui.preferences import remember_board_seen, remember_theme, remembered_board_seen, remembered_theme
    from jangar_tui.service import JangarService
    from jangar_tui.store.factory import open_store
    from jangar_tui.ui.app import JangarApp
    from jangar_tui.ui.keymap import keys_source

    store = open_store(settings)
    service = JangarService(store, settings.user, data_dir=settings.data_dir)
    try:
        app = JangarApp(
            service,
            DeferredRuntime(settings, store),
            notify=settings.notify,
            in_tmux=settings.in_tmux,
            theme=settings.theme or remembered_theme(settings.data_dir),
            remember_theme=lambda name: remember_theme(settings.data_dir, name),
            key_overrides=settings.key_overrides,
            keys_source=keys_source(settings),
            board_seen_at=remembered_board_seen(settings.data_dir, settings.user),
            remember_board_seen=lambda at: remember_board_seen(settings.data_dir, settings.user, at),
        )
    except BaseException:
        await store.close()
        raise
    # A dropped ssh connection (SIGHUP) or a kill (SIGTERM) quits like ctrl+q, so the embedded
    # Temporal server, which runs in its own process group, is stopped too.
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGHUP, signal.SIGTERM):
        loop.add_signal_handler(signum, app.exit)
    try:
        await app.run_async()
    finally:
        await app.aclose()  # stops embedded Temporal and the worker, closes the store
    return app.return_code or 0
