"""Search (ctrl+f): the operator's sessions, messages and work orders by their words, as they type.

A change of the query waits `DEBOUNCE_S` for the next key, then asks the service in a worker (the
store works off the UI thread: SQLite on its own thread, Convex over its connection); a newer query
cancels the worker of an older one, and an answer for a query that is no longer the one typed is
dropped. Hits go into an `OptionList` (it renders only the lines on screen). Everything from data
is made visible by `text_safety.one_line` and wrapped as plain `Text`; the matched words are
emphasised by span on that sanitized text, never through markup. Enter on a hit jumps to it: the
session, the message selected in its transcript, or the work order's detail.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.timer import Timer
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from jangar_tui import search_text
from jangar_tui.models import (
    SEARCH_LIMIT_DEFAULT,
    SEARCH_TEXT_MAX_CHARS,
    JangarError,
    SearchHit,
    SearchKind,
    SearchResults,
)
from jangar_tui.text_safety import one_line
from jangar_tui.ui.keymap import bindings
from jangar_tui.ui.screens.lifecycle import is_closed
from jangar_tui.ui.screens.work_order_actions import WorkOrderActions
from jangar_tui.ui.widgets.key_bar import KeyBar

DEBOUNCE_S = 0.12
HINT = "Type to search session titles, messages and work orders (title, prompt, repo)."
KIND_NAMES = {SearchKind.SESSION: "Sessions", SearchKind.WORK_ORDER: "Work orders", SearchKind.MESSAGE: "Messages"}
KIND_TAGS = {SearchKind.SESSION: "session", SearchKind.WORK_ORDER: "work order", SearchKind.MESSAGE: "message"}
HIGHLIGHT = "bold reverse"


def hit_text(hit: SearchHit, query_terms: list[str]) -> Text:
    """Two lines: what the hit is (kind, the session, or the work order and its session; role or
    status), then its excerpt with the matched words emphasised. Data only as plain text, made
    visible first."""
    where = Text(no_wrap=True, overflow="ellipsis")
    where.append(f"{KIND_TAGS[hit.kind]:<10} ", style="dim")
    detail = hit.role.value if hit.role else hit.status.value if hit.status else ""
    if hit.kind is SearchKind.WORK_ORDER:
        # Its own title: the excerpt may be of its prompt or repo, which do not say which it is.
        where.append(one_line(hit.workOrderTitle or "(untitled)"), style="bold")
        detail = f"{detail} · {hit.field} · in {one_line(hit.sessionTitle)}"
    else:
        where.append(one_line(hit.sessionTitle), style="bold")
    if detail:
        where.append(f"  {detail}", style="dim")
    shown = one_line(hit.excerpt)
    excerpt = Text("  " + shown, no_wrap=True, overflow="ellipsis")
    for start, end in search_text.highlights(shown, query_terms):
        excerpt.stylize(HIGHLIGHT, start + 2, end + 2)
    return Text("\n", no_wrap=True, overflow="ellipsis").join([where, excerpt])


def summary(results: SearchResults) -> str:
    counts = [(KIND_NAMES[kind], len(hits)) for kind, hits in _groups(results)]
    found = " · ".join(f"{name} {n}" for name, n in counts) if any(n for _, n in counts) else "Nothing found."
    if results.indexing is not None:
        found += f" ({results.indexing.note})"
    return found


def _groups(results: SearchResults) -> list[tuple[SearchKind, list[SearchHit]]]:
    return [
        (SearchKind.SESSION, results.sessions),
        (SearchKind.WORK_ORDER, results.workOrders),
        (SearchKind.MESSAGE, results.messages),
    ]


class SearchScreen(WorkOrderActions):
    BINDINGS = bindings("search")

    def __init__(
        self,
        *,
        open_session: Callable[[str], None],
        open_message: Callable[[str, str], None],
        limit: int = SEARCH_LIMIT_DEFAULT,
    ) -> None:
        super().__init__(classes="search")
        self._open_session = open_session
        self._open_message = open_message
        self._limit = limit
        self._query = ""
        self._terms: list[str] = []
        self._timer: Timer | None = None
        self.hits: list[SearchHit] = []  # in the list's order (headers excluded)
        self.results: SearchResults | None = None  # the last answer shown, for tests and the summary

    def compose(self) -> ComposeResult:
        yield Static("Search", id="search-title", classes="pane-title")
        yield Input(placeholder="search…", max_length=SEARCH_TEXT_MAX_CHARS, id="search-input")
        yield Static(HINT, id="search-summary")
        yield OptionList(id="search-results")
        yield KeyBar()

    def on_mount(self) -> None:
        if is_closed(self):
            return
        self.query_one(Input).focus()

    @property
    def result_list(self) -> OptionList:
        return self.query_one(OptionList)

    # -- asking --------------------------------------------------------------------------------------
    @on(Input.Changed, "#search-input")
    def _changed(self, event: Input.Changed) -> None:
        self._query = event.value
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE_S, self._ask)

    def _ask(self) -> None:
        self._timer = None
        self._search(self._query)

    @work(group="search", exclusive=True, exit_on_error=False)
    async def _search(self, text: str) -> None:
        try:
            query_terms = search_text.terms(text)
            results = await self.service.search(text, self._limit) if query_terms else None
        except JangarError as error:
            if text == self._query:
                self._say(f"Cannot search: {error.message}")
            return
        if text != self._query:
            return  # typed on meanwhile: this answer is for a query no longer shown
        self._show(query_terms, results)

    def _say(self, text: str) -> None:
        self.query_one("#search-summary", Static).update(Text(one_line(text)))

    def _show(self, query_terms: list[str], results: SearchResults | None) -> None:
        self._terms = query_terms
        self.results = results
        options: list[Option] = []
        hits: list[SearchHit] = []
        if results is not None:
            for kind, group in _groups(results):
                if not group:
                    continue
                options.append(Option(Text(f"{KIND_NAMES[kind]} ({len(group)})", style="bold"), disabled=True))
                for hit in group:
                    options.append(Option(hit_text(hit, query_terms), id=str(len(hits))))
                    hits.append(hit)
        self.hits = hits
        result_list = self.result_list
        result_list.set_options(options)
        if hits:
            result_list.highlighted = 1  # the first hit (0 is its kind's header)
        self._say(HINT if results is None else summary(results))

    # -- moving and opening -----------------------------------------------------------------------
    @property
    def chosen(self) -> SearchHit | None:
        option_list = self.result_list
        index = option_list.highlighted
        if index is None:
            return None
        option_id = option_list.get_option_at_index(index).id
        return self.hits[int(option_id)] if option_id is not None else None

    def action_move(self, step: int) -> None:
        option_list = self.result_list
        if step > 0:
            option_list.action_cursor_down()
        else:
            option_list.action_cursor_up()

    @on(Input.Submitted, "#search-input")
    def _submitted(self) -> None:
        self.action_open_hit()

    @on(OptionList.OptionSelected, "#search-results")
    def _selected(self) -> None:
        self.action_open_hit()

    def action_open_hit(self) -> None:
        hit = self.chosen
        if hit is None:
            return
        if hit.kind is SearchKind.WORK_ORDER and hit.workOrderId is not None:
            self._open_work_order(hit.workOrderId, hit.sessionId)
            return
        self.dismiss()
        if hit.kind is SearchKind.MESSAGE and hit.messageId is not None:
            self._open_message(hit.sessionId, hit.messageId)
        else:
            self._open_session(hit.sessionId)

    @work(group="search-open", exclusive=True, exit_on_error=False)
    async def _open_work_order(self, work_order_id: str, session_id: str) -> None:
        try:
            work_order = await self.service.get_work_order(work_order_id)
        except JangarError as error:
            self.report_error(error.message)
            return
        from jangar_tui.ui.screens.work_order_detail import WorkOrderDetailScreen

        app = self.app
        self.dismiss()
        self._open_session(session_id)  # esc from the detail lands on its session
        app.push_screen(WorkOrderDetailScreen(work_order))

    def action_close(self) -> None:
        self.dismiss()
