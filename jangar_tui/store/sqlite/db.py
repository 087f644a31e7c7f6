"""The embedded store's rules on SQLite, synchronous (LocalStore runs it on its own thread).

One writer connection (every change in one `BEGIN IMMEDIATE` transaction, so concurrent
processes serialize on the file lock and wait via busy_timeout instead of failing) and one
read-only connection for lists, gets and the table versions that say what changed. Both belong to
the thread that opened them.

Rules, limits and error codes are the Convex functions' (tests/contract/README.md); argument
checks live in `validation`, the status machine in `jangar_tui.models`. Checks run in Convex's
order, so a call with several faults gets the same code from every backend: argument types
(Convex's validators) first, then NOT_FOUND, then the value checks (lengths, sizes, URLs).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from jangar_tui.models import (
    ACTIVE_STATUSES,
    FOLLOW_UP_CHAIN_MAX,
    LAUNCHED_STATUSES,
    ChatMessage,
    ChatSession,
    ErrorCode,
    EventKind,
    EventsAppended,
    JangarError,
    Page,
    Role,
    SearchIndexing,
    SearchResults,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderStatus,
    check_transition,
)
from jangar_tui.store import validation as v
from jangar_tui.store.cursors import ListIdentity, encode_cursor, invalid_cursor, open_cursor
from jangar_tui.store.sqlite import search as fts
from jangar_tui.store.sqlite.schema import ensure_supported, migrate

BUSY_TIMEOUT_S = 10.0

# Ids encode their table, so an id of another table is refused before any lookup.
_PREFIX = {"chat_sessions": "ses", "chat_messages": "msg", "work_orders": "wo", "work_order_events": "woe"}
_ID = {table: re.compile(rf"{prefix}_[0-9a-f]{{32}}") for table, prefix in _PREFIX.items()}
_ARG = {
    "chat_sessions": "sessionId",
    "chat_messages": "messageId",
    "work_orders": "workOrderId",
    "work_order_events": "eventId",
}
_NOUN = {
    "chat_sessions": "chat session",
    "chat_messages": "message",
    "work_orders": "work order",
    "work_order_events": "work-order event",
}

_ACTIVE_SQL = ", ".join(f"'{s.value}'" for s in sorted(ACTIVE_STATUSES, key=lambda s: s.value))

M = TypeVar("M", ChatSession, ChatMessage, WorkOrder, WorkOrderEvent)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def new_id(table: str) -> str:
    return f"{_PREFIX[table]}_{secrets.token_hex(16)}"


def check_id(table: str, value: Any) -> str:
    name = _ARG[table]
    if not isinstance(value, str) or not _ID[table].fullmatch(value):
        raise v.invalid(f"{name} is not a {_NOUN[table]} id.")
    return value


def _not_found(table: str) -> JangarError:
    return JangarError(ErrorCode.NOT_FOUND, f"That {_NOUN[table]} does not exist or was deleted.")


# --- rows <-> models ---------------------------------------------------------------------------


# Rows this store wrote itself, checked on the way in and typed by the schema, are constructed,
# not validated: validating builds each model's pydantic validator on first use (~25 ms for the
# messages', more on a slow minute), and that landed on start-up, between the session list and the
# chosen session's messages. The enums are made here, since construction converts nothing.
# tests/test_local_store.py holds every kind equal, field types included, to validated ones.


def _session(row: sqlite3.Row) -> ChatSession:
    return ChatSession.model_construct(**dict(row))


def _message(row: sqlite3.Row) -> ChatMessage:
    data = dict(row)
    data["role"] = Role(data["role"])
    data["metadata"] = None if data["metadata"] is None else json.loads(data["metadata"])
    return ChatMessage.model_construct(**data)


def _work_order(row: sqlite3.Row) -> WorkOrder:
    data = dict(row)
    data["status"] = WorkOrderStatus(data["status"])
    return WorkOrder.model_construct(**data)


def _event(row: sqlite3.Row) -> WorkOrderEvent:
    data = dict(row)
    data["kind"] = EventKind(data["kind"])
    data["metadata"] = None if data["metadata"] is None else json.loads(data["metadata"])
    return WorkOrderEvent.model_construct(**data)


_COLUMNS = {
    "chat_sessions": "_seq, _id, userId, title, lastMessageAt, createdAt, updatedAt, deletedAt",
    "chat_messages": "_seq, _id, sessionId, role, content, metadata, createdAt, updatedAt, deletedAt",
    "work_orders": (
        "_seq, _id, sessionId, workflowId, githubIssueUrl, prompt, title, status, requestedBy, "
        "targetRepo, targetBranch, prUrl, followUpOf, createdAt, updatedAt, deletedAt"
    ),
    "work_order_events": "_seq, _id, workOrderId, seq, kind, text, metadata, createdAt, updatedAt, deletedAt",
}


# Built on first use (pydantic caches them): all three at import would cost ~20 ms of start-up.
_PAGE: dict[str, Callable[[], type[Page[Any]]]] = {
    "chat_sessions": lambda: Page[ChatSession],
    "chat_messages": lambda: Page[ChatMessage],
    "work_orders": lambda: Page[WorkOrder],
    "work_order_events": lambda: Page[WorkOrderEvent],
}


# --- page cursors --------------------------------------------------------------------------------

# Where a page starts: after this (sort key, _seq); `_END` is after everything.
_END = (-1, -1)


def _position(list_: ListIdentity, cursor: Any) -> tuple[int, int] | None:
    """None for the first page (cursor null), else the position the cursor's envelope carries."""
    if cursor is None:
        return None
    inner = open_cursor(list_, cursor)
    if inner is None:
        return _END
    key, _, seq = inner.partition(":")
    try:
        return int(key), int(seq)
    except ValueError:
        raise invalid_cursor() from None


# --- the database --------------------------------------------------------------------------------


class SqliteDb:
    def __init__(
        self, path: Path, writer: sqlite3.Connection, reader: sqlite3.Connection, allow_local_repos: bool = False
    ) -> None:
        self.path = path
        self._w = writer
        self._r = reader
        self._allow_local_repos = allow_local_repos
        self._versions: dict[str, int] = {}

    @classmethod
    def open(cls, path: Path, allow_local_repos: bool = False) -> SqliteDb:
        """Create (0700 dir, 0600 file) or open the file, switch to WAL, apply migrations."""
        path = Path(path)
        try:
            _prepare_file(path)
            writer = _connect(path)
        except (OSError, sqlite3.Error) as exc:
            raise unavailable(path, exc) from exc
        try:
            ensure_supported(writer)
            writer.execute("PRAGMA journal_mode = WAL")
            # LocalStore checkpoints on a background thread (_checkpoint.py), not inside commits.
            writer.execute("PRAGMA wal_autocheckpoint = 0")
            migrate(writer)
            reader = _connect(path)
        except sqlite3.Error as exc:
            writer.close()
            raise unavailable(path, exc) from exc
        except BaseException:
            writer.close()
            raise
        db = cls(path, writer, reader, allow_local_repos)
        try:
            reader.execute("PRAGMA query_only = ON")
            db.changed_tables()  # what is there now is no change
        except sqlite3.Error as exc:
            db.close()
            raise unavailable(path, exc) from exc
        except BaseException:
            db.close()
            raise
        return db

    def close(self) -> None:
        self._r.close()
        self._w.close()

    def changed_tables(self) -> set[str]:
        """The `table_versions` rows (tables, and `<table>.deletedAt`) bumped since the last call
        or the open, by this object's commits or any other process's. One read of a six-row table:
        cheap enough for every write and every wake."""
        current = {name: version for name, version in self._r.execute("SELECT name, version FROM table_versions")}
        changed = {name for name, version in current.items() if self._versions.get(name) != version}
        self._versions = current
        return changed

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; SQLite failures (busy past the timeout, disk full) become UNAVAILABLE."""
        try:
            self._w.execute("BEGIN IMMEDIATE")
            try:
                yield self._w
                self._w.execute("COMMIT")
            except BaseException:
                if self._w.in_transaction:
                    self._w.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            raise unavailable(self.path, exc) from exc

    @staticmethod
    def _row(conn: sqlite3.Connection, table: str, row_id: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = conn.execute(
            f"SELECT {_COLUMNS[table]} FROM {table} WHERE _id = ?", (row_id,)
        ).fetchone()
        return row

    def _live(self, conn: sqlite3.Connection, table: str, row_id: str) -> sqlite3.Row:
        row = self._row(conn, table, row_id)
        if row is None or row["deletedAt"] is not None:
            raise _not_found(table)
        return row

    def _any(self, conn: sqlite3.Connection, table: str, row_id: str) -> sqlite3.Row:
        row = self._row(conn, table, row_id)
        if row is None:
            raise _not_found(table)
        return row

    def _get(self, table: str, row_id: Any, convert: Callable[[sqlite3.Row], M]) -> M | None:
        row = self._row(self._r, table, check_id(table, row_id))
        return None if row is None or row["deletedAt"] is not None else convert(row)

    def _page(
        self,
        table: str,
        list_: ListIdentity,
        where: str,
        params: tuple[Any, ...],
        sort: str,
        convert: Callable[[sqlite3.Row], M],
        num_items: Any,
        cursor: Any,
    ) -> Page[M]:
        """Newest first by (`sort`, _seq): one index range, `numItems + 1` rows read at most."""
        size = v.page_size(num_items)
        after = _position(list_, cursor)
        sql = f"SELECT {_COLUMNS[table]} FROM {table} WHERE {where} AND deletedAt IS NULL"
        if after is not None:
            sql += f" AND ({sort}, _seq) < (?, ?)"
            after_key, after_seq = after
            params = (*params, after_key, after_seq)
        sql += f" ORDER BY {sort} DESC, _seq DESC LIMIT ?"
        rows = self._r.execute(sql, (*params, size + 1)).fetchall()
        page_rows = rows[:size]
        if page_rows:
            last = page_rows[-1]
            next_cursor = encode_cursor(list_, f"{last[sort]}:{last['_seq']}")
        else:
            # Nothing left: hand back a cursor that stays at the end (Convex always gives one).
            next_cursor = cursor if after is not None else encode_cursor(list_, None)
        return _PAGE[table]()(
            page=[convert(r) for r in page_rows], isDone=len(rows) <= size, continueCursor=next_cursor
        )

    # -- chatSessions -----------------------------------------------------------------------------

    def create_session(self, userId: Any, title: Any) -> ChatSession:
        user, clean_title = v.user_id(userId), v.title(title)
        row_id = new_id("chat_sessions")
        with self._tx() as conn:
            now = now_ms()
            conn.execute(
                "INSERT INTO chat_sessions (_id, userId, title, lastMessageAt, createdAt, updatedAt) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (row_id, user, clean_title, now, now, now),
            )
        return ChatSession(id=row_id, userId=user, title=clean_title, lastMessageAt=now, createdAt=now, updatedAt=now)

    def list_sessions(self, userId: Any, numItems: Any, cursor: Any) -> Page[ChatSession]:
        user = v.string("userId", userId)
        list_ = ListIdentity("chatSessions:list", user)
        return self._page("chat_sessions", list_, "userId = ?", (user,), "lastMessageAt", _session, numItems, cursor)

    def get_session(self, sessionId: Any) -> ChatSession | None:
        return self._get("chat_sessions", sessionId, _session)

    def update_last_message(self, sessionId: Any) -> ChatSession:
        row_id = check_id("chat_sessions", sessionId)
        with self._tx() as conn:
            row = self._live(conn, "chat_sessions", row_id)
            now = now_ms()
            conn.execute(
                "UPDATE chat_sessions SET lastMessageAt = ?, updatedAt = ? WHERE _id = ?",
                (max(row["lastMessageAt"], now), max(row["updatedAt"], now), row_id),
            )
            return _session(self._any(conn, "chat_sessions", row_id))

    def rename_session(self, sessionId: Any, title: Any) -> ChatSession:
        row_id = check_id("chat_sessions", sessionId)
        v.string("title", title)
        with self._tx() as conn:
            row = self._live(conn, "chat_sessions", row_id)
            clean_title = v.title(title)
            conn.execute(
                "UPDATE chat_sessions SET title = ?, updatedAt = ? WHERE _id = ?",
                (clean_title, _later(row), row_id),
            )
            return _session(self._any(conn, "chat_sessions", row_id))

    def remove_session(self, sessionId: Any) -> None:
        row_id = check_id("chat_sessions", sessionId)
        with self._tx() as conn:
            row = self._any(conn, "chat_sessions", row_id)
            if row["deletedAt"] is not None:
                return
            active = conn.execute(
                f"SELECT 1 FROM work_orders WHERE sessionId = ? AND deletedAt IS NULL AND status IN ({_ACTIVE_SQL}) "
                "LIMIT 1",
                (row_id,),
            ).fetchone()
            if active is not None:
                raise JangarError(
                    ErrorCode.CONFLICT,
                    "This session has work orders that are not finished; cancel or delete them first.",
                )
            now = now_ms()
            conn.execute(
                "UPDATE chat_sessions SET deletedAt = ?, updatedAt = ? WHERE _id = ?",
                (now, max(row["updatedAt"], now), row_id),
            )

    def restore_session(self, sessionId: Any) -> ChatSession:
        return _session(self._restore("chat_sessions", sessionId))

    def _restore(self, table: str, row_id: Any) -> sqlite3.Row:
        row_id = check_id(table, row_id)
        with self._tx() as conn:
            row = self._any(conn, table, row_id)
            if row["deletedAt"] is None:
                return row
            conn.execute(f"UPDATE {table} SET deletedAt = NULL, updatedAt = ? WHERE _id = ?", (_later(row), row_id))
            return self._any(conn, table, row_id)

    def _remove(self, table: str, row_id: Any, refuse: Callable[[sqlite3.Row], None] | None = None) -> None:
        row_id = check_id(table, row_id)
        with self._tx() as conn:
            row = self._any(conn, table, row_id)
            if row["deletedAt"] is not None:
                return
            if refuse is not None:
                refuse(row)
            now = now_ms()
            conn.execute(
                f"UPDATE {table} SET deletedAt = ?, updatedAt = ? WHERE _id = ?",
                (now, max(row["updatedAt"], now), row_id),
            )

    # -- chatMessages ------------------------------------------------------------------------------

    def append_message(self, sessionId: Any, role: Any, content: Any, metadata: Any = None) -> ChatMessage:
        session_id = check_id("chat_sessions", sessionId)
        clean_role = v.role(role)
        v.string("content", content)
        # Metadata Convex cannot store is refused as a wrong type is: before anything is looked up.
        metadata_text = v.metadata_json(metadata)
        row_id = new_id("chat_messages")
        with self._tx() as conn:
            session = self._live(conn, "chat_sessions", session_id)
            clean_content = v.content(content)
            # Never earlier than the session's last message: createdAt is non-decreasing per
            # session (with _seq breaking ties), and lastMessageAt never moves backwards.
            now = max(now_ms(), session["lastMessageAt"])
            conn.execute(
                "INSERT INTO chat_messages (_id, sessionId, role, content, metadata, createdAt, updatedAt) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (row_id, session_id, clean_role.value, clean_content, metadata_text, now, now),
            )
            conn.execute(
                "UPDATE chat_sessions SET lastMessageAt = ?, updatedAt = ? WHERE _id = ?",
                (now, max(session["updatedAt"], now), session_id),
            )
        return ChatMessage(
            id=row_id,
            sessionId=session_id,
            role=clean_role,
            content=clean_content,
            metadata=None if metadata_text is None else json.loads(metadata_text),
            createdAt=now,
            updatedAt=now,
        )

    def update_message(self, messageId: Any, content: Any = None, metadata: Any = None) -> ChatMessage:
        row_id = check_id("chat_messages", messageId)
        if content is not None:
            v.string("content", content)
        # As in append: metadata Convex cannot store is refused before anything is looked up.
        new_metadata = None if metadata is None else v.metadata_json(metadata)
        with self._tx() as conn:
            row = self._any(conn, "chat_messages", row_id)
            if row["deletedAt"] is not None:
                raise JangarError(ErrorCode.NOT_FOUND, "This message was deleted; restore it first.")
            session = self._live(conn, "chat_sessions", row["sessionId"])
            clean_content = row["content"] if content is None else v.content(content)
            metadata_text = row["metadata"] if new_metadata is None else new_metadata
            now = now_ms()
            conn.execute(
                "UPDATE chat_messages SET content = ?, metadata = ?, updatedAt = ? WHERE _id = ?",
                (clean_content, metadata_text, max(row["updatedAt"], now), row_id),
            )
            conn.execute(
                "UPDATE chat_sessions SET lastMessageAt = ?, updatedAt = ? WHERE _id = ?",
                (max(session["lastMessageAt"], now), max(session["updatedAt"], now), session["_id"]),
            )
            return _message(self._any(conn, "chat_messages", row_id))

    def list_messages(self, sessionId: Any, numItems: Any, cursor: Any) -> Page[ChatMessage]:
        session_id = check_id("chat_sessions", sessionId)
        list_ = ListIdentity("chatMessages:listBySession", session_id)
        v.page_size(numItems)
        _position(list_, cursor)  # a cursor of another list is refused, whether or not the session exists
        if self.get_session(session_id) is None:
            return _empty_page("chat_messages", list_)
        return self._page(
            "chat_messages", list_, "sessionId = ?", (session_id,), "createdAt", _message, numItems, cursor
        )

    def remove_message(self, messageId: Any) -> None:
        self._remove("chat_messages", messageId)

    def restore_message(self, messageId: Any) -> ChatMessage:
        return _message(self._restore("chat_messages", messageId))

    # -- workOrders -------------------------------------------------------------------------------

    def create_work_order(
        self,
        sessionId: Any,
        workflowId: Any,
        *,
        title: Any = None,
        prompt: Any = None,
        githubIssueUrl: Any = None,
        requestedBy: Any = None,
        targetRepo: Any = None,
        targetBranch: Any = None,
        followUpOf: Any = None,
        status: Any = WorkOrderStatus.DRAFT,
    ) -> WorkOrder:
        session_id = check_id("chat_sessions", sessionId)
        v.string("workflowId", workflowId)
        optional = {
            "title": title,
            "prompt": prompt,
            "githubIssueUrl": githubIssueUrl,
            "requestedBy": requestedBy,
            "targetRepo": targetRepo,
            "targetBranch": targetBranch,
        }
        for name, value in optional.items():
            if value is not None:
                v.string(name, value)
        initial = v.create_status(status)
        follows = None if followUpOf is None else check_id("work_orders", followUpOf)
        row_id = new_id("work_orders")
        with self._tx() as conn:
            session = self._live(conn, "chat_sessions", session_id)
            fields = {
                "requestedBy": None if requestedBy is None else v.requested_by(requestedBy),
                "workflowId": v.workflow_id(workflowId),
                "title": None if title is None else v.title(title, "work order title"),
                "prompt": None if prompt is None else v.prompt(prompt),
                "githubIssueUrl": None if githubIssueUrl is None else v.http_url("githubIssueUrl", githubIssueUrl),
                "targetRepo": None if targetRepo is None else v.target_repo(targetRepo, self._allow_local_repos),
                "targetBranch": None if targetBranch is None else v.target_branch(targetBranch),
                "status": initial.value,
            }
            taken = conn.execute("SELECT 1 FROM work_orders WHERE workflowId = ?", (fields["workflowId"],)).fetchone()
            if taken is not None:
                raise JangarError(ErrorCode.CONFLICT, "A work order with this workflowId already exists.")
            if follows is not None:
                self._check_followed_up(conn, follows, session_id)
                if initial == WorkOrderStatus.SUBMITTED:
                    self._check_worktree_free(conn, None, self._chain_root(conn, follows), session["userId"])
            now = now_ms()
            conn.execute(
                "INSERT INTO work_orders (_id, sessionId, ownerId, workflowId, githubIssueUrl, prompt, title, "
                "status, requestedBy, targetRepo, targetBranch, followUpOf, createdAt, updatedAt) "
                "VALUES (:_id, :sessionId, :ownerId, :workflowId, :githubIssueUrl, :prompt, :title, :status, "
                ":requestedBy, :targetRepo, :targetBranch, :followUpOf, :now, :now)",
                {
                    "_id": row_id,
                    "sessionId": session_id,
                    "ownerId": session["userId"],
                    "now": now,
                    "followUpOf": follows,
                    **fields,
                },
            )
            return _work_order(self._any(conn, "work_orders", row_id))

    def _check_followed_up(self, conn: sqlite3.Connection, original_id: str, session_id: str) -> None:
        """A follow-up continues an ended work order of the same session (terminal states are final)."""
        original = self._live(conn, "work_orders", original_id)
        if original["sessionId"] != session_id:
            raise JangarError(
                ErrorCode.INVALID_ARGUMENT,
                f"A follow-up belongs to the session of the work order it follows ({original['workflowId']}).",
            )
        if not WorkOrderStatus(original["status"]).is_terminal:
            raise JangarError(
                ErrorCode.INVALID_TRANSITION,
                f"Only an ended work order can be followed up; {original['workflowId']} is {original['status']}.",
            )

    def _chain_root(self, conn: sqlite3.Connection, row_id: str) -> str:
        """The first work order of `row_id`'s follow-up chain, whose worktree the chain works in (a
        deleted link ends the chain, as in `orchestration.follow_up.workspace_owner`)."""
        current = row_id
        for _ in range(FOLLOW_UP_CHAIN_MAX):
            row = conn.execute(
                "SELECT followUpOf FROM work_orders WHERE _id = ? AND deletedAt IS NULL", (current,)
            ).fetchone()
            previous = row["followUpOf"] if row is not None else None
            if (
                previous is None
                or conn.execute("SELECT 1 FROM work_orders WHERE _id = ? AND deletedAt IS NULL", (previous,)).fetchone()
                is None
            ):
                break
            current = previous
        return current

    def _check_worktree_free(self, conn: sqlite3.Connection, launching: str | None, root: str, owner: str) -> None:
        """One run at a time in a worktree: CONFLICT while another work order of the chain that
        starts at `root` is launched (submitted, accepted or running). Checked in the transaction
        that launches, so of two follow-ups launched at once one is refused."""
        statuses = sorted(s.value for s in LAUNCHED_STATUSES)
        launched = conn.execute(
            f"SELECT _id, workflowId, title, status FROM work_orders WHERE ownerId = ? "
            f"AND status IN ({', '.join('?' * len(statuses))}) AND deletedAt IS NULL",
            (owner, *statuses),
        ).fetchall()
        for other in launched:
            if other["_id"] != launching and self._chain_root(conn, other["_id"]) == root:
                raise JangarError(
                    ErrorCode.CONFLICT,
                    f"Work order {other['_id']} ({other['title'] or other['workflowId']}) is {other['status']} in the "
                    "same worktree, and one run at a time works in a worktree: try again once it has ended, or "
                    "cancel it.",
                )

    def update_work_order_status(self, workOrderId: Any, status: Any, expectedStatus: Any = None) -> WorkOrder:
        row_id = check_id("work_orders", workOrderId)
        target = v.status(status)
        expected = None if expectedStatus is None else v.status(expectedStatus, "expectedStatus")
        with self._tx() as conn:
            row = self._live(conn, "work_orders", row_id)
            current = WorkOrderStatus(row["status"])
            if expected is not None and expected != current:
                raise JangarError(
                    ErrorCode.CONFLICT,
                    f"The work order is {current.value}, not {expected.value}: it changed meanwhile; look again.",
                )
            if target == current:
                return _work_order(row)
            check_transition(current, target)
            if target == WorkOrderStatus.SUBMITTED and row["followUpOf"] is not None:
                owner = conn.execute("SELECT ownerId FROM work_orders WHERE _id = ?", (row_id,)).fetchone()["ownerId"]
                self._check_worktree_free(conn, row_id, self._chain_root(conn, row_id), owner)
            conn.execute(
                "UPDATE work_orders SET status = ?, updatedAt = ? WHERE _id = ?", (target.value, _later(row), row_id)
            )
            return _work_order(self._any(conn, "work_orders", row_id))

    def update_work_order_result(self, workOrderId: Any, prUrl: Any) -> WorkOrder:
        row_id = check_id("work_orders", workOrderId)
        if prUrl is not None:
            v.string("prUrl", prUrl)
        with self._tx() as conn:
            row = self._live(conn, "work_orders", row_id)
            pr_url = None if prUrl is None else v.http_url("prUrl", prUrl)
            conn.execute("UPDATE work_orders SET prUrl = ?, updatedAt = ? WHERE _id = ?", (pr_url, _later(row), row_id))
            return _work_order(self._any(conn, "work_orders", row_id))

    def list_work_orders_by_session(self, sessionId: Any, numItems: Any, cursor: Any) -> Page[WorkOrder]:
        session_id = check_id("chat_sessions", sessionId)
        list_ = ListIdentity("workOrders:listBySession", session_id)
        v.page_size(numItems)
        _position(list_, cursor)  # a cursor of another list is refused, whether or not the session exists
        if self.get_session(session_id) is None:
            return _empty_page("work_orders", list_)
        return self._page(
            "work_orders", list_, "sessionId = ?", (session_id,), "createdAt", _work_order, numItems, cursor
        )

    def list_work_orders_by_status(
        self, status: Any, numItems: Any, cursor: Any, userId: Any = None
    ) -> Page[WorkOrder]:
        """Every user's, or with `userId` that user's: one range of the (ownerId, status,
        updatedAt) index, so a page is full whenever more of theirs exist."""
        wanted = v.status(status)
        params: tuple[str, ...]
        if userId is None:
            list_ = ListIdentity("workOrders:listByStatus", wanted.value)
            where, params = "status = ?", (wanted.value,)
        else:
            user = v.user_id(userId)
            list_ = ListIdentity("workOrders:listByStatus", f"{wanted.value}:{user}")
            where, params = "ownerId = ? AND status = ?", (user, wanted.value)
        return self._page("work_orders", list_, where, params, "updatedAt", _work_order, numItems, cursor)

    def get_work_order(self, workOrderId: Any) -> WorkOrder | None:
        return self._get("work_orders", workOrderId, _work_order)

    def remove_work_order(self, workOrderId: Any) -> None:
        def refuse_live(row: sqlite3.Row) -> None:
            if WorkOrderStatus(row["status"]) in LAUNCHED_STATUSES:
                raise JangarError(
                    ErrorCode.CONFLICT,
                    f"The work order is {row['status']}; cancel it before deleting it.",
                )

        self._remove("work_orders", workOrderId, refuse_live)

    def restore_work_order(self, workOrderId: Any) -> WorkOrder:
        return _work_order(self._restore("work_orders", workOrderId))

    # -- workOrderEvents --------------------------------------------------------------------------

    def append_work_order_events(self, workOrderId: Any, events: Any) -> EventsAppended:
        row_id = check_id("work_orders", workOrderId)
        typed = v.event_shapes(events)
        with self._tx() as conn:
            self._live(conn, "work_orders", row_id)
            batch = v.event_batch(typed)
            # The newest event, deleted or not: sequence numbers are never reused.
            last = conn.execute(
                "SELECT seq, createdAt FROM work_order_events WHERE workOrderId = ? ORDER BY seq DESC LIMIT 1",
                (row_id,),
            ).fetchone()
            first_seq = 1 if last is None else last["seq"] + 1
            # Never earlier than the last event, so createdAt follows seq even if the clock steps back.
            now = max(now_ms(), 0 if last is None else last["createdAt"])
            conn.executemany(
                "INSERT INTO work_order_events (_id, workOrderId, seq, kind, text, metadata, createdAt, updatedAt) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (new_id("work_order_events"), row_id, first_seq + i, kind.value, text, metadata, now, now)
                    for i, (kind, text, metadata) in enumerate(batch)
                ],
            )
        return EventsAppended(firstSeq=first_seq, lastSeq=first_seq + len(batch) - 1)

    def list_work_order_events(
        self, workOrderId: Any, numItems: Any, cursor: Any, afterSeq: Any = None
    ) -> Page[WorkOrderEvent]:
        row_id = check_id("work_orders", workOrderId)
        v.page_size(numItems)
        after = 0 if afterSeq is None else v.seq(afterSeq, "afterSeq")
        # The list is the work order's events after `afterSeq`: a cursor belongs to that range.
        list_ = ListIdentity("workOrderEvents:list", f"{row_id}:{after}")
        _position(list_, cursor)  # a cursor of another list is refused, whether or not the work order exists
        if self.get_work_order(row_id) is None:
            return _empty_page("work_order_events", list_)
        return self._page(
            "work_order_events",
            list_,
            "workOrderId = ? AND seq > ?",
            (row_id, after),
            "seq",
            _event,
            numItems,
            cursor,
        )

    # -- search -----------------------------------------------------------------------------------

    def search(self, userId: Any, text: Any, limit: Any) -> SearchResults:
        return fts.search(self._r, userId, text, limit)

    def search_indexing(self) -> SearchIndexing | None:
        """How far the message index of a file from before search is built (None: complete)."""
        return fts.indexing(self._r)

    def index_pending(self, batch: int) -> SearchIndexing | None:
        """Index the next `batch` messages a file held before it had search, in one transaction of
        its own (a kill loses at most this batch, which the next open does again)."""
        with self._tx() as conn:
            return fts.index_pending(conn, batch)

    # -- watcher snapshots (the newest `limit` rows; no cursor) ------------------------------------

    def recent_sessions(self, userId: Any, limit: int) -> list[ChatSession]:
        rows = self._r.execute(
            f"SELECT {_COLUMNS['chat_sessions']} FROM chat_sessions WHERE userId = ? AND deletedAt IS NULL "
            "ORDER BY lastMessageAt DESC, _seq DESC LIMIT ?",
            (v.string("userId", userId), limit),
        ).fetchall()
        return [_session(r) for r in rows]

    def recent_messages(self, sessionId: Any, limit: int) -> list[ChatMessage]:
        """Oldest first, ready to render."""
        session_id = check_id("chat_sessions", sessionId)
        if self.get_session(session_id) is None:
            return []
        rows = self._r.execute(
            f"SELECT {_COLUMNS['chat_messages']} FROM chat_messages WHERE sessionId = ? AND deletedAt IS NULL "
            "ORDER BY createdAt DESC, _seq DESC LIMIT ?",
            (session_id, limit),
        ).fetchall()
        return [_message(r) for r in reversed(rows)]

    def recent_work_orders(self, sessionId: Any, limit: int) -> list[WorkOrder]:
        session_id = check_id("chat_sessions", sessionId)
        if self.get_session(session_id) is None:
            return []
        rows = self._r.execute(
            f"SELECT {_COLUMNS['work_orders']} FROM work_orders WHERE sessionId = ? AND deletedAt IS NULL "
            "ORDER BY createdAt DESC, _seq DESC LIMIT ?",
            (session_id, limit),
        ).fetchall()
        return [_work_order(r) for r in rows]

    def recent_work_order_events(self, workOrderId: Any, limit: int) -> list[WorkOrderEvent]:
        """The newest `limit` events, oldest first (ready to render)."""
        row_id = check_id("work_orders", workOrderId)
        if self.get_work_order(row_id) is None:
            return []
        rows = self._r.execute(
            f"SELECT {_COLUMNS['work_order_events']} FROM work_order_events WHERE workOrderId = ? "
            "AND deletedAt IS NULL ORDER BY seq DESC LIMIT ?",
            (row_id, limit),
        ).fetchall()
        return [_event(r) for r in reversed(rows)]

    def recent_work_orders_by_status(self, status: Any, limit: int, userId: Any = None) -> list[WorkOrder]:
        """Most recently updated first: one range of the (status, updatedAt) index, or with
        `userId` of the (ownerId, status, updatedAt) one."""
        owner = "" if userId is None else "ownerId = ? AND "
        rows = self._r.execute(
            f"SELECT {_COLUMNS['work_orders']} FROM work_orders WHERE {owner}status = ? AND deletedAt IS NULL "
            "ORDER BY updatedAt DESC, _seq DESC LIMIT ?",
            (*(() if userId is None else (v.user_id(userId),)), v.status(status).value, limit),
        ).fetchall()
        return [_work_order(r) for r in rows]


def _later(row: sqlite3.Row) -> int:
    """The new updatedAt: now, but never before the current one (the clock may step back)."""
    updated: int = row["updatedAt"]
    return max(updated, now_ms())


def _empty_page(table: str, list_: ListIdentity) -> Page[Any]:
    """What a list of an unknown or deleted session returns (a cursor that stays at the end)."""
    return _PAGE[table]()(page=[], isDone=True, continueCursor=encode_cursor(list_, None))


def unavailable(path: Path, exc: sqlite3.Error | OSError) -> JangarError:
    return JangarError(ErrorCode.UNAVAILABLE, f"The local database {path} cannot be used right now: {exc}.")


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves.
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable at checkpoints, never corrupt
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _prepare_file(path: Path) -> None:
    """Private to the user: a new data dir is 0700; the file is 0600 (SQLite gives -wal/-shm its mode)."""
    directory = path.parent
    if not directory.exists():
        directory.mkdir(parents=True, mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)  # mkdir's mode is masked by the umask
    # Create it if missing, but never open an existing one here: closing any descriptor of a file
    # drops every POSIX lock this process holds on it, those of SQLite connections already open on
    # it (another store in this process) too. Another process closing its store would then think
    # itself the last one, checkpoint and delete the WAL under them: a stale, then malformed file.
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    except FileExistsError:
        pass
    else:
        os.close(fd)
    if stat.S_IMODE(os.stat(path).st_mode) != 0o600:
        os.chmod(path, 0o600)
