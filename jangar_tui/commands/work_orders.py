"""`jangar wo list|show|new|launch|cancel|retry|follow-up|logs`."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from jangar_tui.commands.context import Context
from jangar_tui.commands.output import (
    message_lines,
    page_document,
    page_lines,
    record,
    timestamp,
    work_order_fields,
    work_order_line,
)
from jangar_tui.commands.parsing import add_page_options, leaf, page_limit, text_argument
from jangar_tui.models import ChatMessage, WorkOrder, WorkOrderEvent, WorkOrderStatus
from jangar_tui.store import validation
from jangar_tui.text_safety import one_line, visible

# How often `wo logs --follow` looks again for a change and new events.
FOLLOW_POLL_S = 0.5


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    noun = commands.add_parser("wo", aliases=["work-order", "work-orders"], help="work orders")
    verbs = noun.add_subparsers(dest="verb", required=True, metavar="VERB")

    listing = leaf(verbs, "list", common, _list, "work orders of a session or in a status, newest first")
    which = listing.add_mutually_exclusive_group(required=True)
    which.add_argument("--session", dest="session_id", metavar="SESSION")
    which.add_argument("--status", choices=[s.value for s in WorkOrderStatus])
    add_page_options(listing)

    show = leaf(verbs, "show", common, _show, "a work order and, once it has ended, its result")
    show.add_argument("work_order_id", metavar="WORK_ORDER")

    new = leaf(verbs, "new", common, _new, "a draft work order in a session")
    new.add_argument("session_id", metavar="SESSION")
    new.add_argument("--title")
    prompt = new.add_mutually_exclusive_group()
    prompt.add_argument("--prompt", help="what the agent is asked; - reads it from standard input")
    prompt.add_argument(
        "--from-conversation",
        action="store_true",
        help="the session's conversation as the prompt and its title as the title, as ctrl+o does",
    )
    new.add_argument("--repo", dest="target_repo")
    new.add_argument("--branch", dest="target_branch")
    new.add_argument("--issue", dest="github_issue_url", metavar="URL")

    for name, handler, help in (
        ("launch", _launch, "start a draft on Temporal (it becomes submitted)"),
        ("cancel", _cancel, "cancel a work order (its agent is stopped)"),
        ("retry", _retry, "a new draft copying a failed or canceled work order"),
    ):
        verb = leaf(verbs, name, common, handler, help)
        verb.add_argument("work_order_id", metavar="WORK_ORDER")

    follow_up = leaf(
        verbs,
        "follow-up",
        common,
        _follow_up,
        "a new work order continuing an ended one: same branch, worktree, Codex thread and PR; launched at once",
    )
    follow_up.add_argument("work_order_id", metavar="WORK_ORDER")
    follow_up.add_argument("note", metavar="NOTE", help="what the agent is asked next; - reads it from standard input")
    follow_up.add_argument("--draft", action="store_true", help="save it as a draft instead (wo launch starts it)")

    logs = leaf(verbs, "logs", common, _logs, "its status, its event log (what the agent did) and its result")
    logs.add_argument("work_order_id", metavar="WORK_ORDER")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing until it has ended")


async def _list(args: argparse.Namespace, ctx: Context) -> None:
    if args.session_id is not None:
        page = await ctx.service.list_work_orders_by_session(args.session_id, page_limit(args.limit), args.cursor)
    else:
        page = await ctx.service.list_work_orders_by_status(args.status, page_limit(args.limit), args.cursor)
    ctx.printer.emit(page_document(page), page_lines(page, [work_order_line(w) for w in page.page]))


async def _show(args: argparse.Namespace, ctx: Context) -> None:
    work_order = await ctx.service.get_work_order(args.work_order_id)
    result = await ctx.service.work_order_result(work_order)
    worker = await ctx.service.work_order_worker(work_order, result)
    ctx.printer.emit(
        {"workOrder": record(work_order), "result": record(result) if result else None, "worker": worker},
        [
            *work_order_fields(work_order),
            *([f"{'worker:':<14}{one_line(worker)}"] if worker else []),
            *_result_lines(result),
        ],
    )


async def _new(args: argparse.Namespace, ctx: Context) -> None:
    # The flags are checked first, as the store will, so that a refusal names the flag typed
    # (--repo), not the column it fills (targetRepo).
    if args.target_repo is not None:
        ctx.service.check_target_repo(args.target_repo, "--repo")
    if args.target_branch is not None:
        validation.target_branch(args.target_branch, "--branch")
    if args.github_issue_url is not None:
        validation.http_url("--issue", args.github_issue_url)
    title, prompt = args.title, None
    if args.from_conversation:
        prompt = await ctx.service.conversation_prompt(args.session_id)
        if title is None:
            title = (await ctx.service.get_session(args.session_id)).title
    elif args.prompt is not None:
        prompt = text_argument(args.prompt, ctx.stdin)
    work_order = await ctx.service.create_work_order(
        args.session_id,
        title=title,
        prompt=prompt,
        target_repo=args.target_repo,
        target_branch=args.target_branch,
        github_issue_url=args.github_issue_url,
    )
    ctx.printer.emit(record(work_order), [work_order_line(work_order)])


async def _launch(args: argparse.Namespace, ctx: Context) -> None:
    await ctx.use_temporal()
    work_order = await ctx.service.launch_work_order(args.work_order_id)
    ctx.printer.emit(record(work_order), [work_order_line(work_order)])


async def _cancel(args: argparse.Namespace, ctx: Context) -> None:
    if (await ctx.service.get_work_order(args.work_order_id)).status != WorkOrderStatus.DRAFT:
        await ctx.use_temporal()  # its workflow is cancelled, not only its row
    work_order = await ctx.service.cancel_work_order(args.work_order_id)
    ctx.printer.emit(record(work_order), [work_order_line(work_order)])


async def _retry(args: argparse.Namespace, ctx: Context) -> None:
    await ctx.use_temporal()
    work_order = await ctx.service.retry_work_order(args.work_order_id)
    ctx.printer.emit(record(work_order), [work_order_line(work_order)])


async def _follow_up(args: argparse.Namespace, ctx: Context) -> None:
    note = validation.prompt(text_argument(args.note, ctx.stdin), "note")
    if not args.draft:
        await ctx.use_temporal()
    work_order = await ctx.service.follow_up_work_order(args.work_order_id, note, launch=not args.draft)
    ctx.printer.emit(record(work_order), [work_order_line(work_order)])


async def _logs(args: argparse.Namespace, ctx: Context) -> None:
    """One line per thing that happened: the work order (again at each change), each entry of its
    event log (what the agent did), then its result once it has ended. `--follow` waits for the end."""
    shown_at: int | None = None
    last_seq = 0
    while True:
        work_order = await ctx.service.get_work_order(args.work_order_id)
        if work_order.updatedAt != shown_at:
            shown_at = work_order.updatedAt
            ctx.printer.emit({"type": "workOrder", "workOrder": record(work_order)}, [_status_line(work_order)])
        for event in await ctx.service.work_order_events_after(work_order.id, last_seq):
            ctx.printer.emit({"type": "event", "event": record(event)}, _event_lines(event))
            last_seq = event.seq
        if work_order.status.is_terminal:
            result = await ctx.service.work_order_result(work_order)
            ctx.printer.emit(
                {"type": "result", "result": record(result) if result else None},
                _result_lines(result) or ["(no result)"],
            )
            return
        if not args.follow:
            return
        await asyncio.sleep(FOLLOW_POLL_S)


def _status_line(work_order: WorkOrder) -> str:
    return f"{timestamp(work_order.updatedAt)}  {work_order.status.value}  {one_line(work_order.title or '')}".rstrip()


def _event_lines(event: WorkOrderEvent) -> list[str]:
    # Output nearly always ends with a newline: it is no line of its own (as in the UI's run log).
    head, *rest = visible(event.text.rstrip("\n")).split("\n") or [""]
    return [f"{timestamp(event.createdAt)}  #{event.seq} {event.kind.value}  {head}", *("    " + line for line in rest)]


def _result_lines(result: ChatMessage | None) -> list[str]:
    if result is None:
        return []
    return ["result:", *message_lines(result)[1:]]
