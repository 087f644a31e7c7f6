"""Search on the embedded store beyond the contract scenario: the FTS5 index is filled from a file's
existing rows when it migrates, stays equal to the contract's rules on random data (an oracle
written with `search_text.matches`, no index), and no query text is ever FTS5 syntax."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from jangar_tui import search_text
from jangar_tui.commands.search import result_lines
from jangar_tui.models import SEARCH_LIMIT_MAX, SearchIndexing, SearchKind
from jangar_tui.store.sqlite.db import SqliteDb
from jangar_tui.store.sqlite.schema import MIGRATIONS, SEARCH_SCHEMA_VERSION, migrate
from jangar_tui.store.sqlite.search import fts_query
from jangar_tui.store.sqlite.store import LocalStore

REPO = Path(__file__).resolve().parent.parent


def _before_search(path: Path, messages: list[str]) -> tuple[str, list[str], str]:
    """A file as a release before search left it: a session, its `messages` (oldest first) and a
    work order. Returns their ids."""
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, MIGRATIONS[: SEARCH_SCHEMA_VERSION - 1])
    session_id, order_id = "ses_" + "1" * 32, "wo_" + "3" * 32
    message_ids = [f"msg_{n:032x}" for n in range(len(messages))]
    conn.execute("BEGIN")  # one commit, not one (and its fsync) per row
    conn.execute(
        "INSERT INTO chat_sessions (_id, userId, title, lastMessageAt, createdAt, updatedAt) VALUES (?,?,?,?,?,?)",
        (session_id, "alice", "Older notes", 20, 10, 20),
    )
    conn.executemany(
        "INSERT INTO chat_messages (_id, sessionId, role, content, createdAt, updatedAt) VALUES (?,?,?,?,?,?)",
        [
            (m, session_id, "assistant", text, 20 + n, 20 + n)
            for n, (m, text) in enumerate(zip(message_ids, messages, strict=True))
        ],
    )
    conn.execute(
        "INSERT INTO work_orders (_id, sessionId, workflowId, status, title, prompt, targetRepo, createdAt, "
        "updatedAt) VALUES (?,?,?,?,?,?,?,?,?)",
        (order_id, session_id, "jangar-wo-v3", "succeeded", "Gateway", "rebuild it", "acme/gateway", 30, 30),
    )
    conn.execute("COMMIT")
    conn.close()
    return session_id, message_ids, order_id


async def _indexed(store: LocalStore) -> None:
    """Until the store's background build has indexed every message (bounded)."""
    for _ in range(3000):
        if (await store.search("alice", "anything")).indexing is None:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the message index was never complete")


def _integrity_check(path: Path) -> None:
    """FTS5's own check: the index holds exactly what the tables hold."""
    conn = sqlite3.connect(path)
    try:
        for index in ("chat_sessions_fts", "chat_messages_fts", "work_orders_fts"):
            conn.execute(f"INSERT INTO {index}({index}, rank) VALUES ('integrity-check', 1)")
    finally:
        conn.close()


async def test_a_file_from_before_search_gets_its_existing_rows_indexed(tmp_path: Path) -> None:
    db = tmp_path / "before-search.sqlite3"
    session_id, (message_id,), order_id = _before_search(db, ["the gateway was rebuilt"])
    store = LocalStore(db)
    try:
        found = await store.search("alice", "older")
        assert [hit.sessionId for hit in found.sessions] == [session_id]
        await _indexed(store)
        found = await store.search("alice", "gateway")
        assert [hit.messageId for hit in found.messages] == [message_id]
        assert [(hit.workOrderId, hit.field) for hit in found.workOrders] == [(order_id, "title")]
        found = await store.search("alice", "rebuild")
        assert [(hit.workOrderId, hit.field) for hit in found.workOrders] == [(order_id, "prompt")]
        assert found.messages == []  # "rebuilt" is another word
    finally:
        await store.close()
    _integrity_check(db)


async def test_the_messages_of_a_file_from_before_search_are_indexed_after_it_opens(tmp_path: Path) -> None:
    """The migration indexes no message (a million took 21 s before the app could start): batches
    after it do, newest first, each committed; search says how far, edits meanwhile are kept."""
    db = tmp_path / "before-search.sqlite3"
    _, ids, _ = _before_search(db, [f"needle number{n}" for n in range(25)])
    opened = SqliteDb.open(db)
    try:
        assert opened.search("alice", "needle", 50).indexing == SearchIndexing(indexed=0, total=25)
        assert opened.search("alice", "needle", 50).messages == []
        assert opened.index_pending(10) == SearchIndexing(indexed=10, total=25)
        # The newest ten are found; an edit of an indexed message and of one still to do.
        found = opened.search("alice", "needle", 50)
        assert sorted(hit.messageId for hit in found.messages) == sorted(ids[15:])
        assert found.indexing == SearchIndexing(indexed=10, total=25)
        assert result_lines(found)[-1] == (
            "(search index being built: 40 % of 25 older messages, newest first; the others are found once it is done)"
        )
        opened.update_message(ids[20], content="haystack number20")
        opened.update_message(ids[3], content="haystack number3")
        opened.append_message("ses_" + "1" * 32, "user", "needle appended")
    finally:
        opened.close()  # as a kill between batches: the next open goes on from there
    store = LocalStore(db)
    try:
        await _indexed(store)
        found = await store.search("alice", "needle", 50)
        assert len(found.messages) == 24 and found.indexing is None  # 25 - 2 edited + 1 appended
        haystack = await store.search("alice", "haystack")
        assert sorted(hit.messageId for hit in haystack.messages) == sorted([ids[3], ids[20]])
    finally:
        await store.close()
    _integrity_check(db)


KILLED_BUILD = r"""
import asyncio, sys
sys.path.insert(0, sys.argv[1])
from jangar_tui.store.sqlite import store as store_module
from jangar_tui.store.sqlite.store import LocalStore

store_module.INDEX_BATCH = 7

async def main():
    store = LocalStore(sys.argv[2])
    while True:
        print((await store.search("alice", "needle")).indexing, flush=True)
        await asyncio.sleep(0.005)

asyncio.run(main())
"""


async def test_killing_the_app_mid_build_loses_nothing_and_the_next_open_goes_on(tmp_path: Path) -> None:
    db = tmp_path / "before-search.sqlite3"
    _before_search(db, [f"needle number{n}" for n in range(3000)])
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", KILLED_BUILD, str(REPO), str(db), stdout=asyncio.subprocess.PIPE
    )
    assert child.stdout is not None
    try:
        while True:  # until it has committed a batch or more, not yet all
            line = (await asyncio.wait_for(child.stdout.readline(), 60)).decode()
            assert line, "the child ended"
            if line.startswith("indexed=") and not line.startswith("indexed=0 "):
                break
    finally:
        child.kill()
        await child.wait()
    store = LocalStore(db)
    try:
        left = (await store.search("alice", "needle")).indexing
        assert left is None or 0 < left.indexed < 3000  # resumed where the killed one stopped
        await _indexed(store)
        assert len((await store.search("alice", "number2999")).messages) == 1
        assert len((await store.search("alice", "number0")).messages) == 1
    finally:
        await store.close()
    _integrity_check(db)


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
