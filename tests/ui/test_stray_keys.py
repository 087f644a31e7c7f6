"""Keys that cannot destroy by accident, help from anywhere, input kept in the order typed, and
a transcript selection that can be copied without ending the app."""

from __future__ import annotations

from textual import events
from textual.screen import Screen
from ui_support import screen_text, until

from jangar_tui.models import Role
from jangar_tui.service import JangarService
from jangar_tui.ui.app import JangarApp
from jangar_tui.ui.screens.confirm import ConfirmScreen
from jangar_tui.ui.screens.help import HelpScreen
from jangar_tui.ui.screens.main import MainScreen
from jangar_tui.ui.screens.work_order_form import WorkOrderFormScreen
from jangar_tui.ui.widgets.chat.composer import ComposerInput
from jangar_tui.ui.widgets.chat.transcript import Transcript
from jangar_tui.ui.widgets.sessions.session_list import SessionList
from jangar_tui.ui.widgets.work_orders.work_order_list import WorkOrderList


def titles(app: JangarApp) -> list[str]:
    """The session list's titles (a dialog may be over the main screen)."""
    return [s.title for s in app.screen_stack[0].query_one(SessionList).shown]


def burst(app: JangarApp, *keys: str) -> None:
    """Post every key at once, as a terminal delivers a burst (tmux send-keys, ssh, a fast typist):
    `pilot.press` waits for each key to be handled, which would hide any reordering."""
    for key in keys:
        character = key if len(key) == 1 else None
        app.post_message(events.Key(key, character))


async def test_a_word_typed_on_the_session_list_filters_and_deletes_nothing(service: JangarService) -> None:
    await service.new_session("Release today")
    await service.new_session("Keep me")
    app = JangarApp(service)
    async with app.run_test() as pilot:
        await until(pilot, lambda: len(titles(app)) == 2, "listed")
        assert isinstance(app.focused, SessionList), "the app starts on the session list"
        burst(app, *"today")  # d then y used to delete the chosen session
        await until(pilot, lambda: titles(app) == ["Release today"], "the list filtered by the word")
        assert app.screen.query_one("#session-filter").value == "today", "every letter, in order"
        assert not isinstance(app.screen, ConfirmScreen)
        assert [s.title for s in (await service.list_sessions()).page] == ["Keep me", "Release today"]
        await pilot.press("escape")
        await until(pilot, lambda: len(titles(app)) == 2, "the filter cleared")


async def test_a_burst_with_spaces_and_slashes_reaches_the_filter_whole(service: JangarService) -> None:
    # A title is searched as written: "src/app today" typed fast used to filter by "srcapptoday"
    # (the space dropped, the slash taken as the filter's key) and match nothing.
    await service.new_session("Fix src/app today")
    await service.new_session("Keep me")
    app = JangarApp(service)
    names = {" ": "space", "/": "slash", "?": "question_mark"}
    async with app.run_test() as pilot:
        await until(pilot, lambda: len(titles(app)) == 2, "listed")
        for character in "src/app today":
            app.post_message(events.Key(names.get(character, character), character))
        await until(pilot, lambda: titles(app) == ["Fix src/app today"], "the list filtered by the words")
        assert app.screen.query_one("#session-filter").value == "src/app today"


async def test_letters_typed_one_at_a_time_all_reach_the_filter(service: JangarService) -> None:
    # As a person types: each key is handled before the next arrives. The filter opens with the
    # first letter and must not select it on focus, or the second letter would replace it.
    await service.new_session("Release today")
    await service.new_session("Keep me")
    app = JangarApp(service)
    async with app.run_test() as pilot:
        await until(pilot, lambda: len(titles(app)) == 2, "listed")
        for letter in "today":
            await pilot.press(letter)
            await pilot.pause()
        await until(pilot, lambda: titles(app) == ["Release today"], "the list filtered by the word")
        assert app.screen.query_one("#session-filter").value == "today"


async def test_a_letter_never_confirms_a_delete_and_no_is_the_default(service: JangarService) -> None:
    await service.new_session("Precious")
    app = JangarApp(service)
    async with app.run_test() as pilot:
        await until(pilot, lambda: titles(app) == ["Precious"], "listed")
        await pilot.press("delete")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press(*"yYabc")  # letters of a word: nothing answers yes
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")  # the focused button is No
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "declined")
        assert [s.title for s in (await service.list_sessions()).page] == ["Precious"]
        # Deliberately: move to the yes button and press enter.
        await pilot.press("delete")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "asked again")
        await pilot.press("tab", "enter")
        await until(pilot, lambda: titles(app) == [], "deleted")


async def test_a_letter_never_confirms_a_work_order_cancel(service: JangarService) -> None:
    session = await service.new_session("Orders")
    draft = await service.create_work_order(session.id, title="Maybe", prompt="p")
    app = JangarApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: len(app.screen.query_one(WorkOrderList).work_orders) == 1, "the draft")
        app.screen.query_one(WorkOrderList).focus()
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        assert isinstance(app.screen, ConfirmScreen), "y did not answer it"
        await pilot.press("escape")
        assert (await service.get_work_order(draft.id)).status.value == "draft"


async def test_a_key_typed_right_behind_the_one_that_asks_answers_the_question(service: JangarService) -> None:
    """del then ctrl+y in one burst deletes (ctrl+u undoes it), del then esc keeps: the key behind
    reaches the question it answers. It went to the session list while the question was still
    being opened, where it did nothing, and the question then waited."""
    await service.new_session("Doomed")
    app = JangarApp(service)
    asked: list[Screen[object]] = []
    push_screen = app.push_screen

    def recorded(screen: Screen[object], *args: object, **kwargs: object) -> object:
        asked.append(screen)
        return push_screen(screen, *args, **kwargs)  # type: ignore[call-overload]

    async with app.run_test() as pilot:
        await until(pilot, lambda: titles(app) == ["Doomed"], "listed")
        app.push_screen = recorded  # type: ignore[method-assign]
        burst(app, "delete", "escape")
        await until(pilot, lambda: len(asked) == 1 and asked[0] not in app.screen_stack, "asked, answered")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and not app.screen.query("#session-filter"), "esc was the answer"
        assert [s.title for s in (await service.list_sessions()).page] == ["Doomed"]
        burst(app, "delete", "ctrl+y")
        await until(pilot, lambda: titles(app) == [], "deleted by the ctrl+y typed behind del")
        assert isinstance(app.screen, MainScreen)
        await pilot.press("ctrl+u")
        await until(pilot, lambda: titles(app) == ["Doomed"], "restored")


async def test_a_ctrl_y_typed_right_behind_c_cancels_the_work_order(service: JangarService) -> None:
    session = await service.new_session("Orders")
    draft = await service.create_work_order(session.id, title="Not wanted", prompt="p")
    app = JangarApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: len(app.screen.query_one(WorkOrderList).work_orders) == 1, "the draft")
        app.screen.query_one(WorkOrderList).focus()
        burst(app, "c", "ctrl+y")
        orders = app.screen.query_one(WorkOrderList)
        await until(pilot, lambda: orders.work_orders[0].status.value == "canceled", "canceled by the ctrl+y behind c")
        assert isinstance(app.screen, MainScreen)
        assert (await service.get_work_order(draft.id)).status.value == "canceled"


async def test_help_opens_from_the_list_with_question_mark_and_from_a_text_field_with_f1(
    service: JangarService,
) -> None:
    await service.new_session("Help me")
    app = JangarApp(service)
    async with app.run_test() as pilot:
        await until(pilot, lambda: titles(app) == ["Help me"], "listed")
        await pilot.press("question_mark")  # on the list where the app starts: not a filter letter
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help from ?")
        await pilot.press("f1")  # f1 toggles
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "help closed")
        app.screen.query_one(ComposerInput).focus()
        await pilot.press(*"why?")
        assert app.screen.query_one(ComposerInput).text == "why?", "? is text in the input"
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help from f1 in the input")
        await pilot.press("escape")
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, WorkOrderFormScreen), "the form")
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help over the form")


async def test_a_burst_of_keys_and_newlines_is_stored_in_the_order_typed(service: JangarService) -> None:
    session = await service.new_session("Burst")
    app = JangarApp(service)
    async with app.run_test() as pilot:
        await until(pilot, lambda: titles(app) == ["Burst"], "listed")
        composer = app.screen.query_one(ComposerInput)
        composer.focus()
        await pilot.pause()
        burst(app, "X", "ctrl+j", "Y", "ctrl+j", "Z")
        app.post_message(events.Paste("p1\np2"))
        burst(app, "shift+enter", "W", "enter")
        await until(pilot, lambda: app.screen.query_one(Transcript).messages, "sent")
        stored = (await service.store.list_messages(session.id)).page
        assert [(m.role, m.content) for m in stored] == [(Role.USER, "X\nY\nZp1\np2\nW")]


async def test_drag_selecting_transcript_text_then_ctrl_c_keeps_the_app(service: JangarService) -> None:
    session = await service.new_session("Select")
    await service.send_message(session.id, "some words to select with the mouse")
    app = JangarApp(service)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: "some words" in screen_text(pilot), "the message")
        transcript = app.screen.query_one(Transcript)
        await pilot.mouse_down(transcript, offset=(3, 1))
        await pilot.hover(transcript, offset=(20, 2))
        await pilot.mouse_up(transcript, offset=(20, 2))
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, MainScreen)
        assert app.return_code is None
