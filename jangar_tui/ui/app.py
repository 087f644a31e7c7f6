"""JangarApp: the Textual application around a ready `JangarService`.

The first frame comes before any data: the screen subscribes to the service's watch streams and
fills in as snapshots arrive. When a runtime is given (`JangarRuntime`: embedded Temporal and the
in-process worker), it is started in the background after the first frame, and stopped by
`aclose()` once the app has exited, so quitting leaves no process behind.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from platformdirs import user_downloads_path
from textual import events
from textual.app import App, SystemCommand
from textual.message import Message
from textual.screen import Screen
from textual.theme import Theme

from jangar_tui import gc_policy
from jangar_tui.alerts import NotifyMode
from jangar_tui.service import JangarService
from jangar_tui.text_safety import one_line, visible
from jangar_tui.ui import paste_parser, resume_guard
from jangar_tui.ui.alerts import ReplyAlerts, WorkOrderAlerts
from jangar_tui.ui.clock import Clock, system_clock
from jangar_tui.ui.keymap import KeyTable, apply_overrides, bindings, display_keys, textual_keymap
from jangar_tui.ui.screens.main import MainScreen
from jangar_tui.ui.screens.work_order_actions import WorkOrderActions

# The runtime starts (and the garbage collector, paused by the `jangar` command, resumes) once
# the first screenful (sessions, and the chosen session's newest messages) is shown, or after
# this long at the latest.
STARTUP_DONE_AFTER_S = 1.0
FULL_COLLECTION_CHECK_S = 1.0  # see gc_policy
# The screens opened later are imported this long after the first screenful, while the operator
# reads it: importing the work-order detail (Textual's DataTable with it) on the first `enter`
# took 20-55 ms of that opening.
PRELOAD_SCREENS_AFTER_S = 0.3


def screenshot_dir() -> Path:
    """The user's downloads dir where there is one, else the current directory: Textual saved
    only to the downloads dir, which a server reached over ssh often lacks, and then said just
    'Failed to save screenshot'. (Served in a browser, the picture is downloaded instead.)"""
    downloads = user_downloads_path()
    return downloads if downloads.is_dir() else Path.cwd()


def _palette_scopes() -> dict[type[Screen[Any]], tuple[str, ...]]:
    """Scopes whose actions the command palette offers on each screen."""
    # Imported here, not before the first frame: `_startup_done` loads them a moment after it.
    from jangar_tui.ui.screens.board import BoardScreen
    from jangar_tui.ui.screens.search import SearchScreen
    from jangar_tui.ui.screens.work_order_detail import WorkOrderDetailScreen

    return {
        MainScreen: ("main", "sessions", "transcript", "work_orders"),
        WorkOrderDetailScreen: ("detail",),
        BoardScreen: ("board",),
        SearchScreen: ("search",),
    }


class JangarApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "Jangar"
    BINDINGS = bindings("app")

    class RuntimeStarted(Message):
        pass

    class RuntimeNoted(Message):
        """The runtime says what it is doing before Temporal's state is known (starting a server)."""

        def __init__(self, note: str) -> None:
            self.note = note
            super().__init__()

    class RuntimeFailed(Message):
        def __init__(self, error: str) -> None:
            self.error = error
            super().__init__()

    def __init__(
        self,
        service: JangarService,
        runtime: AbstractAsyncContextManager[Any] | None = None,
        *,
        clock: Clock = system_clock,
        notify: NotifyMode = "off",
        in_tmux: bool = False,
        theme: str | None = None,
        remember_theme: Callable[[str], None] | None = None,
        key_overrides: Iterable[tuple[str, str]] = (),
        keys_source: str = "config.toml",
        board_seen_at: int | None = None,
        remember_board_seen: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__()
        # Checked whole before the app is anything (a ConfigError naming the entry otherwise); the
        # table is what the help screen, the palette and keys read by widgets show and use.
        self.key_table: KeyTable = apply_overrides(key_overrides, keys_source)
        self.set_keymap(textual_keymap(self.key_table))
        paste_parser.install()
        self.service = service
        self._runtime = runtime
        self._clock = clock
        self._runtime_task: asyncio.Task[None] | None = None
        self._stop_runtime = asyncio.Event()
        self._startup_done_event = asyncio.Event()
        self.full_collections = gc_policy.FullCollections()
        self._wanted_theme = theme
        self._remember_theme = remember_theme
        self._board_seen_at = board_seen_at
        self._remember_board_seen = remember_board_seen

        def write(text: str) -> None:
            self.write_to_terminal(text)  # looked up at each alert: tests replace it to read the bytes

        self.alerts = WorkOrderAlerts(self, notify, in_tmux=in_tmux, write=write)
        # Replies are told from now on, by the store's clock (the wall clock), not the display's.
        self.reply_alerts = ReplyAlerts(
            self, notify, in_tmux=in_tmux, write=write, since=system_clock(), looking_at=self.looking_at_session
        )

    def get_default_screen(self) -> Screen[Any]:
        # The main screen is the first on the stack: no blank default screen to style and replace
        # before the first frame.
        if self._runtime is not None:
            note = "connecting…"  # "starting…" only once the runtime says it starts a server
        else:
            note = "ready" if self.service.launcher is not None else "not configured"
        return MainScreen(
            clock=self._clock,
            temporal_note=note,
            board_seen_at=self._board_seen_at,
            remember_board_seen=self._remember_board_seen,
        )

    def on_mount(self) -> None:
        resume_guard.install()  # the driver has set its signal handlers by now
        self._apply_theme()
        self.set_timer(STARTUP_DONE_AFTER_S, self._startup_done)
        if self._runtime is not None:
            # A plain task, not a worker: the runtime must outlive the app's workers so that
            # aclose() can stop it in the same task that started it.
            self._runtime_task = asyncio.create_task(self._hold_runtime(self._runtime), name="jangar-runtime")

    async def _hold_runtime(self, runtime: Any) -> None:
        # Starting Temporal competes with the first frames for the event loop and the GIL: wait
        # until the first screenful is drawn (or a moment, when the backend is slow to answer).
        await self._startup_done_event.wait()
        if self._stop_runtime.is_set():
            return  # the app quit before the runtime was started
        if hasattr(runtime, "on_note"):
            runtime.on_note = lambda note: self.post_message(self.RuntimeNoted(note))
        try:
            async with runtime:
                gc_policy.freeze_long_lived()  # temporalio's modules, imported just now
                self.service.launcher = runtime.launcher
                self.post_message(self.RuntimeStarted())
                await self._stop_runtime.wait()
        except Exception as error:  # noqa: BLE001 - any failure is shown in the status line; the chat keeps working
            self.post_message(self.RuntimeFailed(str(error) or type(error).__name__))

    def on_main_screen_first_screen_shown(self) -> None:
        self._startup_done()

    def _startup_done(self) -> None:
        """The first screenful is drawn (or the backend is slow to answer it)."""
        if self._startup_done_event.is_set():
            return
        self._startup_done_event.set()
        self.alerts.start()
        self.reply_alerts.start()
        self.set_timer(PRELOAD_SCREENS_AFTER_S, _palette_scopes)
        gc_policy.startup_done()
        if gc_policy.managed():
            self.set_interval(FULL_COLLECTION_CHECK_S, self.full_collections.run_if_due)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self.full_collections.input_seen()
        if isinstance(event, events.Paste) and not event.is_forwarded:
            # A paste often comes from somewhere untrusted (a web page, an issue, a log): the
            # text fields would draw its control characters raw. They get the visible forms.
            safe = visible(event.text, keep_tabs=True)
            if safe is not event.text:
                event = events.Paste(safe)
        await super().on_event(event)

    def on_jangar_app_runtime_started(self) -> None:
        self._main_screen().start_temporal_watch()

    def on_jangar_app_runtime_noted(self, message: RuntimeNoted) -> None:
        self._main_screen().temporal_unavailable(message.note)

    def on_jangar_app_runtime_failed(self, message: RuntimeFailed) -> None:
        self._main_screen().temporal_unavailable(f"failed to start: {message.error}")

    async def aclose(self) -> None:
        """Stop the runtime (embedded Temporal, in-process worker) and close the service."""
        if self._runtime_task is not None:
            self._stop_runtime.set()
            self._startup_done_event.set()  # no more waiting to start it
            await asyncio.wait({self._runtime_task})  # it reports its own failures (RuntimeFailed)
            self._runtime_task = None
        await self.service.close()

    def _apply_theme(self) -> None:
        """The configured (or remembered) theme; from now on, a theme chosen in the palette is remembered."""
        if self._wanted_theme is not None:
            if self._wanted_theme in self.available_themes:
                self.theme = self._wanted_theme
            else:
                self.notify(
                    f"Unknown theme {one_line(self._wanted_theme)!r}: JANGAR_THEME names a Textual theme.", markup=False
                )
        if self._remember_theme is not None:
            self.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, theme: Theme) -> None:
        if self._remember_theme is not None:
            self._remember_theme(theme.name)

    def write_to_terminal(self, text: str) -> None:
        """Bytes for the terminal itself (an alert), queued in order with the frames."""
        if not self.is_headless and self._driver is not None:
            self._driver.write(text)

    def looking_at_session(self, session_id: str) -> bool:
        """The operator sees this session's transcript now: it is the main screen's, and the
        terminal has the focus (as far as it reports focus)."""
        screen = self.screen
        return (
            self.app_focus
            and isinstance(screen, MainScreen)
            and screen.session is not None
            and screen.session.id == session_id
        )

    def _main_screen(self) -> MainScreen:
        return next(s for s in self.screen_stack if isinstance(s, MainScreen))

    def action_help(self) -> None:
        """Open the help, or close it when it is what is shown (f1 toggles)."""
        from jangar_tui.ui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
        else:
            self.push_screen(HelpScreen())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "search":
            # Over a whole screen (the main screen, the board, a detail; the search itself, which
            # it closes), never over a dialog: a hit would leave the dialog's answer behind. Over
            # one, ctrl+f is the field's own key.
            return isinstance(self.screen, WorkOrderActions)
        return True

    def action_search(self) -> None:
        """Open the search over the screen shown, or close it when it is what is shown."""
        from jangar_tui.ui.screens.search import SearchScreen

        if isinstance(self.screen, SearchScreen):
            self.screen.dismiss()
            return
        self.push_screen(SearchScreen(open_session=self._show_session, open_message=self._show_message))

    def _back_to_main(self) -> MainScreen:
        """Close every screen over the main screen, top first, each dismissed so that what it does
        when closed is done (the board remembers when it was left)."""
        while not isinstance(self.screen, MainScreen):
            self.screen.dismiss()
        return self.screen

    def _show_session(self, session_id: str) -> None:
        self._back_to_main().open_session(session_id)

    def _show_message(self, session_id: str, message_id: str) -> None:
        self._back_to_main().open_message(session_id, message_id)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        if isinstance(screen, WorkOrderActions):  # the app's own actions (search) over a whole screen
            for key in self.key_table["app"]:
                if key.palette:
                    yield SystemCommand(
                        key.title, display_keys(key.keys), functools.partial(self.run_action, key.action)
                    )
        for screen_type, scopes in _palette_scopes().items():
            if isinstance(screen, screen_type):
                for scope in scopes:
                    for key in self.key_table[scope]:
                        if key.palette:
                            action = key.action.removeprefix("screen.")
                            shortcut = display_keys(key.keys)
                            yield SystemCommand(key.title, shortcut, functools.partial(screen.run_action, action))
        yield SystemCommand("Help", "All the keys", self.action_help)
        yield from self._textual_commands(screen)

    def _textual_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's own commands (theme, quit, maximize, screenshot) but its key panel: f1's help
        lists the keys, and the panel, docked beside an 80-column screen, closed only from the
        palette again. The screenshot goes where it can be saved (see `screenshot_dir`)."""
        for command in super().get_system_commands(screen):
            if command.title == "Keys":
                continue
            if command.title == "Screenshot":
                command = SystemCommand(command.title, command.help, self._save_screenshot)
            yield command

    def _save_screenshot(self) -> None:
        # After the palette has closed, as Textual's own command does: the picture is of the app.
        self.set_timer(0.1, functools.partial(self.deliver_screenshot, path=str(screenshot_dir())))
