"""The embedded database's schema, as an ordered list of migrations.

`PRAGMA user_version` records how many migrations a file has had. Opening a file applies the
missing ones, each in its own transaction together with the version bump, so a crash leaves the
file at a whole version. A release only ever appends to `MIGRATIONS`: never edit a shipped entry.

Columns are the contract's (docs/architecture.md). `_seq` is the only addition: an explicit
INTEGER PRIMARY KEY (a stable rowid, like Convex's `_creationTime`) that breaks ties between equal
timestamps in sort order and in page cursors. Every index ends in it implicitly, so each list is
one index range scan.
"""

from __future__ import annotations

import sqlite3

from jangar_tui.models import ErrorCode, JangarError

_V1 = [
    """
    CREATE TABLE chat_sessions (
        _seq INTEGER PRIMARY KEY,
        _id TEXT NOT NULL UNIQUE,
        userId TEXT NOT NULL,
        title TEXT NOT NULL,
        lastMessageAt INTEGER NOT NULL,
        createdAt INTEGER NOT NULL,
        updatedAt INTEGER NOT NULL,
        deletedAt INTEGER
    )
    """,
    """
    CREATE TABLE chat_messages (
        _seq INTEGER PRIMARY KEY,
        _id TEXT NOT NULL UNIQUE,
        sessionId TEXT NOT NULL REFERENCES chat_sessions(_id),
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
        content TEXT NOT NULL,
        metadata TEXT,
        createdAt INTEGER NOT NULL,
        updatedAt INTEGER NOT NULL,
        deletedAt INTEGER
    )
    """,
    """
    CREATE TABLE work_orders (
        _seq INTEGER PRIMARY KEY,
        _id TEXT NOT NULL UNIQUE,
        sessionId TEXT NOT NULL REFERENCES chat_sessions(_id),
        workflowId TEXT NOT NULL,
        githubIssueUrl TEXT,
        prompt TEXT,
        title TEXT,
        status TEXT NOT NULL CHECK (status IN
            ('draft', 'submitted', 'accepted', 'running', 'succeeded', 'failed', 'canceled')),
        requestedBy TEXT,
        targetRepo TEXT,
        targetBranch TEXT,
        prUrl TEXT,
        createdAt INTEGER NOT NULL,
        updatedAt INTEGER NOT NULL,
        deletedAt INTEGER
    )
    """,
    "CREATE INDEX chat_sessions_by_user ON chat_sessions(userId, lastMessageAt)",
    "CREATE INDEX chat_messages_by_session ON chat_messages(sessionId, createdAt)",
    "CREATE INDEX work_orders_by_session ON work_orders(sessionId, createdAt)",
    "CREATE INDEX work_orders_by_status ON work_orders(status, updatedAt)",
]

# v2: the workflowId CONFLICT check becomes an index lookup (and a guarantee, across processes).
_V2 = ["CREATE UNIQUE INDEX work_orders_by_workflow_id ON work_orders(workflowId)"]

# v3: the work-order event log. `seq` numbers a work order's events 1, 2, 3, ... (unique per
# work order: two writers can never give out the same number).
_V3 = [
    """
    CREATE TABLE work_order_events (
        _seq INTEGER PRIMARY KEY,
        _id TEXT NOT NULL UNIQUE,
        workOrderId TEXT NOT NULL REFERENCES work_orders(_id),
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        text TEXT NOT NULL,
        metadata TEXT,
        createdAt INTEGER NOT NULL,
        updatedAt INTEGER NOT NULL,
        deletedAt INTEGER
    )
    """,
    "CREATE UNIQUE INDEX work_order_events_by_seq ON work_order_events(workOrderId, seq)",
]

# v4: a follow-up names the ended work order it continues.
_V4 = ["ALTER TABLE work_orders ADD COLUMN followUpOf TEXT REFERENCES work_orders(_id)"]


_SEARCH_PENDING = (
    "CREATE TABLE IF NOT EXISTS search_pending "
    "(name TEXT PRIMARY KEY, below INTEGER NOT NULL, indexed INTEGER NOT NULL, total INTEGER NOT NULL) WITHOUT ROWID"
)


def _fts(table: str, columns: list[str], *, later: bool = False) -> list[str]:
    """An FTS5 index of `table`'s `columns`, kept current by triggers in the writing transaction
    (inserts, edits of those columns incl. a growing reply's content, renames) and filled from the
    rows already there. External content: the text is stored once, in the table itself. Soft
    delete and restore change no indexed column; search hides deleted rows when it joins back.

    `later`: the rows already there are indexed after the migration, not in it (a million messages
    took 21 s in it, idle, before the app could start): a batch per transaction, newest first
    (`SqliteDb.index_pending`). Their `search_pending` row says which are still to do (`_seq` below
    `below`): the triggers leave those alone (an edit's old words are not in the index; the batch
    reads the current text)."""
    index = f"{table}_fts"
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in columns)
    remove = f"INSERT INTO {index}({index}, rowid, {cols}) VALUES ('delete', old._seq, {old});"
    add = f"INSERT INTO {index}(rowid, {cols}) VALUES (new._seq, {new});"
    indexed = f"old._seq >= COALESCE((SELECT below FROM search_pending WHERE name = '{table}'), 0)"
    on_update, on_delete = (f"({changed}) AND {indexed}", f"WHEN {indexed} ") if later else (changed, "")
    fill = (
        (
            "INSERT INTO search_pending (name, below, indexed, total) "
            f"SELECT '{table}', MAX(_seq) + 1, 0, COUNT(*) FROM {table} HAVING COUNT(*) > 0"
        )
        if later
        else f"INSERT INTO {index}({index}) VALUES ('rebuild')"
    )
    return [
        # remove_diacritics 0: a word matches as written (case aside), as on Convex.
        (
            f"CREATE VIRTUAL TABLE {index} USING fts5({cols}, content='{table}', content_rowid='_seq', "
            "tokenize='unicode61 remove_diacritics 0', prefix='2 3')"
        ),
        f"CREATE TRIGGER {index}_insert AFTER INSERT ON {table} BEGIN {add} END",
        f"CREATE TRIGGER {index}_update AFTER UPDATE OF {cols} ON {table} WHEN {on_update} BEGIN {remove} {add} END",
        f"CREATE TRIGGER {index}_delete AFTER DELETE ON {table} {on_delete}BEGIN {remove} END",
        fill,
        # The index's words, so a typed prefix can be looked up as the words it begins.
        f"CREATE VIRTUAL TABLE {index}_vocab USING fts5vocab({index}, row)",
    ]


# v5: search (FTS5) over session titles, message text and work orders' title, prompt and repo.
# The messages of an older file are indexed after start-up, not before it (see `_fts`).
_V5 = [
    _SEARCH_PENDING,
    *_fts("chat_sessions", ["title"]),
    *_fts("chat_messages", ["content"], later=True),
    *_fts("work_orders", ["title", "prompt", "targetRepo"]),
]

# v6: the session's owner on each work order (sessions never change owner), so one user's work
# orders in a status are one index range (listByStatus with a userId), not a filter after paging.
_V6 = [
    "ALTER TABLE work_orders ADD COLUMN ownerId TEXT",
    "UPDATE work_orders SET ownerId = (SELECT userId FROM chat_sessions WHERE chat_sessions._id = work_orders.sessionId)",
    "CREATE INDEX work_orders_by_owner_status ON work_orders(ownerId, status, updatedAt)",
]


def _bump(name: str) -> str:
    return f"UPDATE table_versions SET version = version + 1 WHERE name = '{name}';"


def _versioned(table: str) -> list[str]:
    """Triggers that count every row `table` gains, changes or loses, whoever writes it."""
    return [
        f"CREATE TRIGGER {table}_version_{event.lower()} AFTER {event} ON {table} BEGIN {_bump(table)} END"
        for event in ("INSERT", "UPDATE", "DELETE")
    ]


# v7: a version per watched table, bumped in the writing transaction, so a process that hears of
# another's commit re-reads only the watches of tables that changed (LocalStore's `Topic`s are these
# names). `<table>.deletedAt` counts removals and restores alone: what a child's watch depends on
# (a session's messages vanish with it) without waking it for every other change of its parent.
_V7 = [
    "CREATE TABLE table_versions (name TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID",
    (
        "INSERT INTO table_versions (name, version) VALUES ('chat_sessions', 0), ('chat_sessions.deletedAt', 0), "
        "('chat_messages', 0), ('work_orders', 0), ('work_orders.deletedAt', 0), ('work_order_events', 0)"
    ),
    *_versioned("chat_sessions"),
    *_versioned("chat_messages"),
    *_versioned("work_orders"),
    *_versioned("work_order_events"),
    *(
        f"CREATE TRIGGER {table}_version_removal AFTER UPDATE OF deletedAt ON {table} "
        f"WHEN old.deletedAt IS NOT new.deletedAt BEGIN {_bump(table + '.deletedAt')} END"
        for table in ("chat_sessions", "work_orders")
    ),
]

# v8: the table of indexes still being filled, in the files whose v5 filled them in its migration.
_V8 = [_SEARCH_PENDING]

MIGRATIONS: list[list[str]] = [_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8]
# The version that added search: files before it get their sessions and work orders indexed when
# they migrate, their messages after it (see `_fts`).
SEARCH_SCHEMA_VERSION = 5
# The version that added table versions (tests build the file just before it).
VERSIONS_SCHEMA_VERSION = 7
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection, migrations: list[list[str]] = MIGRATIONS) -> int:
    """Bring the file up to `len(migrations)`; returns the version it had before.

    `conn` must be in autocommit mode (isolation_level=None). Concurrent openers serialize on
    BEGIN IMMEDIATE and re-read the version inside the lock, so each step runs once.
    """
    target = len(migrations)
    before = _version(conn)
    _refuse_newer(before, target)
    if before == target:
        return before
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = _version(conn)
        _refuse_newer(current, target)
        for version in range(current, target):
            for statement in migrations[version]:
                conn.execute(statement)
        # PRAGMA does not take parameters; target is an int we computed.
        conn.execute(f"PRAGMA user_version = {int(target)}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return before


def ensure_supported(conn: sqlite3.Connection, migrations: list[list[str]] = MIGRATIONS) -> None:
    """Refuse a file written by a newer release before touching it (even the journal mode)."""
    _refuse_newer(_version(conn), len(migrations))


def _version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _refuse_newer(version: int, target: int) -> None:
    if version > target:
        raise JangarError(
            ErrorCode.UNAVAILABLE,
            f"The local database was written by a newer Jangar (schema v{version}, this one knows v{target}); "
            "upgrade Jangar to open it.",
        )
