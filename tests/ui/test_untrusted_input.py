"""Text that enters a field from outside (a paste, a form prefilled from stored messages) is shown
with its control characters visible, like every other string from data."""

from __future__ import annotations

from textual import events
from textual.widgets import Input, TextArea
from ui_support import screen_text, until

from jangar_tui.service import JangarService
from jangar_tui.ui.app import JangarApp
from jangar_tui.ui.screens.work_order_form import WorkOrderFormScreen
from jangar_tui.ui.widgets.chat.composer import ComposerInput
from jangar_tui.ui.widgets.chat.transcript import Transcript
from jangar_tui.ui.widgets.sessions.session_list import SessionList

HOSTILE = "A\x1b]52;c;eHg=\x07B\x9b2JC\tD"


def raw_controls(text: str) -> list[str]:
    return [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F]


async def test_a_paste_shows_and_sends_its_control_characters_as_visible_text(service: JangarService) -> None:
    session = await service.new_session("Paste")
    app = JangarApp(service)
    async with app.run_test() as pilot:
        await until(pilot, lambda: app.screen.query_one(SessionList).option_count == 1, "listed")
        composer = app.screen.query_one(ComposerInput)
        composer.focus()
        await pilot.pause()
        app.post_message(events.Paste(HOSTILE))
        await until(pilot, lambda: composer.text, "pasted")
        assert composer.text == "A␛]52;c;eHg=␇B\\x9b2JC\tD", "visible forms; a tab stays a tab in an editor"
        assert raw_controls(screen_text(pilot).replace("\t", "")) == []
        await pilot.press("enter")
        await until(pilot, lambda: app.screen.query_one(Transcript).messages, "sent")
        stored = (await service.store.list_messages(session.id)).page
        assert [m.content for m in stored] == ["A␛]52;c;eHg=␇B\\x9b2JC\tD"]


async def test_the_work_order_form_prefilled_from_a_hostile_message_shows_it_visibly(
    service: JangarService,
) -> None:
    session = await service.new_session("Prefill")
    await service.send_message(session.id, "Fix [/] now " + HOSTILE)
    app = JangarApp(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.screen.query_one(Transcript).messages, "the message")
        app.screen.query_one(Transcript).focus()
        await pilot.press("up", "w")
        await until(pilot, lambda: isinstance(app.screen, WorkOrderFormScreen), "the form")
        title = app.screen.query_one("#title", Input).value
        prompt = app.screen.query_one("#prompt", TextArea).text
        assert title.startswith("Fix [/] now A␛]52;c;eHg=␇B\\x9b2JC")
        assert prompt == "Fix [/] now A␛]52;c;eHg=␇B\\x9b2JC\tD"
        assert raw_controls(screen_text(pilot).replace("\t", "")) == []
        assert (await service.store.list_messages(session.id)).page[0].content.endswith(HOSTILE), "stored as it was"
