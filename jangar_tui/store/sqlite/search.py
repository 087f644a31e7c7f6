"""`search:all` on the embedded store: the FTS5 indexes of schema v5, the contract's rules.

The query never reaches FTS5 as written: `search_text.terms` keeps only its words, and each is
quoted here, so quotes, `*`, `NEAR`, `-` or `col:` in what the operator typed are letters of
nothing, never syntax. The last word, as a prefix: 2-3 letters go to the prefix index
(`prefix='2 3'`); a longer one is looked up in the index's vocabulary and becomes an OR of the
words it begins (at most `EXPAND_MAX`), because FTS5 streams an OR in rowid order and stops at the
limit, while a prefix query without a prefix index reads every matching row first. The lookup
still counts a very common word's rows (fts5vocab always does): at 1M messages a prefix of one of
the few commonest words costs ~30-60 ms this way against ~80-130 ms as a prefix query, a rare
one well under 1 ms either way. Each kind walks its index newest row first
(`ORDER BY rowid DESC`, which FTS5 serves from its doclists without sorting) joined back to the
table and its session, so deleted rows, deleted sessions and other users' rows are skipped and a
common word stops after the first rows that qualify.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from jangar_tui import search_text
from jangar_tui.models import (
    SEARCH_CANDIDATES,
    Role,
    SearchHit,
    SearchIndexing,
    SearchKind,
    SearchResults,
    WorkOrderStatus,
)
from jangar_tui.store import validation as v

WORK_ORDER_FIELDS = ("title", "prompt", "targetRepo")
PREFIX_INDEXED_MAX = 3  # the longest prefix the FTS5 prefix index holds (schema v5: prefix='2 3')
EXPAND_MAX = 64


def _quoted(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _last_term(conn: sqlite3.Connection, index: str, term: str, prefix: bool) -> str | None:
    """The last term's expression; None when no word of the index begins with it."""
    if not prefix:
        return _quoted(term)
    if len(term) <= PREFIX_INDEXED_MAX:
        return _quoted(term) + "*"
    words = [
        row[0]
        for row in conn.execute(
            f"SELECT term FROM {index}_vocab WHERE term >= ? AND term < ? LIMIT ?",
            (term, term + "\U0010ffff", EXPAND_MAX + 1),
        )
    ]
    if not words:
        return None
    if len(words) > EXPAND_MAX:
        return _quoted(term) + "*"
    return "(" + " OR ".join(_quoted(word) for word in words) + ")"


def fts_query(
    conn: sqlite3.Connection, index: str, query_terms: list[str], columns: tuple[str, ...] = ()
) -> str | None:
    """An FTS5 MATCH expression for `index`: every term, the last also as a prefix when long
    enough; within one of `columns` if given. None when nothing can match."""
    *whole, last = query_terms
    last_expression = _last_term(conn, index, last, search_text.is_prefix(query_terms, len(query_terms) - 1))
    if last_expression is None:
        return None
    expression = " AND ".join([*(_quoted(term) for term in whole), last_expression])
    if not columns:
        return expression
    return " OR ".join(f"{{{column}}} : ({expression})" for column in columns)


def search(conn: sqlite3.Connection, userId: Any, text: Any, limit: Any) -> SearchResults:
    user = v.string("userId", userId)
    size = v.search_limit(limit)
    query_terms = search_text.terms(text)
    if not query_terms:
        return SearchResults(sessions=[], messages=[], workOrders=[])
    return SearchResults(
        sessions=_sessions(conn, user, query_terms, size),
        messages=_messages(conn, user, query_terms, size),
        workOrders=_work_orders(conn, user, query_terms, size),
        indexing=indexing(conn),
    )


def indexing(conn: sqlite3.Connection) -> SearchIndexing | None:
    """How far the message index is built, while it is (see `schema._fts`)."""
    row = conn.execute("SELECT indexed, total FROM search_pending WHERE name = 'chat_messages'").fetchone()
    return None if row is None else SearchIndexing(indexed=row[0], total=row[1])


def index_pending(conn: sqlite3.Connection, batch: int) -> SearchIndexing | None:
    """Index the next `batch` messages still to do, newest first, in the caller's transaction;
    how far it is after (None: done). Messages appended meanwhile are indexed by the triggers."""
    row = conn.execute("SELECT below, indexed, total FROM search_pending WHERE name = 'chat_messages'").fetchone()
    if row is None:
        return None
    below, done, total = row
    # The batch's lowest _seq, found on the rowid (no scan): everything from it up to `below`.
    low = conn.execute(
        "SELECT _seq FROM chat_messages WHERE _seq < ? ORDER BY _seq DESC LIMIT 1 OFFSET ?", (below, batch - 1)
    ).fetchone()
    start = 0 if low is None else low[0]
    added = conn.execute(
        "INSERT INTO chat_messages_fts(rowid, content) SELECT _seq, content FROM chat_messages "
        "WHERE _seq >= ? AND _seq < ?",
        (start, below),
    ).rowcount
    if low is None:  # nothing older left
        conn.execute("DELETE FROM search_pending WHERE name = 'chat_messages'")
        return None
    done += added
    conn.execute(
        "UPDATE search_pending SET below = ?, indexed = ? WHERE name = 'chat_messages'",
        (start, done),
    )
    return SearchIndexing(indexed=done, total=max(total, done))


def _newest(rows: list[sqlite3.Row], sort: str, size: int, hit: Callable[[sqlite3.Row], SearchHit]) -> list[SearchHit]:
    """The contract's order: by `sort` desc, then creation order desc; at most `size`."""
    ordered = sorted(rows, key=lambda row: (row[sort], row["_seq"]), reverse=True)
    return [hit(row) for row in ordered[:size]]


def _sessions(conn: sqlite3.Connection, user: str, query_terms: list[str], size: int) -> list[SearchHit]:
    match = fts_query(conn, "chat_sessions_fts", query_terms)
    if match is None:
        return []
    rows = conn.execute(
        "SELECT s._seq, s._id, s.title, s.lastMessageAt FROM chat_sessions_fts f "
        "JOIN chat_sessions s ON s._seq = f.rowid "
        "WHERE chat_sessions_fts MATCH ? AND s.userId = ? AND s.deletedAt IS NULL "
        "ORDER BY f.rowid DESC LIMIT ?",
        (match, user, SEARCH_CANDIDATES),
    ).fetchall()

    def hit(row: sqlite3.Row) -> SearchHit:
        return SearchHit(
            kind=SearchKind.SESSION,
            sessionId=row["_id"],
            sessionTitle=row["title"],
            field="title",
            excerpt=search_text.excerpt(row["title"], query_terms),
            at=row["lastMessageAt"],
        )

    return _newest(rows, "lastMessageAt", size, hit)


def _messages(conn: sqlite3.Connection, user: str, query_terms: list[str], size: int) -> list[SearchHit]:
    # Messages are appended in time order, so the newest rows are the newest messages: `size` of
    # them are enough (no candidate window), which keeps a common word cheap over millions.
    match = fts_query(conn, "chat_messages_fts", query_terms)
    if match is None:
        return []
    rows = conn.execute(
        "SELECT m._seq, m._id, m.sessionId, m.role, m.content, m.createdAt, s.title FROM chat_messages_fts f "
        "JOIN chat_messages m ON m._seq = f.rowid JOIN chat_sessions s ON s._id = m.sessionId "
        "WHERE chat_messages_fts MATCH ? AND m.deletedAt IS NULL AND s.userId = ? AND s.deletedAt IS NULL "
        "ORDER BY f.rowid DESC LIMIT ?",
        (match, user, size),
    ).fetchall()

    def hit(row: sqlite3.Row) -> SearchHit:
        return SearchHit(
            kind=SearchKind.MESSAGE,
            sessionId=row["sessionId"],
            sessionTitle=row["title"],
            messageId=row["_id"],
            field="content",
            excerpt=search_text.excerpt(row["content"], query_terms),
            at=row["createdAt"],
            role=Role(row["role"]),
        )

    return _newest(rows, "createdAt", size, hit)


def _work_orders(conn: sqlite3.Connection, user: str, query_terms: list[str], size: int) -> list[SearchHit]:
    match = fts_query(conn, "work_orders_fts", query_terms, WORK_ORDER_FIELDS)
    if match is None:
        return []
    rows = conn.execute(
        "SELECT w._seq, w._id, w.sessionId, w.title, w.prompt, w.targetRepo, w.status, w.updatedAt, "
        "s.title AS sessionTitle FROM work_orders_fts f "
        "JOIN work_orders w ON w._seq = f.rowid JOIN chat_sessions s ON s._id = w.sessionId "
        "WHERE work_orders_fts MATCH ? AND w.deletedAt IS NULL AND s.userId = ? AND s.deletedAt IS NULL "
        "ORDER BY f.rowid DESC LIMIT ?",
        (match, user, SEARCH_CANDIDATES),
    ).fetchall()

    def hit(row: sqlite3.Row) -> SearchHit:
        field = matched_field({name: row[name] for name in WORK_ORDER_FIELDS}, query_terms)
        return SearchHit(
            kind=SearchKind.WORK_ORDER,
            sessionId=row["sessionId"],
            sessionTitle=row["sessionTitle"],
            workOrderId=row["_id"],
            workOrderTitle=row["title"],
            field=field,
            excerpt=search_text.excerpt(row[field] or "", query_terms),
            at=row["updatedAt"],
            status=WorkOrderStatus(row["status"]),
        )

    return _newest(rows, "updatedAt", size, hit)


def matched_field(fields: dict[str, str | None], query_terms: list[str]) -> str:
    """The first field (title, prompt, targetRepo) holding every term: the one the hit shows."""
    for name, value in fields.items():
        if value is not None and search_text.matches(value, query_terms):
            return name
    # The index matched where the contract's reading of words does not (exotic case folding):
    # show the first field there is.
    return next((name for name, value in fields.items() if value is not None), "title")
