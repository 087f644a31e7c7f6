"""Building blocks of the command-line parser shared by the nouns."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import Any

from jangar_tui.commands.context import Context
from jangar_tui.models import PAGE_SIZE_MAX
from jangar_tui.store import validation
from jangar_tui.store.base import DEFAULT_PAGE_SIZE

Handler = Callable[[argparse.Namespace, Context], Awaitable[None]]


def common_options() -> argparse.ArgumentParser:
    """The options every command takes (after its name): output form and where the data lives."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON (one document per line)")
    common.add_argument("--backend", choices=("local", "convex"), help="where the data lives (JANGAR_BACKEND)")
    common.add_argument("--data-dir", metavar="DIR", help="embedded data directory (JANGAR_DATA_DIR)")
    common.add_argument("--user", help="whose sessions (JANGAR_USER)")
    return common


def leaf(
    verbs: Any, name: str, common: argparse.ArgumentParser, handler: Handler, help: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = verbs.add_parser(name, parents=[common], help=help, description=help)
    parser.set_defaults(handler=handler)
    return parser


def add_page_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--limit", type=int, default=DEFAULT_PAGE_SIZE, help=f"items per page, 1-{PAGE_SIZE_MAX} (default %(default)s)"
    )
    parser.add_argument("--cursor", help="the continueCursor of the previous page")


def page_limit(value: int) -> int:
    """--limit, checked as the store will (numItems) and refused naming the flag the operator typed."""
    return validation.page_size(value, "--limit")


def text_argument(value: str, stdin: Any) -> str:
    """A text argument, or standard input when it is `-` (for long or multi-line text)."""
    return str(stdin.read()) if value == "-" else value
