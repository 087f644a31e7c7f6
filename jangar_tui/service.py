"""The object the UI and the worker talk to: a store plus the launcher, with the user applied.

No business rule lives here: the stores enforce the contract, the launcher owns Temporal. The
service adds only what belongs to "who is asking" (the user id) and glue (a new work order gets
its `workflowId` here, so launching it twice can never start two workflows).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from jangar_tui.conversation import PREFILL_MAX_BYTES, conversation_prompt
from jangar_tui.models import (
    PAGE_SIZE_MAX,
    SEARCH_LIMIT_DEFAULT,
    TITLE_MAX_CHARS,
    ChatMessage,
    ChatSession,
    ConnectionState,
    ErrorCode,
    EventKind,
    HistoryEvent,
    JangarError,
    Page,
    Role,
    SearchResults,
    TemporalState,
    WorkflowDescription,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderStatus,
    new_workflow_id,
)
from jangar_tui.orchestration.follow_up import refuse_while_worktree_busy, workspace_owner
from jangar_tui.orchestration.workspace import (
    GitError,
    WorkspaceBusy,
    WorkspaceInfo,
    cache_usage,
    in_use_by,
    list_workspaces,
    remove_workspace,
    work_branch,
    workspace_info,
)
from jangar_tui.outcome import find_completion_message, find_failure_reason
from jangar_tui.store import validation
from jangar_tui.store.base import DEFAULT_PAGE_SIZE, Store

if TYPE_CHECKING:
    from jangar_tui.orchestration.diff_review import Diff, RunRange

FOLLOW_UP_PREFIX = "Follow-up: "


class Launcher(Protocol):
    """Runs work orders on Temporal (implemented in `jangar_tui.orchestration.launcher`)."""

    async def launch(self, work_order: WorkOrder) -> WorkOrder:
        """Start the workflow (idempotent by workflowId), then mark `submitted`.

        Temporal unreachable: the work order stays `draft` and a `JangarError(UNAVAILABLE)` says why.
        """
        ...

    async def cancel(self, work_order: WorkOrder) -> WorkOrder: ...

    async def retry(self, work_order: WorkOrder) -> WorkOrder:
        """A new `draft` copying a failed or canceled work order (a follow-up's keeps `followUpOf`)."""
        ...

    async def describe(self, work_order: WorkOrder) -> WorkflowDescription | None: ...

    async def history(self, work_order: WorkOrder) -> list[HistoryEvent]: ...

    def watch_state(self) -> AsyncIterator[TemporalState]: ...


@runtime_checkable
class ChatRunner(Protocol):
    """Has agents answer chat messages in the background worker (the Temporal launcher does)."""

    async def send_chat(self, session_id: str, message_id: str) -> None:
        """Queue the user message for an answer; JangarError(UNAVAILABLE) when it cannot be."""
        ...

    async def interrupt_chat(self, session_id: str) -> None: ...


# How far back the detail looks for the change recorded at delivery (the last steps of a run).
RECORDED_DIFF_PAGES = 3


class JangarService:
    def __init__(
        self, store: Store, user_id: str, launcher: Launcher | None = None, data_dir: Path | None = None
    ) -> None:
        self.store = store
        self.user_id = user_id
        self.launcher = launcher
        # Where the worker's worktrees and repository caches are, when it shares this data dir.
        self.data_dir = data_dir

    @property
    def store_description(self) -> str:
        return self.store.description

    async def close(self) -> None:
        await self.store.close()

    # -- sessions ---------------------------------------------------------------------------
    async def new_session(self, title: str = "New session") -> ChatSession:
        return await self.store.create_session(self.user_id, title)

    async def rename_session(self, session_id: str, title: str) -> ChatSession:
        return await self.store.rename_session(session_id, title)

    async def delete_session(self, session_id: str) -> None:
        await self.store.remove_session(session_id)

    async def restore_session(self, session_id: str) -> ChatSession:
        return await self.store.restore_session(session_id)

    async def list_sessions(self, numItems: int = DEFAULT_PAGE_SIZE, cursor: str | None = None) -> Page[ChatSession]:
        return await self.store.list_sessions(self.user_id, numItems, cursor)

    async def get_session(self, session_id: str) -> ChatSession:
        session = await self.store.get_session(session_id)
        if session is None:
            raise JangarError(ErrorCode.NOT_FOUND, "That session no longer exists.")
        return session

    async def search(self, text: str, limit: int = SEARCH_LIMIT_DEFAULT) -> SearchResults:
        """The operator's sessions, messages and work orders holding every word of `text`."""
        return await self.store.search(self.user_id, text, limit)

    def watch_sessions(self, limit: int = 500) -> AsyncIterator[list[ChatSession]]:
        return self.store.watch_sessions(self.user_id, limit)

    # -- messages ---------------------------------------------------------------------------
    @property
    def answers_chat(self) -> bool:
        """Whether an agent answers the chat's user messages (the launcher runs chat turns)."""
        return isinstance(self.launcher, ChatRunner)

    async def send_message(self, session_id: str, content: str, *, reply: bool = True) -> ChatMessage:
        """Store the message, then have the agent answer it (queued behind a reply in progress)
        unless `reply` is False.

        When no agent can be asked (Temporal unreachable), the message stays and a system message
        says why; sending again later asks again.
        """
        message = await self.store.append_message(session_id, Role.USER, content)
        runner = self.launcher
        if reply and isinstance(runner, ChatRunner):
            try:
                await runner.send_chat(session_id, message.id)
            except JangarError as exc:
                await self.store.append_message(
                    session_id,
                    Role.SYSTEM,
                    f"No agent can answer right now: {exc.message}",
                    {"kind": "chatError", "replyTo": message.id},
                )
        return message

    async def interrupt_reply(self, session_id: str) -> None:
        """Stop the reply being written in the session; its text so far stays, marked interrupted."""
        runner = self.launcher
        if not isinstance(runner, ChatRunner):
            raise JangarError(ErrorCode.UNAVAILABLE, "Temporal is not configured, so no reply is being written.")
        await runner.interrupt_chat(session_id)

    async def list_messages(
        self, session_id: str, numItems: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[ChatMessage]:
        return await self.store.list_messages(session_id, numItems, cursor)

    def watch_messages(self, session_id: str, limit: int = DEFAULT_PAGE_SIZE) -> AsyncIterator[list[ChatMessage]]:
        """The newest `limit` messages, oldest first. Scrolling up re-watches with a larger limit."""
        return self.store.watch_messages(session_id, limit)

    async def conversation_prompt(self, session_id: str) -> str:
        """The session's conversation as a work-order prompt (see `jangar_tui.conversation`).

        Reads pages, newest first, only until they hold more text than the prefill may.
        """
        messages: list[ChatMessage] = []
        text_bytes, cursor = 0, None
        while True:
            page = await self.store.list_messages(session_id, PAGE_SIZE_MAX, cursor)
            messages.extend(page.page)
            text_bytes += sum(len(message.content.encode()) for message in page.page)
            if page.isDone or text_bytes > PREFILL_MAX_BYTES:
                return conversation_prompt(messages)
            cursor = page.continueCursor

    # -- work orders --------------------------------------------------------------------------
    async def create_work_order(
        self,
        session_id: str,
        *,
        title: str | None,
        prompt: str | None,
        target_repo: str | None = None,
        target_branch: str | None = None,
        github_issue_url: str | None = None,
    ) -> WorkOrder:
        return await self.store.create_work_order(
            session_id,
            new_workflow_id(),
            title=title,
            prompt=prompt,
            targetRepo=target_repo or None,
            targetBranch=target_branch or None,
            githubIssueUrl=github_issue_url or None,
            requestedBy=self.user_id,
        )

    def check_target_repo(self, target_repo: str, name: str = "targetRepo") -> str:
        """The repository as `create_work_order` will take it, or JangarError(INVALID_ARGUMENT) with
        the store's own sentence: the contract's rule with this store's JANGAR_ALLOW_LOCAL_REPOS.
        `name`: the field as the operator knows it (the form's label, the CLI's flag)."""
        return validation.target_repo(target_repo, self.store.allows_local_repos, name)

    async def get_work_order(self, work_order_id: str) -> WorkOrder:
        work_order = await self.store.get_work_order(work_order_id)
        if work_order is None:
            raise JangarError(ErrorCode.NOT_FOUND, "That work order no longer exists.")
        return work_order

    async def list_work_orders_by_session(
        self, session_id: str, numItems: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[WorkOrder]:
        return await self.store.list_work_orders_by_session(session_id, numItems, cursor)

    async def list_work_orders_by_status(
        self, status: WorkOrderStatus | str, numItems: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[WorkOrder]:
        return await self.store.list_work_orders_by_status(status, numItems, cursor, self.user_id)

    async def work_order_events_after(self, work_order_id: str, after_seq: int = 0) -> list[WorkOrderEvent]:
        """Every event of the work order's log after `after_seq`, oldest first (read a page at a time)."""
        events: list[WorkOrderEvent] = []
        cursor: str | None = None
        while True:
            page = await self.store.list_work_order_events(work_order_id, PAGE_SIZE_MAX, cursor, after_seq or None)
            events.extend(page.page)
            if page.isDone:
                return sorted(events, key=lambda event: event.seq)
            cursor = page.continueCursor

    async def launch_work_order(self, work_order_id: str) -> WorkOrder:
        """Start it; a follow-up is refused (CONFLICT) while another run works in its worktree."""
        launcher = self._require_launcher()
        work_order = await self.get_work_order(work_order_id)
        if work_order.followUpOf is not None:
            await refuse_while_worktree_busy(self.store, work_order)
        return await launcher.launch(work_order)

    async def cancel_work_order(self, work_order_id: str) -> WorkOrder:
        work_order = await self.get_work_order(work_order_id)
        if work_order.status == WorkOrderStatus.DRAFT or self.launcher is None:
            # A draft never reached Temporal: cancel it in the store directly.
            return await self.store.update_work_order_status(
                work_order.id, WorkOrderStatus.CANCELED, expectedStatus=work_order.status
            )
        return await self.launcher.cancel(work_order)

    async def retry_work_order(self, work_order_id: str) -> WorkOrder:
        return await self._require_launcher().retry(await self.get_work_order(work_order_id))

    async def follow_up_work_order(self, work_order_id: str, note: str, *, launch: bool = True) -> WorkOrder:
        """A new work order continuing an ended one (terminal states are final): `note` is its
        prompt; it works on the same repository and branch, in the same worktree, continues the
        same Codex thread and pushes to the same pull request (`orchestration.follow_up`).

        Launched at once unless `launch` is False; when Temporal cannot be reached it stays a
        draft (JangarError UNAVAILABLE says why) and launching it later works. While another run
        works in the same worktree (a follow-up queued or running), JangarError(CONFLICT) and
        nothing is made; a draft is made, and refused when launched while that holds.
        """
        original = await self.get_work_order(work_order_id)
        if not original.status.is_terminal:
            raise JangarError(
                ErrorCode.INVALID_TRANSITION,
                f"Only an ended work order can be followed up; this one is {original.status.value}.",
            )
        if not note.strip():
            raise JangarError(ErrorCode.INVALID_ARGUMENT, "A follow-up needs a note for the agent.")
        if launch:
            await refuse_while_worktree_busy(self.store, original)
        follow_up = await self.store.create_work_order(
            original.sessionId,
            new_workflow_id(),
            title=_follow_up_title(original),
            prompt=note,
            githubIssueUrl=original.githubIssueUrl,
            requestedBy=self.user_id,
            targetRepo=original.targetRepo,
            targetBranch=work_branch(original.targetBranch, original.id) if original.targetRepo else None,
            followUpOf=original.id,
        )
        if not launch:
            return follow_up
        try:
            return await self._require_launcher().launch(follow_up)
        except JangarError as exc:
            if exc.code == ErrorCode.CONFLICT:
                # Another run took the worktree since the check above (the store's own check, in
                # the launch's transaction, refused this one): refused, nothing is left of it.
                await self.store.remove_work_order(follow_up.id)
                raise
            if exc.code != ErrorCode.UNAVAILABLE:
                raise
            raise JangarError(
                ErrorCode.UNAVAILABLE, f"The follow-up {follow_up.id} was saved as a draft, not launched: {exc.message}"
            ) from None

    async def work_order_result(self, work_order: WorkOrder) -> ChatMessage | None:
        """The message its run ended with (see `jangar_tui.outcome`); None before it has ended."""
        if not work_order.status.is_terminal:
            return None
        return await find_completion_message(self.store, work_order)

    async def work_order_failure_reason(self, work_order: WorkOrder) -> str | None:
        """Why a failed work order failed, whole (`jangar_tui.outcome.find_failure_reason`); None
        for any other status."""
        return await find_failure_reason(self.store, work_order)

    # -- workspaces (the worktrees on this machine's data dir) ------------------------------------
    async def work_order_workspace(self, work_order: WorkOrder) -> WorkspaceInfo | None:
        """The worktree the work order works in (a follow-up's is the first one's) and its size;
        None when it has no repository or no data dir is known here."""
        if self.data_dir is None or not work_order.targetRepo:
            return None
        owner = await workspace_owner(work_order, self.store.get_work_order)
        return await asyncio.to_thread(workspace_info, self.data_dir, work_order.targetRepo, owner.id)

    async def list_workspaces(self) -> tuple[list[WorkspaceInfo], list[tuple[Path, int]]]:
        """Every worktree on this data dir, and each repository cache with its size."""
        data_dir = self._require_data_dir()
        return await asyncio.to_thread(list_workspaces, data_dir), await asyncio.to_thread(cache_usage, data_dir)

    async def remove_work_order_workspace(self, work_order_id: str) -> WorkspaceInfo | None:
        """Remove an ended work order's worktree now (its branch and pushed commits stay); what
        was there, or None when it had none. Refused (CONFLICT) while the work order, or a
        follow-up working in the same worktree, has not ended."""
        data_dir = self._require_data_dir()
        work_order = await self.get_work_order(work_order_id)
        if not work_order.status.is_terminal:
            raise JangarError(
                ErrorCode.CONFLICT,
                f"The work order is {work_order.status.value}: its worktree is removed only once it has ended.",
            )
        info = await self.work_order_workspace(work_order)
        if info is None:
            return None
        try:
            removed = await remove_workspace(
                data_dir, info.targetRepo, info.workspaceOf, in_use=in_use_by(self.store.get_work_order)
            )
        except WorkspaceBusy as exc:
            raise JangarError(ErrorCode.CONFLICT, f"{exc} It is removed only once that one has ended.") from None
        return info if removed else None

    def _require_data_dir(self) -> Path:
        if self.data_dir is None:
            raise JangarError(ErrorCode.UNAVAILABLE, "No data dir is known here, so there are no worktrees to show.")
        return self.data_dir

    async def work_order_diff(self, work_order: WorkOrder) -> Diff | None:
        """The change its own run made (`jangar_tui.orchestration.diff_review`): from git on this
        data dir (its worktree, else the repository cache), else the copy recorded when Jangar
        committed; None when there is none. Without its run's recorded range (a work order run
        before it was recorded) it is the whole branch's, and `Diff.scope` says so."""
        # Imported here: a script's `jangar wo list` should not pay for git's helpers at start.
        from jangar_tui.orchestration.diff_review import work_order_diff

        run, recorded = await self._run_record(work_order.id)
        failure: GitError | None = None
        diff: Diff | None = None
        if self.data_dir is not None:
            try:
                # A follow-up works in the first work order's worktree, on its explicit branch.
                owner = await workspace_owner(work_order, self.store.get_work_order)
                diff = await work_order_diff(
                    self.data_dir, work_order.targetRepo, work_order.targetBranch, owner.id, run
                )
            except GitError as exc:
                failure = exc
        if diff is None:
            diff = recorded
        if diff is None and failure is not None:
            raise JangarError(ErrorCode.UNAVAILABLE, f"git could not show the change: {failure}")
        return None if diff is None else dataclasses.replace(diff, scope=await self._diff_scope(work_order, run, diff))

    async def _diff_scope(self, work_order: WorkOrder, run: RunRange | None, diff: Diff) -> str | None:
        """What a diff covers when it is not plainly the run's own committed change."""
        if run is None:
            return (
                f"The whole branch against {diff.base}: this work order's own commits were not recorded (it ran"
                " before Jangar recorded them), so the changes of any follow-up on the same branch show here too."
            )
        if run.until is not None or not work_order.status.is_terminal:
            return None
        scope = "This run's change was never committed (it did not succeed): the worktree as it is now."
        info = await self.work_order_workspace(work_order)
        if info is not None and info.lastUsedBy and info.lastUsedBy != work_order.id:
            scope += f" A later run in the same worktree ({info.lastUsedBy}) changed it since."
        return scope

    async def _run_record(self, work_order_id: str) -> tuple[RunRange | None, Diff | None]:
        """From the newest pages of the log: its run's range (where it started and, once committed,
        ended) and the change recorded when Jangar committed (either None when not found)."""
        from jangar_tui.orchestration.diff_review import (
            RANGE_METADATA_KEY,
            START_COMMIT_KEY,
            RunRange,
            diff_from_event,
        )

        run: RunRange | None = None
        recorded: Diff | None = None
        cursor: str | None = None
        for _ in range(RECORDED_DIFF_PAGES):
            page = await self.store.list_work_order_events(work_order_id, PAGE_SIZE_MAX, cursor)
            for event in page.page:  # newest first
                meta = event.metadata if isinstance(event.metadata, dict) else {}
                if event.kind == EventKind.GIT and recorded is None:
                    recorded = diff_from_event(event.text, meta)
                span = meta.get(RANGE_METADATA_KEY)
                if run is None and isinstance(span, dict) and isinstance(span.get("from"), str):
                    until = span.get("to")
                    run = RunRange(span["from"], until if isinstance(until, str) else None)
                start = meta.get(START_COMMIT_KEY)
                if run is None and event.kind == EventKind.SETUP and isinstance(start, str):
                    run = RunRange(start)
                if run is not None and (recorded is not None or event.kind == EventKind.SETUP):
                    return run, recorded  # nothing older belongs to this run
            if page.isDone:
                break
            cursor = page.continueCursor
        return run, recorded

    async def work_order_worker(self, work_order: WorkOrder, result: ChatMessage | None = None) -> str | None:
        """The name of the worker that ran (or runs) its agent: from the result once it has ended,
        else from the newest "Running on worker" event among the log's newest page."""
        if result is not None and isinstance(result.metadata, dict):
            worker = result.metadata.get("worker")
            if isinstance(worker, str):
                return worker
        page = await self.store.list_work_order_events(work_order.id, PAGE_SIZE_MAX)
        for event in page.page:  # newest first
            if event.kind == EventKind.SETUP and isinstance(event.metadata, dict):
                worker = event.metadata.get("worker")
                if isinstance(worker, str):
                    return worker
        return None

    async def describe_work_order(self, work_order_id: str) -> WorkflowDescription | None:
        return await self._require_launcher().describe(await self.get_work_order(work_order_id))

    async def work_order_history(self, work_order_id: str) -> list[HistoryEvent]:
        return await self._require_launcher().history(await self.get_work_order(work_order_id))

    def watch_work_orders_by_status(
        self, status: WorkOrderStatus, limit: int = DEFAULT_PAGE_SIZE
    ) -> AsyncIterator[list[WorkOrder]]:
        """The user's work orders in a status, across their sessions, most recently updated first
        (board, alerts)."""
        return self.store.watch_work_orders_by_status(status, limit, self.user_id)

    def watch_work_orders(self, session_id: str) -> AsyncIterator[list[WorkOrder]]:
        return self.store.watch_work_orders(session_id)

    def watch_work_order_events(self, work_order_id: str, limit: int = 500) -> AsyncIterator[list[WorkOrderEvent]]:
        """The newest `limit` events of the work order's run log, oldest first, live."""
        return self.store.watch_work_order_events(work_order_id, limit)

    async def work_order_events(
        self, work_order_id: str, cursor: str | None = None, after_seq: int | None = None
    ) -> Page[WorkOrderEvent]:
        """A page of the run log, newest first (the page before `cursor`; only after `after_seq`)."""
        return await self.store.list_work_order_events(work_order_id, PAGE_SIZE_MAX, cursor, after_seq)

    # -- health -------------------------------------------------------------------------------
    def watch_connection(self) -> AsyncIterator[ConnectionState]:
        return self.store.watch_connection()

    def connection_detail(self) -> str | None:
        """Why the store is not live, when it says (read on each connection change)."""
        return self.store.connection_detail

    def watch_temporal(self) -> AsyncIterator[TemporalState] | None:
        return self.launcher.watch_state() if self.launcher else None

    def _require_launcher(self) -> Launcher:
        if self.launcher is None:
            raise JangarError(ErrorCode.UNAVAILABLE, "Temporal is not configured, so work orders cannot run.")
        return self.launcher


def _follow_up_title(original: WorkOrder) -> str:
    """`Follow-up: <the first one's title>`, within the title limit."""
    base = original.title or (original.prompt or "work order").strip().split("\n", 1)[0]
    base = base.removeprefix(FOLLOW_UP_PREFIX)
    title = FOLLOW_UP_PREFIX + base
    return title if len(title) <= TITLE_MAX_CHARS else title[: TITLE_MAX_CHARS - 1].rstrip() + "…"
