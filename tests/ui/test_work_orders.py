"""Pilot tests of the work-order panel, form and detail screen without a running Temporal.

"Temporal down" is the real `TemporalLauncher` pointed at a port where nothing listens. The
successful launch and the cancel of a running work order run against the real Temporal dev server
in test_temporal_ui.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NoReturn

import pytest
from git_support import seeded_bare_remote
from textual.pilot import Pilot
from ui_doubles import SimulatedLauncher
from ui_support import notified, screen_text, until, words

from jangar_tui.config import load_settings
from jangar_tui.models import ErrorCode, JangarError, Role, WorkOrder, WorkOrderStatus
from jangar_tui.orchestration.devserver import free_port
from jangar_tui.orchestration.launcher import TemporalLauncher
from jangar_tui.orchestration.workspace import prepare_workspace
from jangar_tui.outcome import COMPLETION_KIND
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore
from jangar_tui.ui.app import JangarApp
from jangar_tui.ui.screens.confirm import ConfirmScreen
from jangar_tui.ui.screens.follow_up import FollowUpScreen
from jangar_tui.ui.screens.main import MainScreen
from jangar_tui.ui.screens.work_order_detail import WorkOrderDetailScreen
from jangar_tui.ui.screens.work_order_form import WorkOrderFormScreen
from jangar_tui.ui.widgets.chat.transcript import Transcript
from jangar_tui.ui.widgets.work_orders.work_order_list import WorkOrderList

S = WorkOrderStatus


@pytest.fixture
def down_service(store: LocalStore, tmp_path: Path) -> JangarService:
    """The real launcher, aimed at a free port: Temporal is down."""
    settings = load_settings({"JANGAR_DATA_DIR": str(tmp_path), "JANGAR_USER": "alice"})
    launcher = TemporalLauncher(
        settings, store, address=f"127.0.0.1:{free_port()}", embedded=False, connect_timeout_s=0.5
    )
    return JangarService(store, "alice", launcher)


def orders(app: JangarApp) -> list[WorkOrder]:
    return app.screen.query_one(WorkOrderList).work_orders


def key_bar(pilot: object) -> str:
    return screen_text(pilot).splitlines()[-1].strip()  # type: ignore[arg-type]


async def open_the_only_work_order(pilot: Pilot[object], app: JangarApp) -> None:
    """Wait for the panel's one work order and open its detail with enter."""
    await until(pilot, lambda: len(orders(app)) == 1, "listed")
    app.screen.query_one(WorkOrderList).focus()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, WorkOrderDetailScreen), "the detail screen")


async def stored_orders(service: JangarService, session_id: str) -> list[WorkOrder]:
    return (await service.store.list_work_orders_by_session(session_id)).page


async def test_panel_shows_status_glyph_word_title_target_and_pr(service: JangarService, store: LocalStore) -> None:
    session = await service.new_session("Orders")
    done = await service.create_work_order(
        session.id, title="Ship it", prompt="p", target_repo="acme/web", target_branch="main"
    )
    for status in (S.SUBMITTED, S.ACCEPTED, S.RUNNING, S.SUCCEEDED):
        await store.update_work_order_status(done.id, status)
    await store.update_work_order_result(done.id, "https://github.com/acme/web/pull/7")
    await service.create_work_order(session.id, title="Later", prompt="p")
    app = JangarApp(service)
    async with app.run_test(size=(130, 30)) as pilot:
        await until(pilot, lambda: len(orders(app)) == 2, "two work orders")
        text = screen_text(pilot)
        assert "○ draft  Later" in text
        assert "✓ succeeded  Ship it" in text
        assert "acme/web @ main" in text
        assert "PR https://github.com/acme/web/pull/7" in text


async def test_new_work_order_from_the_selected_message_is_prefilled_and_saved_as_draft(
    service: JangarService, store: LocalStore
) -> None:
    session = await service.new_session("Plan")
    await store.append_message(session.id, Role.USER, "Add dark mode\n\nUse the theme tokens.")
    app = JangarApp(service)
    async with app.run_test(size=(130, 36)) as pilot:
        await until(pilot, lambda: len(app.screen.query_one(Transcript).messages) == 1, "message shown")
        app.screen.query_one(Transcript).focus()
        await pilot.press("up", "w")
        await until(pilot, lambda: isinstance(app.screen, WorkOrderFormScreen), "the form")
        form = app.screen
        assert form.query_one("#title").value == "Add dark mode"
        assert form.query_one("#prompt").text == "Add dark mode\n\nUse the theme tokens."
        form.query_one("#repo").value = "acme/web"
        form.query_one("#branch").value = "feature/dark"
        await pilot.press("ctrl+o")
        await until(pilot, lambda: len(orders(app)) == 1, "the draft in the panel")
        [saved] = await stored_orders(service, session.id)
        assert (saved.status, saved.title, saved.targetRepo, saved.targetBranch) == (
            S.DRAFT,
            "Add dark mode",
            "acme/web",
            "feature/dark",
        )
        assert saved.prompt == "Add dark mode\n\nUse the theme tokens."
        assert saved.workflowId.startswith("jangar-wo-")


async def test_new_work_order_from_the_conversation_takes_its_messages_and_the_session_title(
    service: JangarService, store: LocalStore
) -> None:
    session = await service.new_session("Refactor billing")
    await store.append_message(session.id, Role.USER, "Split the invoice module.")
    await store.append_message(session.id, Role.ASSISTANT, "Into `invoices` and `payments`?")
    await store.append_message(session.id, Role.SYSTEM, "Work order “Spike” is running.")
    await store.append_message(session.id, Role.USER, "Yes, keep the public API.")
    app = JangarApp(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: len(app.screen.query_one(Transcript).messages) == 4, "the conversation shown")
        await pilot.press("ctrl+o")  # no message selected: the whole conversation
        await until(pilot, lambda: isinstance(app.screen, WorkOrderFormScreen), "the form")
        form = app.screen
        assert "New work order from the conversation" in screen_text(pilot)
        assert form.query_one("#title").value == "Refactor billing"
        expected = (
            "User:\nSplit the invoice module.\n\n"
            "Assistant:\nInto `invoices` and `payments`?\n\n"
            "User:\nYes, keep the public API."
        )
        assert form.query_one("#prompt").text == expected
        await pilot.press("ctrl+o")
        await until(pilot, lambda: len(orders(app)) == 1, "the draft in the panel")
        [saved] = await stored_orders(service, session.id)
        assert (saved.title, saved.prompt) == ("Refactor billing", expected)


async def test_a_conversation_that_cannot_be_read_still_opens_the_form_with_the_reason(tmp_path: Path) -> None:
    class Unreadable(LocalStore):
        async def list_messages(self, *args: object, **kwargs: object) -> NoReturn:
            raise JangarError(ErrorCode.UNAVAILABLE, "the backend did not answer in 10 s")

    store = Unreadable(tmp_path / "jangar.sqlite3")
    try:
        service = JangarService(store, "alice")
        session = await service.new_session("Refactor billing")
        app = JangarApp(service)
        async with app.run_test() as pilot:
            await until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.session is not None, "session")
            await pilot.press("ctrl+o")
            await until(pilot, lambda: isinstance(app.screen, WorkOrderFormScreen), "the form")
            assert "The conversation could not be read: the backend did not answer in 10 s" in notified(pilot)
            assert app.screen.query_one("#title").value == "Refactor billing"
            assert app.screen.query_one("#prompt").text == ""
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)
            assert await stored_orders(service, session.id) == []
    finally:
        await store.close()


async def test_an_invalid_form_says_what_is_wrong_and_saves_nothing(service: JangarService) -> None:
    session = await service.new_session("Bad input")
    app = JangarApp(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.session is not None, "session")
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, WorkOrderFormScreen), "the form")
        form = app.screen
        form.query_one("#title").value = ""
        form.query_one("#prompt").text = "x" * (64 * 1024 + 1)
        form.query_one("#repo").value = "acme web"
        form.query_one("#branch").value = "-rf"
        form.query_one("#issue").value = "ftp://example.com/1"
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert app.screen is form, "an invalid form stays open"
        text = screen_text(pilot)
        for error in (
            # The store's own sentences (jangar_tui.store.validation), shown under each field and
            # naming it as its label does (they named the columns: targetRepo, targetBranch...).
            "The work order title cannot be empty.",
            "The prompt is larger than 64 KiB.",
            "The repository must be https://…, ssh://…, user@host:path or owner/repo.",
            "The branch must be a git branch name, not starting with '-'.",
            "The GitHub issue URL must be an http(s) URL.",
        ):
            assert error in text, error
        assert not any(column in text for column in ("targetRepo", "targetBranch", "githubIssueUrl"))
        assert app.focused is form.query_one("#title"), "focus goes to the first wrong field"
        form.query_one("#title").value = "Fixed"
        form.query_one("#prompt").text = "short"
        form.query_one("#repo").value = "acme/web"
        form.query_one("#branch").value = "main"
        form.query_one("#issue").value = "https://github.com/acme/web/issues/1"
        await pilot.pause()
        assert "✗" not in screen_text(pilot), "every field is fine now"
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "the form closes")
        [saved] = await stored_orders(service, session.id)
        assert saved.githubIssueUrl == "https://github.com/acme/web/issues/1"


async def test_esc_on_a_form_the_operator_wrote_in_asks_before_the_text_is_lost(service: JangarService) -> None:
    session = await service.new_session("Careful")
    app = JangarApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.session is not None, "session")
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, WorkOrderFormScreen), "the form")
        await pilot.press("escape")  # nothing written: it closes at once
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "the form closed")
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, WorkOrderFormScreen), "the form again")
        form = app.screen
        await pilot.press(*" and the words I wrote")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        assert "Discard" in screen_text(pilot)
        await pilot.press("escape")  # no: back to the form, the text as it was
        await until(pilot, lambda: app.screen is form, "back on the form")
        assert form.query_one("#title").value == " and the words I wrote"  # typing replaced the chosen title
        await pilot.press("escape", "ctrl+y")  # yes: gone, nothing saved
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "discarded")
        assert await stored_orders(service, session.id) == []


async def test_esc_on_a_follow_up_note_asks_before_the_note_is_lost(store: LocalStore) -> None:
    service = JangarService(store, "alice", SimulatedLauncher(store))
    session = await service.new_session("Follow")
    first = await service.create_work_order(session.id, title="Fix the parser", prompt="p", target_repo="acme/api")
    for status in (S.SUBMITTED, S.ACCEPTED, S.RUNNING, S.SUCCEEDED):
        await store.update_work_order_status(first.id, status)
    app = JangarApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_the_only_work_order(pilot, app)
        await until(pilot, lambda: "u Follow up" in key_bar(pilot), "the key")
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, FollowUpScreen), "the note")
        note = app.screen
        await pilot.press(*"Handle tabs too")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("n")
        await until(pilot, lambda: app.screen is note, "back on the note")
        assert note.query_one("#note").text == "Handle tabs too"
        await pilot.press("escape", "ctrl+y")
        await until(pilot, lambda: isinstance(app.screen, WorkOrderDetailScreen), "discarded")
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, FollowUpScreen), "the note again")
        await pilot.press("escape")  # empty: it closes at once
        await until(pilot, lambda: isinstance(app.screen, WorkOrderDetailScreen), "closed")
    assert [wo.id for wo in await stored_orders(service, session.id)] == [first.id]


@pytest.mark.parametrize("allow_local", [True, False], ids=["local-allowed", "local-refused"])
async def test_the_form_accepts_a_local_repository_exactly_when_the_service_does(
    tmp_path: Path, allow_local: bool
) -> None:
    """The form asks the service, with the store's JANGAR_ALLOW_LOCAL_REPOS, not a check of its own."""
    settings = load_settings(
        {"JANGAR_DATA_DIR": str(tmp_path), "JANGAR_ALLOW_LOCAL_REPOS": "true" if allow_local else "false"}
    )
    store = LocalStore(settings)
    service = JangarService(store, "alice")
    repo = f"file://{tmp_path / 'origin.git'}"
    try:
        session = await service.new_session("Local")
        app = JangarApp(service)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.session is not None, "session")
            await pilot.press("ctrl+o")
            await until(pilot, lambda: isinstance(app.screen, WorkOrderFormScreen), "the form")
            form = app.screen
            form.query_one("#title").value = "Local repo"
            form.query_one("#prompt").text = "p"
            form.query_one("#repo").value = repo
            await pilot.pause()
            if allow_local:
                assert "✗" not in screen_text(pilot)
                await pilot.press("ctrl+o")
                await until(pilot, lambda: isinstance(app.screen, MainScreen), "the form closes")
                [saved] = await stored_orders(service, session.id)
                assert saved.targetRepo == repo
            else:
                with pytest.raises(JangarError) as refused:
                    await service.create_work_order(session.id, title="t", prompt="p", target_repo=repo)
                assert refused.value.code == ErrorCode.INVALID_ARGUMENT
                said = refused.value.message.replace("targetRepo", "The repository")  # named as labelled
                await until(pilot, lambda: f"✗ {said}" in screen_text(pilot), "the service's error")
                await pilot.press("ctrl+o")
                await pilot.pause()
                assert app.screen is form, "a refused repository keeps the form open"
                assert await stored_orders(service, session.id) == []
    finally:
        await store.close()


async def test_temporal_down_at_launch_keeps_the_draft_and_shows_the_reason(down_service: JangarService) -> None:
    service = down_service
    session = await service.new_session("Offline Temporal")
    app = JangarApp(service)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.session is not None, "session")
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, WorkOrderFormScreen), "the form")
        app.screen.query_one("#prompt").text = "do the thing"
        await pilot.press("ctrl+l")  # save and launch
        await until(pilot, lambda: "Not launched, still a draft" in notified(pilot), "the reason")
        assert "is not reachable" in notified(pilot)
        # The reason also stays in the panel, under the draft, until an action succeeds.
        await until(pilot, lambda: "✗ Not launched, still a draft" in screen_text(pilot), "the reason in the panel")
        [saved] = await stored_orders(service, session.id)
        assert saved.status == S.DRAFT
        await until(pilot, lambda: [w.status for w in orders(app)] == [S.DRAFT], "the draft in the panel")
        # Launching again from the panel: same answer, still a draft.
        app.screen.query_one(WorkOrderList).focus()
        await pilot.press("l")
        await until(pilot, lambda: notified(pilot).count("Not launched") == 2, "the second refusal")
        assert [w.status for w in await stored_orders(service, session.id)] == [S.DRAFT]


async def test_without_temporal_configured_launch_says_so(service: JangarService) -> None:
    session = await service.new_session("No Temporal")
    await service.create_work_order(session.id, title="Draft", prompt="p")
    app = JangarApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: len(orders(app)) == 1, "the draft")
        assert "Temporal not configured" in screen_text(pilot)
        app.screen.query_one(WorkOrderList).focus()
        await pilot.press("l")
        await until(pilot, lambda: "not configured" in notified(pilot), "the refusal")
        assert [w.status for w in await stored_orders(service, session.id)] == [S.DRAFT]


async def test_cancel_a_draft_asks_first(down_service: JangarService) -> None:
    service = down_service
    session = await service.new_session("Cancel")
    draft = await service.create_work_order(session.id, title="Maybe", prompt="p")
    app = JangarApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: len(orders(app)) == 1, "the draft")
        app.screen.query_one(WorkOrderList).focus()
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "confirmation")
        await pilot.press("n")
        await pilot.pause()
        assert (await service.get_work_order(draft.id)).status == S.DRAFT
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "confirmation again")
        await pilot.press("ctrl+y")
        await until(pilot, lambda: [w.status for w in orders(app)] == [S.CANCELED], "canceled in the panel")
        assert "⊘ canceled" in screen_text(pilot)


async def test_retry_a_failed_work_order_makes_a_new_draft(down_service: JangarService, store: LocalStore) -> None:
    service = down_service
    session = await service.new_session("Retry")
    failed = await service.create_work_order(session.id, title="Flaky", prompt="p", target_repo="acme/api")
    await store.update_work_order_status(failed.id, S.SUBMITTED)
    await store.update_work_order_status(failed.id, S.FAILED)
    app = JangarApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: len(orders(app)) == 1, "the failed one")
        app.screen.query_one(WorkOrderList).focus()
        await pilot.press("t")
        await until(pilot, lambda: len(orders(app)) == 2, "the new draft")
        fresh = app.screen.query_one(WorkOrderList).chosen
        assert fresh is not None and fresh.status == S.DRAFT and fresh.id != failed.id
        assert (fresh.title, fresh.targetRepo) == ("Flaky", "acme/api")
        await pilot.press("t")  # a draft cannot be retried
        await until(pilot, lambda: "Only a failed or canceled" in notified(pilot), "the refusal")
        assert len(await stored_orders(service, session.id)) == 2


async def test_a_retry_from_the_detail_is_chosen_in_the_list_it_goes_back_to(
    down_service: JangarService, store: LocalStore
) -> None:
    """The detail says "back in the work-order list, press l to launch it": so back there the new
    draft is the chosen one, not the failed work order the detail showed."""
    service = down_service
    session = await service.new_session("Retry")
    failed = await service.create_work_order(session.id, title="Flaky", prompt="p")
    await store.update_work_order_status(failed.id, S.SUBMITTED)
    await store.update_work_order_status(failed.id, S.FAILED)
    app = JangarApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: len(orders(app)) == 1, "the failed one")
        app.screen.query_one(WorkOrderList).focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, WorkOrderDetailScreen), "the detail")
        await pilot.press("t")
        await until(pilot, lambda: "press l to launch it" in notified(pilot), "the hint")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen) and len(orders(app)) == 2, "back, two listed")
        listed = app.screen.query_one(WorkOrderList)
        await until(pilot, lambda: listed.chosen is not None and listed.chosen.id != failed.id, "the draft chosen")
        assert listed.chosen is not None and listed.chosen.status == S.DRAFT


async def test_copy_pr_url_and_workflow_id(service: JangarService, store: LocalStore) -> None:
    session = await service.new_session("Copy")
    work_order = await service.create_work_order(session.id, title="With PR", prompt="p")
    app = JangarApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: len(orders(app)) == 1, "listed")
        app.screen.query_one(WorkOrderList).focus()
        await pilot.press("y")
        assert "no pull request yet" in notified(pilot)
        await pilot.press("i")
        assert app.clipboard == work_order.workflowId
        for status in (S.SUBMITTED, S.ACCEPTED, S.RUNNING, S.SUCCEEDED):
            await store.update_work_order_status(work_order.id, status)
        await store.update_work_order_result(work_order.id, "https://github.com/acme/web/pull/9")
        await until(pilot, lambda: orders(app)[0].prUrl is not None, "the PR arrives live")
        await pilot.press("y")
        assert app.clipboard == "https://github.com/acme/web/pull/9"


async def test_detail_screen_follows_the_status_live_and_shows_temporal_trouble(
    down_service: JangarService, store: LocalStore
) -> None:
    service = down_service
    session = await service.new_session("Detail")
    work_order = await service.create_work_order(
        session.id, title="Inspect me", prompt="p", github_issue_url="https://github.com/acme/web/issues/3"
    )
    app = JangarApp(service)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_the_only_work_order(pilot, app)
        await until(pilot, lambda: "✗ Temporal: Temporal at 127.0.0.1" in screen_text(pilot), "Temporal's state")
        text = screen_text(pilot)
        assert "○ draft" in text and work_order.workflowId in text and "issues/3" in text
        assert key_bar(pilot).startswith("esc Back  l Launch  c Cancel  i Copy id"), "a draft: no retry, no PR"
        await store.update_work_order_status(work_order.id, S.SUBMITTED)
        await until(pilot, lambda: "↑ submitted" in screen_text(pilot), "the status, live")
        # The key bar follows at the next idle, not in the same frame as the status.
        await until(
            pilot,
            lambda: key_bar(pilot).startswith("esc Back  c Cancel  i Copy id"),
            "launched: no launch key any more",
        )
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "back")


async def test_the_key_bar_offers_only_the_keys_that_apply_to_the_chosen_work_order(
    service: JangarService, store: LocalStore
) -> None:
    session = await service.new_session("Keys")
    work_order = await service.create_work_order(session.id, title="Changing", prompt="p")
    app = JangarApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: len(orders(app)) == 1, "listed")
        app.screen.query_one(WorkOrderList).focus()
        await pilot.pause()
        assert key_bar(pilot).startswith("⏎ Detail  l Launch  c Cancel  ^o"), key_bar(pilot)
        for status in (S.SUBMITTED, S.FAILED):
            await store.update_work_order_status(work_order.id, status)
        await until(pilot, lambda: "✗ failed" in screen_text(pilot), "the failure, live")
        await until(pilot, lambda: key_bar(pilot).startswith("⏎ Detail  t Retry  u Follow up  ^o"), "retry, follow up")
        await pilot.press("l")  # not offered, and pressing it anyway says why
        await until(pilot, lambda: "Only a draft can be launched" in notified(pilot), "the reason")


async def test_detail_shows_the_result_a_run_ended_with_once_it_ends(service: JangarService, store: LocalStore) -> None:
    session = await service.new_session("Results")
    work_order = await service.create_work_order(session.id, title="Flaky fix", prompt="p")
    for status in (S.SUBMITTED, S.ACCEPTED, S.RUNNING):
        await store.update_work_order_status(work_order.id, status)
    app = JangarApp(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_the_only_work_order(pilot, app)
        await pilot.pause()
        assert "Result" not in screen_text(pilot), "a running work order has no result yet"

        # What the worker does when the run fails: the completion message, then the status.
        output = "\n".join(f"step {n}" for n in range(30)) + "\nAssertionError: login timed out"
        await store.append_message(
            session.id,
            Role.SYSTEM,
            f"The agent exited with code 1.\n\n{output}",
            {"workOrderId": work_order.id, "kind": COMPLETION_KIND, "status": "failed"},
        )
        await store.update_work_order_status(work_order.id, S.FAILED)
        await until(pilot, lambda: "AssertionError: login timed out" in screen_text(pilot), "the result, live")
        text = screen_text(pilot)
        assert "✗ failed" in text and "The agent exited with code 1." in text
        assert "… 25 more lines in the chat …" in text and "step 3" not in text


async def test_detail_of_an_ended_work_order_without_a_result_message_says_so(
    service: JangarService, store: LocalStore
) -> None:
    session = await service.new_session("No result")
    work_order = await service.create_work_order(session.id, title="Dropped", prompt="p")
    await store.update_work_order_status(work_order.id, S.CANCELED)  # a draft canceled: never ran
    app = JangarApp(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_the_only_work_order(pilot, app)
        await until(pilot, lambda: "No result message was recorded" in screen_text(pilot), "the missing result")


async def test_follow_up_an_ended_work_order_with_a_note(store: LocalStore) -> None:
    service = JangarService(store, "alice", SimulatedLauncher(store))
    session = await service.new_session("Follow")
    first = await service.create_work_order(session.id, title="Fix the parser", prompt="p", target_repo="acme/api")
    app = JangarApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_the_only_work_order(pilot, app)
        await pilot.press("u")  # still a draft: refused, and no note is asked for
        await until(pilot, lambda: "Only an ended work order can be followed up" in notified(pilot), "the refusal")
        assert not isinstance(app.screen, FollowUpScreen)
        for status in (S.SUBMITTED, S.ACCEPTED, S.RUNNING, S.SUCCEEDED):
            await store.update_work_order_status(first.id, status)
        await until(pilot, lambda: "u Follow up" in key_bar(pilot), "the key, once it has ended")
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, FollowUpScreen), "the note")
        await pilot.press("ctrl+l")  # an empty note is not sent
        await until(pilot, lambda: "Write what the agent should do next" in screen_text(pilot), "what is missing")
        await pilot.press(*"Handle tabs too")
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, WorkOrderDetailScreen), "back on the detail")
        await until(pilot, lambda: "Follow-up launched on jangar/" in notified(pilot), "said")
        [follow, _] = await stored_orders(service, session.id)
        app.screen.dismiss()
        await until(pilot, lambda: len(orders(app)) == 2, "the follow-up listed")
        app.screen.query_one(WorkOrderList).choose(follow.id)
        await pilot.press("enter")
        await until(pilot, lambda: f"Follows up    {first.id}" in screen_text(pilot), "the link in its detail")
    assert (follow.followUpOf, follow.prompt, follow.status) == (first.id, "Handle tabs too", S.SUBMITTED)
    assert (follow.targetRepo, follow.title) == ("acme/api", "Follow-up: Fix the parser")


async def test_a_second_follow_up_while_one_is_queued_is_refused_with_its_code(store: LocalStore) -> None:
    service = JangarService(store, "alice", SimulatedLauncher(store))
    session = await service.new_session("Follow twice")
    first = await service.create_work_order(session.id, title="Fix the parser", prompt="p", target_repo="acme/api")
    for status in (S.SUBMITTED, S.ACCEPTED, S.RUNNING, S.SUCCEEDED):
        await store.update_work_order_status(first.id, status)
    queued = await service.follow_up_work_order(first.id, "Handle tabs too")
    assert queued.status == S.SUBMITTED
    app = JangarApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: len(orders(app)) == 2, "both listed")
        app.screen.query_one(WorkOrderList).choose(first.id)
        app.screen.query_one(WorkOrderList).focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, WorkOrderDetailScreen), "the first one's detail")
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, FollowUpScreen), "the note")
        await pilot.press(*"And spaces")
        await pilot.press("ctrl+l")
        await until(pilot, lambda: "Not followed up (CONFLICT): " in notified(pilot), "the refusal with its code")
        assert f"Work order {queued.id} (Follow-up: Fix the parser) is submitted" in notified(pilot)
    assert [order.id for order in await stored_orders(service, session.id)] == [queued.id, first.id], "nothing made"


async def test_the_detail_shows_the_worktrees_disk_use_and_removes_it_only_once_ended(
    store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = seeded_bare_remote(tmp_path)
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", f"url.{remote}.insteadOf")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "https://github.com/acme/app.git")
    data = tmp_path / "data"
    service = JangarService(store, "alice", SimulatedLauncher(store), data_dir=data)
    session = await service.new_session("Disk")
    work_order = await service.create_work_order(session.id, title="Big", prompt="p", target_repo="acme/app")
    path = await prepare_workspace(data, "acme/app", None, work_order.id, allow_local=True)
    for status in (S.SUBMITTED, S.ACCEPTED, S.RUNNING):
        await store.update_work_order_status(work_order.id, status)
    app = JangarApp(service)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_the_only_work_order(pilot, app)
        shown = re.compile(r"Worktree\s+\d+\.\d (KiB|MiB) · ")
        await until(pilot, lambda: shown.search(screen_text(pilot)) is not None, "the worktree, its size and place")
        assert "x Rm worktree" not in key_bar(pilot)
        await pilot.press("x")  # running: refused with why, nothing asked, nothing removed
        await until(pilot, lambda: "removed only once it has ended" in notified(pilot), "the refusal")
        assert not isinstance(app.screen, ConfirmScreen) and path.exists()
        await store.update_work_order_status(work_order.id, S.SUCCEEDED)
        await until(pilot, lambda: "x Rm worktree" in key_bar(pilot), "the key, once ended")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "asked first")
        await pilot.press("n")  # no: kept
        await until(pilot, lambda: isinstance(app.screen, WorkOrderDetailScreen), "back")
        assert path.exists()
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "asked again")
        await pilot.press("ctrl+y")
        await until(pilot, lambda: "Worktree removed (" in notified(pilot), "removed, with what it freed")
        await until(pilot, lambda: "Worktree      none here (removed" in screen_text(pilot), "the row says so")
    assert not path.exists()


async def _failed_with(service: JangarService, store: LocalStore, events: list[dict[str, object]]) -> WorkOrder:
    """A work order that failed as the worker records it: its events, the completion message, the status."""
    session = await service.new_session("Failures")
    work_order = await service.create_work_order(session.id, title="Fix the migration", prompt="p")
    for status in (S.SUBMITTED, S.ACCEPTED, S.RUNNING):
        await store.update_work_order_status(work_order.id, status)
    await store.append_work_order_events(work_order.id, events)
    output = "\n".join(f"step {n}" for n in range(30))
    await store.append_message(
        session.id,
        Role.SYSTEM,
        f"The agent exited with code 3.\n\n{output}",
        {"workOrderId": work_order.id, "kind": COMPLETION_KIND, "status": "failed"},
    )
    await store.update_work_order_status(work_order.id, S.FAILED)
    return work_order


HOSTILE_REASON = (
    "turn failed: the model refused the request because [bold]the context[/] \x1b[31mwas too long\x1b[0m for"
    " gpt-5 (272,000 tokens); compact the thread or start a new one, then retry the work order"
)


async def test_an_ended_work_orders_detail_shows_why_it_failed_whole_at_the_top_at_80x24(
    service: JangarService, store: LocalStore
) -> None:
    """The result sat below the fields and the workflow: at 80x24 it could not be seen without
    scrolling. A failure's reason (the agent's own error event) is the top row, whole, as text."""
    attempt = {"kind": "setup", "text": "Running on worker w (attempt 2).", "metadata": {"attempt": 2}}
    await _failed_with(
        service,
        store,
        [
            {"kind": "error", "text": "Worker w1 is shutting down: the agent was handed back."},  # attempt 1's
            attempt,
            {"kind": "error", "text": HOSTILE_REASON},
            {"kind": "usage", "text": "tokens: 10 in", "metadata": {"totalTokens": 10}},
        ],
    )
    app = JangarApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_the_only_work_order(pilot, app)
        await until(pilot, lambda: "✗ Failed:" in screen_text(pilot), "the reason")
        rows = screen_text(pilot).splitlines()
        top = next(i for i, row in enumerate(rows) if "✗ Failed:" in row)
        assert top <= 3, rows  # right under the title, not below the fold
        top_rows = words("\n".join(rows[top : top + 4]))
        shown = HOSTILE_REASON.replace("\x1b", "␛")
        assert f"✗ Failed: {shown}" in top_rows, top_rows
        assert "\x1b" not in "".join(rows) and "handed back" not in top_rows


async def test_a_failure_without_an_error_event_shows_the_first_line_of_its_result(
    service: JangarService, store: LocalStore
) -> None:
    await _failed_with(service, store, [{"kind": "output", "text": "partial work"}])
    app = JangarApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_the_only_work_order(pilot, app)
        await until(pilot, lambda: "✗ Failed: The agent exited with code 3." in screen_text(pilot), "the reason")


async def test_a_drafts_detail_at_80x24_says_which_key_launches_it_at_the_top(service: JangarService) -> None:
    """'Press l to launch it' was in the workflow's part, below the fields: off screen at 80x24."""
    session = await service.new_session("Drafts")
    await service.create_work_order(session.id, title="Docs", prompt="p", target_repo="acme/api")
    app = JangarApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+t")
        await open_the_only_work_order(pilot, app)
        await until(pilot, lambda: "Press l to launch it." in screen_text(pilot), "the hint on screen")
        rows = screen_text(pilot).splitlines()
        assert any("Not launched yet. Press l to launch it." in row for row in rows[:4]), rows


async def test_a_succeeded_work_orders_detail_shows_its_pr_or_why_there_is_none_at_the_top(
    service: JangarService, store: LocalStore
) -> None:
    session = await service.new_session("Results")
    for title, pr_url in (("With a PR", "https://github.com/acme/api/pull/9"), ("No change", None)):
        work_order = await service.create_work_order(session.id, title=title, prompt="p", target_repo="acme/api")
        for status in (S.SUBMITTED, S.ACCEPTED, S.RUNNING):
            await store.update_work_order_status(work_order.id, status)
        if pr_url:
            await store.update_work_order_result(work_order.id, pr_url)
        note = "Opened it." if pr_url else "The agent made no changes: nothing was committed or pushed."
        await store.append_message(
            session.id,
            Role.ASSISTANT,
            f"Looked around.\n\n{note}",
            {"workOrderId": work_order.id, "kind": COMPLETION_KIND, "status": "succeeded"},
        )
        await store.update_work_order_status(work_order.id, S.SUCCEEDED)
    app = JangarApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+t")
        await until(pilot, lambda: len(orders(app)) == 2, "listed")
        app.screen.query_one(WorkOrderList).focus()
        await pilot.press("enter")  # the newest: no change
        await until(pilot, lambda: "✓ The agent made no changes" in screen_text(pilot), "why there is no PR")
        assert "✓ The agent made no changes" in "\n".join(screen_text(pilot).splitlines()[:4])
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "back")
        await pilot.press("down", "enter")
        await until(pilot, lambda: "✓ PR https://github.com/acme/api/pull/9" in screen_text(pilot), "the PR")
        assert "✓ PR https://github.com/acme/api/pull/9" in "\n".join(screen_text(pilot).splitlines()[:4])


async def test_a_failed_work_orders_row_shows_its_reason_on_one_line_cut_with_an_ellipsis(
    service: JangarService, store: LocalStore
) -> None:
    """The row said only 'failed': why was in the chat, or in the detail below the fold."""
    await _failed_with(service, store, [{"kind": "error", "text": HOSTILE_REASON}])
    app = JangarApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+t")
        await until(pilot, lambda: "✗ turn failed:" in screen_text(pilot), "the reason under the row")
        rows = screen_text(pilot).splitlines()
        row = next(row for row in rows if "✗ turn failed:" in row)
        assert row.rstrip().endswith("…") and len(row) <= 80, row  # one line, cut
        assert "refused" not in "\n".join(r for r in rows if r is not row)  # not wrapped onto more rows
        assert "\x1b" not in "".join(rows)
        reason = row.split("✗ ", 1)[1].rstrip().removesuffix("…")
        assert HOSTILE_REASON.replace("\x1b", "␛").startswith(reason), reason  # [bold] is text
