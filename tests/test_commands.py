"""`jangar session|message|wo` on both backends: JSON checked against its schema, exit codes, errors.

Every test runs against the embedded store and against the real Convex functions (convex-test,
through the bridge). Commands that need Temporal are in test_commands_temporal.py, so the messages
here are sent with --no-reply (stored, no agent asked).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cli_harness import Cli, backend_store
from git_support import seeded_bare_remote

from jangar_tui.commands import exit_codes
from jangar_tui.config import load_settings
from jangar_tui.models import WorkOrderStatus as S
from jangar_tui.orchestration.workspace import prepare_workspace

NOT_FOUND, INVALID_ARGUMENT = 3, 4


@pytest.fixture(params=["local", "convex"])
async def cli(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Cli]:
    settings = load_settings({"JANGAR_USER": "scripter", "JANGAR_DATA_DIR": str(tmp_path)})
    bridge = request.getfixturevalue("bridge") if request.param == "convex" else None
    store = backend_store(request.param, settings, bridge)
    try:
        yield Cli(store, settings)
    finally:
        await store.close()


async def test_sessions_new_list_rename_rm_restore(cli: Cli) -> None:
    first = (await cli.json("session", "new", "First")).document
    second = (await cli.json("sessions", "new", "Second")).document
    assert first["userId"] == second["userId"] == "scripter"

    listed = (await cli.json("session", "list")).document
    assert [s["_id"] for s in listed["page"]] == [second["_id"], first["_id"]]  # newest first
    assert listed["isDone"] is True

    renamed = (await cli.json("session", "rename", first["_id"], "Renamed")).document
    assert (renamed["_id"], renamed["title"]) == (first["_id"], "Renamed")

    removed = await cli.json("session", "rm", first["_id"])
    assert (removed.code, removed.document) == (0, {"_id": first["_id"], "removed": True})
    assert [s["_id"] for s in (await cli.json("session", "list")).document["page"]] == [second["_id"]]

    restored = (await cli.json("session", "restore", first["_id"])).document
    assert restored["deletedAt"] is None
    assert len((await cli.json("session", "list")).document["page"]) == 2


async def test_a_refused_command_prints_the_error_changes_nothing_and_exits_with_its_code(cli: Cli) -> None:
    refused = await cli.json("session", "new", "   ")
    assert refused.code == INVALID_ARGUMENT == exit_codes.BY_ERROR_CODE[refused.document["error"]["code"]]
    assert refused.document["error"]["code"] == "INVALID_ARGUMENT"
    assert (await cli.json("session", "list")).document["page"] == []

    as_text = await cli.text("message", "send", "not-an-id", "hello")
    assert as_text.code == INVALID_ARGUMENT
    assert as_text.text == ""
    assert as_text.stderr.startswith("jangar: INVALID_ARGUMENT: ")


async def test_pages_follow_the_cursor(cli: Cli) -> None:
    session = (await cli.json("session", "new", "Chat")).document
    sent = [
        (await cli.json("message", "send", session["_id"], f"message {n}", "--no-reply")).document for n in range(3)
    ]
    assert all(m["role"] == "user" and m["sessionId"] == session["_id"] for m in sent)

    first = (await cli.json("message", "list", session["_id"], "--limit", "2")).document
    assert [m["content"] for m in first["page"]] == ["message 2", "message 1"]
    assert first["isDone"] is False and first["continueCursor"]
    rest = await cli.json("messages", "list", session["_id"], "--limit", "2", "--cursor", first["continueCursor"])
    assert [m["content"] for m in rest.document["page"]] == ["message 0"]

    too_big = await cli.json("message", "list", session["_id"], "--limit", "201")
    assert too_big.code == INVALID_ARGUMENT


async def test_message_text_from_stdin(cli: Cli) -> None:
    session = (await cli.json("session", "new", "Chat")).document
    sent = await cli.json("message", "send", session["_id"], "-", "--no-reply", stdin="line one\nline two\n")
    assert sent.document["content"] == "line one\nline two\n"


async def test_work_orders_new_list_show_and_cancel_a_draft(cli: Cli) -> None:
    session = (await cli.json("session", "new", "Work")).document
    created = (
        await cli.json(
            "wo", "new", session["_id"], "--title", "Fix it", "--prompt", "-", "--repo", "acme/widgets",
            "--branch", "main", "--issue", "https://github.com/acme/widgets/issues/7", stdin="Fix the flaky test",
        )
    ).document  # fmt: skip
    assert created["status"] == "draft"
    assert (created["title"], created["prompt"], created["targetRepo"], created["targetBranch"]) == (
        "Fix it",
        "Fix the flaky test",
        "acme/widgets",
        "main",
    )
    assert created["requestedBy"] == "scripter" and created["workflowId"].startswith("jangar-wo-")

    by_session = (await cli.json("wo", "list", "--session", session["_id"])).document
    assert [w["_id"] for w in by_session["page"]] == [created["_id"]]
    by_status = (await cli.json("wo", "list", "--status", "draft")).document
    assert [w["_id"] for w in by_status["page"]] == [created["_id"]]
    assert (await cli.json("wo", "list", "--status", "running")).document["page"] == []

    shown = (await cli.json("wo", "show", created["_id"])).document
    assert shown == {"workOrder": created, "result": None, "worker": None}  # no agent has run

    canceled = (await cli.json("wo", "cancel", created["_id"])).document  # a draft needs no Temporal
    assert canceled["status"] == "canceled"
    again = await cli.json("wo", "cancel", created["_id"])
    assert (again.code, again.document["status"]) == (0, "canceled")

    bad_url = await cli.json("wo", "new", session["_id"], "--title", "x", "--issue", "ftp://example.com/1")
    assert bad_url.code == INVALID_ARGUMENT
    assert len((await cli.json("wo", "list", "--session", session["_id"])).document["page"]) == 1


async def test_a_refusal_names_the_flag_typed_not_the_column_it_fills(cli: Cli) -> None:
    """`--repo 'acme web'` was answered 'targetRepo must be…', `--limit 0` 'numItems must be…':
    names the operator never typed. Nothing is made."""
    session = (await cli.json("session", "new", "Flags")).document
    refusals = {
        ("wo", "new", session["_id"], "--title", "x", "--repo", "acme web"): "--repo must be https://…, ssh://…",
        ("wo", "new", session["_id"], "--title", "x", "--branch=-rf"): "--branch must be a git branch name",
        ("wo", "new", session["_id"], "--title", "x", "--issue", "ftp://h/1"): "--issue must be an http(s) URL.",
        ("session", "list", "--limit", "0"): "--limit must be a whole number from 1 to ",
        ("wo", "list", "--session", session["_id"], "--limit", "0"): "--limit must be a whole number from 1 to ",
        ("message", "list", session["_id"], "--limit", "0"): "--limit must be a whole number from 1 to ",
        ("search", "flags", "--limit", "0"): "--limit must be a whole number from 1 to ",
    }
    for argv, sentence in refusals.items():
        refused = await cli.text(*argv)
        assert refused.code == INVALID_ARGUMENT, argv
        assert refused.stderr.startswith(f"jangar: INVALID_ARGUMENT: {sentence}"), (argv, refused.stderr)
        for column in ("targetRepo", "targetBranch", "githubIssueUrl", "numItems", ": limit must"):
            assert column not in refused.stderr, (argv, refused.stderr)
    assert (await cli.json("wo", "list", "--session", session["_id"])).document["page"] == []


async def test_work_order_from_the_conversation(cli: Cli) -> None:
    session = (await cli.json("session", "new", "Flaky tests")).document
    await cli.json("message", "send", session["_id"], "The login test fails one run in ten.", "--no-reply")
    created = (await cli.json("wo", "new", session["_id"], "--from-conversation")).document
    assert created["title"] == "Flaky tests"
    assert "The login test fails one run in ten." in created["prompt"]


async def test_a_removed_row_is_not_found(cli: Cli) -> None:
    session = (await cli.json("session", "new", "Work")).document
    work_order = (await cli.json("wo", "new", session["_id"], "--title", "Gone")).document
    await cli.store.remove_work_order(work_order["_id"])
    missing = await cli.json("wo", "show", work_order["_id"])
    assert (missing.code, missing.document["error"]["code"]) == (NOT_FOUND, "NOT_FOUND")


async def test_text_output_shows_control_characters_never_sends_them(cli: Cli) -> None:
    hostile = "Deploy \x1b]52;c;cm0gLXJmIH4=\x07 \x1b[2J\u202eevil\x9b31m"
    session = (await cli.json("session", "new", hostile)).document
    await cli.json("message", "send", session["_id"], hostile + "\nsecond line", "--no-reply")
    await cli.json("wo", "new", session["_id"], "--title", hostile, "--prompt", hostile)

    json_out = await cli.json("session", "list")
    assert json_out.document["page"][0]["title"] == hostile  # stored and returned exactly
    for argv in (
        ("session", "list"),
        ("message", "list", session["_id"]),
        ("wo", "list", "--session", session["_id"]),
    ):
        printed = (await cli.text(*argv)).text
        assert not any(ch in printed for ch in "\x1b\x07\x9b\u202e"), argv
        assert "␛]52;c;cm0gLXJmIH4=␇ ␛[2J\\u202eevil\\x9b31m" in printed, argv
    work_order = (await cli.json("wo", "list", "--session", session["_id"])).document["page"][0]
    shown = (await cli.text("wo", "show", work_order["_id"])).text
    assert "\x1b" not in shown and "title:        Deploy ␛]52" in shown


async def test_logs_print_the_event_log_in_order_and_safely(cli: Cli) -> None:
    session = (await cli.json("session", "new", "Logs")).document
    work_order = (await cli.json("wo", "new", session["_id"], "--title", "Logged")).document
    await cli.store.append_work_order_events(
        work_order["_id"],
        [
            {"kind": "setup", "text": "workspace ready"},
            {"kind": "output", "text": "line \x1b[31mred\nsecond"},
            {"kind": "command", "text": "ls\na.txt\n"},
        ],
    )
    logs = await cli.json("wo", "logs", work_order["_id"])
    assert [line["type"] for line in logs.documents] == ["workOrder", "event", "event", "event"]  # a draft: no result
    assert [line["event"]["seq"] for line in logs.documents[1:]] == [1, 2, 3]
    assert logs.documents[2]["event"]["text"] == "line \x1b[31mred\nsecond"
    text = (await cli.text("wo", "logs", work_order["_id"])).text
    assert "\x1b" not in text
    assert "#2 output  line ␛[31mred\n    second" in text
    # The newline that ends a command's output is no line of its own.
    assert "#3 command  ls\n    a.txt\n" in text and "\n    \n" not in text


async def test_a_follow_up_of_an_ended_work_order_keeps_its_repo_and_branch(cli: Cli) -> None:
    session = (await cli.json("session", "new", "Work")).document
    first = (
        await cli.json("wo", "new", session["_id"], "--title", "Fix it", "--prompt", "go", "--repo", "acme/widgets")
    ).document
    early = await cli.json("wo", "follow-up", first["_id"], "more", "--draft")
    assert (early.code, early.document["error"]["code"]) == (5, "INVALID_TRANSITION")
    await cli.json("wo", "cancel", first["_id"])
    empty = await cli.json("wo", "follow-up", first["_id"], "  ", "--draft")
    assert (empty.code, empty.document["error"]["code"]) == (INVALID_ARGUMENT, "INVALID_ARGUMENT")
    assert len((await cli.json("wo", "list", "--session", session["_id"])).document["page"]) == 1

    follow = (await cli.json("wo", "follow-up", first["_id"], "-", "--draft", stdin="Also the docs")).document
    assert (follow["status"], follow["followUpOf"], follow["prompt"]) == ("draft", first["_id"], "Also the docs")
    assert (follow["title"], follow["targetRepo"]) == ("Follow-up: Fix it", "acme/widgets")
    assert follow["targetBranch"] == f"jangar/{first['_id'][-8:].lower()}"
    shown = await cli.text("wo", "show", follow["_id"])
    assert f"follow-up of: {first['_id']}" in shown.text


async def test_search_finds_each_kind_as_json_and_as_safe_text(cli: Cli) -> None:
    session = (await cli.json("session", "new", "Deploy notes")).document
    message = (await cli.json("message", "send", session["_id"], "deploy \x1b[2J the worker", "--no-reply")).document
    work_order = (await cli.json("wo", "new", session["_id"], "--title", "Deploy it", "--prompt", "p")).document
    other = await cli.store.create_session("someone-else", "Deploy elsewhere")
    await cli.store.append_message(other.id, "user", "deploy")

    found = (await cli.json("search", "deploy")).document
    assert "error" not in found, found
    assert [h["sessionId"] for h in found["sessions"]] == [session["_id"]]  # only the caller's
    assert [(h["messageId"], h["role"], h["excerpt"]) for h in found["messages"]] == [
        (message["_id"], "user", "deploy \x1b[2J the worker")
    ]
    assert [(h["workOrderId"], h["field"], h["status"]) for h in found["workOrders"]] == [
        (work_order["_id"], "title", "draft")
    ]
    # A work order found by its prompt is named by its own title, beside its session's.
    by_prompt = (await cli.json("search", "p")).document["workOrders"]
    assert [(h["field"], h["workOrderTitle"], h["sessionTitle"]) for h in by_prompt] == [
        ("prompt", "Deploy it", "Deploy notes")
    ]
    assert f"{work_order['_id']}" in (line := (await cli.text("search", "p")).text.splitlines()[0])
    assert "Deploy it" in line and "in Deploy notes" in line
    assert (await cli.json("search", "deploy", "--limit", "1")).document["messages"][0]["messageId"] == message["_id"]
    nothing = await cli.json("search", '"NEAR(*" -:')
    assert (nothing.code, nothing.document) == (0, {"sessions": [], "messages": [], "workOrders": []})

    printed = (await cli.text("search", "worker")).text
    assert message["_id"] in printed and "␛[2J" in printed and "\x1b" not in printed
    assert (await cli.text("search", "zzz")).text == "(nothing found)\n"

    refused = await cli.json("search", "deploy", "--limit", "0")
    assert (refused.code, refused.document["error"]["code"]) == (INVALID_ARGUMENT, "INVALID_ARGUMENT")
    too_long = await cli.json("search", "x" * 201)
    assert too_long.code == INVALID_ARGUMENT
    # No words to look for is a mistake, not "nothing found": refused, saying why.
    for blank in ("", "   ", ". ,"):
        refused = await cli.json("search", blank)
        assert (refused.code, refused.document["error"]["code"]) == (INVALID_ARGUMENT, "INVALID_ARGUMENT"), blank
    said = await cli.text("search", " ")
    assert (said.code, said.text) == (INVALID_ARGUMENT, "")
    assert said.stderr == "jangar: INVALID_ARGUMENT: The search text is empty: give the words to find.\n"
    assert "has no words" in (await cli.text("search", ". ,")).stderr


async def test_workspaces_are_listed_with_their_size_and_removed_only_once_ended(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = seeded_bare_remote(tmp_path)
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", f"url.{remote}.insteadOf")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "https://github.com/acme/app.git")
    data = cli.settings.data_dir
    session = (await cli.json("session", "new", "Disk")).document
    first = (await cli.json("wo", "new", session["_id"], "--title", "Big", "--repo", "acme/app")).document
    path = await prepare_workspace(data, "acme/app", None, first["_id"], allow_local=True)

    listed = (await cli.json("workspace", "list")).document
    [entry] = listed["workspaces"]
    assert (entry["workOrderId"], entry["path"], entry["exists"]) == (first["_id"], str(path), True)
    assert entry["bytes"] > 0 and len(listed["caches"]) == 1
    assert listed["totalBytes"] == entry["bytes"] + listed["caches"][0]["bytes"]
    assert "total" in (await cli.text("workspace", "list")).text

    # Not while it runs (a draft has not ended either): refused, nothing removed.
    refused = await cli.json("workspace", "rm", first["_id"])
    assert (refused.code, refused.document["error"]["code"]) == (6, "CONFLICT")
    assert "only once it has ended" in refused.document["error"]["message"] and path.exists()
    await cli.json("wo", "cancel", first["_id"])

    # A follow-up working in the same worktree holds it while it runs.
    follow = (await cli.json("wo", "follow-up", first["_id"], "more", "--draft")).document
    await prepare_workspace(
        data, "acme/app", follow["targetBranch"], follow["_id"], allow_local=True, workspace_of=first["_id"]
    )
    for status in (S.SUBMITTED, S.ACCEPTED, S.RUNNING):
        await cli.store.update_work_order_status(follow["_id"], status)
    busy = await cli.json("workspace", "rm", first["_id"])
    assert busy.code == 6 and follow["_id"] in busy.document["error"]["message"] and path.exists()
    await cli.store.update_work_order_status(follow["_id"], S.SUCCEEDED)

    removed = (await cli.json("workspace", "rm", follow["_id"])).document
    assert removed["removed"] is True and removed["path"] == str(path) and removed["freedBytes"] > 0
    assert not path.exists()
    assert (await cli.json("workspace", "list")).document["workspaces"] == []
    again = await cli.json("workspace", "rm", first["_id"])
    assert (again.code, again.document) == (0, {"workOrderId": first["_id"], "removed": False})
