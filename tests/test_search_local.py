"""Search on the embedded store beyond the contract scenario: the FTS5 index is filled from a file's
existing rows when it migrates, stays equal to the contract's rules on random data (an oracle
written with `search_text.matches`, no index), and no query text is ever FTS5 syntax."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from jangar_tui import search_text
from jangar_tui.models import SEARCH_LIMIT_MAX, SearchKind
from jangar_tui.store.sqlite.schema import MIGRATIONS, SEARCH_SCHEMA_VERSION, migrate
from jangar_tui.store.sqlite.search import fts_query
from jangar_tui.store.sqlite.store import LocalStore


async def test_a_file_from_before_search_gets_its_existing_rows_indexed(tmp_path: Path) -> None:
    db = tmp_path / "before-search.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    migrate(conn, MIGRATIONS[: SEARCH_SCHEMA_VERSION - 1])
    session_id, message_id, order_id = "ses_" + "1" * 32, "msg_" + "2" * 32, "wo_" + "3" * 32
    conn.execute(
        "INSERT INTO chat_sessions (_id, userId, title, lastMessageAt, createdAt, updatedAt) VALUES (?,?,?,?,?,?)",
        (session_id, "alice", "Older notes", 20, 10, 20),
    )
    conn.execute(
        "INSERT INTO chat_messages (_id, sessionId, role, content, createdAt, updatedAt) VALUES (?,?,?,?,?,?)",
        (message_id, session_id, "assistant", "the gateway was rebuilt", 20, 20),
    )
    conn.execute(
        "INSERT INTO work_orders (_id, sessionId, workflowId, status, title, prompt, targetRepo, createdAt, "
        "updatedAt) VALUES (?,?,?,?,?,?,?,?,?)",
        (order_id, session_id, "jangar-wo-v3", "succeeded", "Gateway", "rebuild it", "acme/gateway", 30, 30),
    )
    conn.close()

    store = LocalStore(db)
    try:
        found = await store.search("alice", "older")
        assert [hit.sessionId for hit in found.sessions] == [session_id]
        found = await store.search("alice", "gateway")
        assert [hit.messageId for hit in found.messages] == [message_id]
        assert [(hit.workOrderId, hit.field) for hit in found.workOrders] == [(order_id, "title")]
        found = await store.search("alice", "rebuild")
        assert [(hit.workOrderId, hit.field) for hit in found.workOrders] == [(order_id, "prompt")]
        assert found.messages == []  # "rebuilt" is another word
    finally:
        await store.close()


async def test_updates_keep_the_index_current(local_store: LocalStore) -> None:
    """A growing reply (many updates), a rename back and forth: only the current text is found."""
    session = await local_store.create_session("alice", "Alpha")
    reply = await local_store.append_message(session.id, "assistant", "thinking")
    text = ""
    for word in ["first", "second", "third"]:
        text = f"{text} {word}".strip()
        await local_store.update_message(reply.id, content=text)
    assert [h.messageId for h in (await local_store.search("alice", "third")).messages] == [reply.id]
    assert (await local_store.search("alice", "thinking")).messages == []
    await local_store.update_message(reply.id, metadata={"usage": 1})  # content unchanged: still found
    assert [h.messageId for h in (await local_store.search("alice", "first second")).messages] == [reply.id]
    await local_store.rename_session(session.id, "Beta")
    assert (await local_store.search("alice", "alpha")).sessions == []
    await local_store.rename_session(session.id, "Alpha")
    assert [h.sessionId for h in (await local_store.search("alice", "alpha")).sessions] == [session.id]
    # The index holds exactly what the tables hold: FTS5's own consistency check.
    conn = sqlite3.connect(local_store.path)
    try:
        for index in ("chat_sessions_fts", "chat_messages_fts", "work_orders_fts"):
            conn.execute(f"INSERT INTO {index}({index}, rank) VALUES ('integrity-check', 1)")
    finally:
        conn.close()


WORDS = ["deploy", "deployed", "deployment", "worker", "work", "queue", "café", "CAFE", "x1", "ab", "a", "abcd"]
texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(" ".join)
punctuation = st.sampled_from([" ", ", ", "-", ":", '"', "*", "/", "(", ")"])


@settings(max_examples=40, deadline=None)
@given(
    messages=st.lists(texts, min_size=1, max_size=12),
    query=st.lists(
        st.sampled_from([*WORDS, "dep", "depl", "deploye", "wor", "q", "caf", "abc", "NEAR", "OR"]),
        min_size=1,
        max_size=3,
    ),
    glue=punctuation,
)
def test_hits_are_what_the_rules_say(messages: list[str], query: list[str], glue: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_check_oracle(Path(tmp) / "db.sqlite3", messages, glue.join(query)))


async def _check_oracle(path: Path, messages: list[str], query: str) -> None:
    store = LocalStore(path)
    try:
        session = await store.create_session("alice", "Oracle")
        other = await store.create_session("bob", "Other")
        ids = []
        for content in messages:
            ids.append((await store.append_message(session.id, "user", content)).id)
            await store.append_message(other.id, "user", content)
        terms = search_text.terms(query)
        expected = [i for i, content in zip(ids, messages, strict=True) if search_text.matches(content, terms)]
        found = await store.search("alice", query, SEARCH_LIMIT_MAX)
        assert [hit.messageId for hit in found.messages] == expected[::-1][:SEARCH_LIMIT_MAX]
        assert all(hit.kind is SearchKind.MESSAGE and hit.sessionId == session.id for hit in found.messages)
    finally:
        await store.close()


@settings(max_examples=200, deadline=None)
@given(
    query=st.text(alphabet=st.sampled_from(list("\"*^:-+(){}[] NEARORAND.,'\\x0") + ["\u00a0", "\x00"]), max_size=40)
)
def test_no_query_text_is_fts5_syntax(query: str) -> None:
    """Whatever is typed, the MATCH expression parses: every word quoted, nothing else kept."""
    terms = search_text.terms(query)
    if not terms:
        return
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE t USING fts5(a, b)")
        conn.execute("CREATE VIRTUAL TABLE t_vocab USING fts5vocab(t, row)")
        conn.execute("INSERT INTO t VALUES ('near or and nearby', 'x0 andante')")
        for columns in ((), ("a", "b")):
            if (match := fts_query(conn, "t", terms, columns)) is not None:
                conn.execute("SELECT * FROM t WHERE t MATCH ?", (match,)).fetchall()
    finally:
        conn.close()
