"""`jangar search TEXT`: the operator's sessions, messages and work orders holding its words."""

from __future__ import annotations

import argparse
from typing import Any

from jangar_tui import search_text
from jangar_tui.commands.context import Context
from jangar_tui.commands.output import timestamp
from jangar_tui.models import (
    SEARCH_LIMIT_DEFAULT,
    SEARCH_LIMIT_MAX,
    ErrorCode,
    JangarError,
    SearchHit,
    SearchResults,
)
from jangar_tui.store import validation
from jangar_tui.text_safety import one_line

HELP = (
    "session titles, message text and work orders (title, prompt, repo) holding every word of TEXT, "
    "the last word also as a prefix; newest first, at most --limit of each kind"
)


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser("search", parents=[common], help=HELP, description=HELP)
    parser.add_argument("text", metavar="TEXT", help="words to find (punctuation only separates words)")
    parser.add_argument(
        "--limit",
        type=int,
        default=SEARCH_LIMIT_DEFAULT,
        help=f"hits of each kind, 1-{SEARCH_LIMIT_MAX} (default %(default)s)",
    )
    parser.set_defaults(handler=_search)


async def _search(args: argparse.Namespace, ctx: Context) -> None:
    if not search_text.terms(args.text):
        # Nothing could be found, so saying "nothing found" would hide the mistake.
        problem = "is empty" if not args.text.strip() else "has no words (only letters and digits are searched)"
        raise JangarError(ErrorCode.INVALID_ARGUMENT, f"The search text {problem}: give the words to find.")
    results = await ctx.service.search(args.text, validation.search_limit(args.limit, "--limit"))
    # `indexing` only while there is a build to tell of: the usual document stays as it was.
    hidden = {"indexing"} if results.indexing is None else set()
    ctx.printer.emit(results.model_dump(mode="json", exclude=hidden), result_lines(results))


def result_lines(results: SearchResults) -> list[str]:
    """One line per hit: what it is and where (ids a script can pass on), then its excerpt."""
    lines: list[str] = []
    for hit in results.all():
        lines.append(_head(hit))
        lines.append("    " + one_line(hit.excerpt))
    lines = lines or ["(nothing found)"]
    if results.indexing is not None:
        lines.append(f"({results.indexing.note})")
    return lines


def _head(hit: SearchHit) -> str:
    where = one_line(hit.sessionTitle)
    if hit.messageId is not None:
        return f"message     {hit.messageId}  {timestamp(hit.at)}  {hit.role.value if hit.role else ''}  in {where}"
    if hit.workOrderId is not None:
        status = hit.status.value if hit.status else ""
        title = one_line(hit.workOrderTitle or "(untitled)")
        return f"work order  {hit.workOrderId}  {timestamp(hit.at)}  {status} ({hit.field})  {title}  in {where}"
    return f"session     {hit.sessionId}  {timestamp(hit.at)}  {where}"
