"""`jangar session list|new|rename|rm|restore`."""

from __future__ import annotations

import argparse
from typing import Any

from jangar_tui.commands.context import Context
from jangar_tui.commands.output import page_document, page_lines, record, session_line
from jangar_tui.commands.parsing import add_page_options, leaf, page_limit
from jangar_tui.text_safety import one_line


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    noun = commands.add_parser("session", aliases=["sessions"], help="chat sessions")
    verbs = noun.add_subparsers(dest="verb", required=True, metavar="VERB")
    listing = leaf(verbs, "list", common, _list, "your sessions, newest message first")
    add_page_options(listing)
    new = leaf(verbs, "new", common, _new, "start a session")
    new.add_argument("title", nargs="?", default="New session")
    rename = leaf(verbs, "rename", common, _rename, "rename a session")
    rename.add_argument("session_id", metavar="SESSION")
    rename.add_argument("title")
    remove = leaf(verbs, "rm", common, _remove, "delete a session (restore brings it back)")
    remove.add_argument("session_id", metavar="SESSION")
    restore = leaf(verbs, "restore", common, _restore, "bring a deleted session back")
    restore.add_argument("session_id", metavar="SESSION")


async def _list(args: argparse.Namespace, ctx: Context) -> None:
    page = await ctx.service.list_sessions(page_limit(args.limit), args.cursor)
    ctx.printer.emit(page_document(page), page_lines(page, [session_line(session) for session in page.page]))


async def _new(args: argparse.Namespace, ctx: Context) -> None:
    session = await ctx.service.new_session(args.title)
    ctx.printer.emit(record(session), [session_line(session)])


async def _rename(args: argparse.Namespace, ctx: Context) -> None:
    session = await ctx.service.rename_session(args.session_id, args.title)
    ctx.printer.emit(record(session), [session_line(session)])


async def _remove(args: argparse.Namespace, ctx: Context) -> None:
    await ctx.service.delete_session(args.session_id)
    ctx.printer.emit({"_id": args.session_id, "removed": True}, [f"removed {one_line(args.session_id)}"])


async def _restore(args: argparse.Namespace, ctx: Context) -> None:
    session = await ctx.service.restore_session(args.session_id)
    ctx.printer.emit(record(session), [session_line(session)])
