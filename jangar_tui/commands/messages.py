"""`jangar message list|send`."""

from __future__ import annotations

import argparse
from typing import Any

from jangar_tui.commands.context import Context
from jangar_tui.commands.output import message_lines, page_document, page_lines, record
from jangar_tui.commands.parsing import add_page_options, leaf, page_limit, text_argument


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    noun = commands.add_parser("message", aliases=["messages"], help="a session's messages")
    verbs = noun.add_subparsers(dest="verb", required=True, metavar="VERB")
    listing = leaf(verbs, "list", common, _list, "a session's messages, newest first")
    listing.add_argument("session_id", metavar="SESSION")
    add_page_options(listing)
    send = leaf(verbs, "send", common, _send, "write to a session as its user; the agent answers it, as in the UI")
    send.add_argument("session_id", metavar="SESSION")
    send.add_argument("text", help="the message; - reads it from standard input")
    send.add_argument("--no-reply", action="store_true", help="only store it: no agent is asked")


async def _list(args: argparse.Namespace, ctx: Context) -> None:
    page = await ctx.service.list_messages(args.session_id, page_limit(args.limit), args.cursor)
    ctx.printer.emit(
        page_document(page), page_lines(page, [line for message in page.page for line in message_lines(message)])
    )


async def _send(args: argparse.Namespace, ctx: Context) -> None:
    text = text_argument(args.text, ctx.stdin)
    if not args.no_reply:
        await ctx.service.get_session(args.session_id)  # a wrong id is refused before Temporal is reached
        await ctx.use_temporal()  # the agent is asked through the session's chat workflow, as from the UI
    message = await ctx.service.send_message(args.session_id, text, reply=not args.no_reply)
    ctx.printer.emit(record(message), message_lines(message))
