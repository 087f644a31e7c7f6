"""The one way the UI follows a watch stream: every snapshot handed on, every failure reported
once and retried, nothing raised into the app. Screens use `WatchingScreen.watch_stream`; the
app's alerts call `follow` directly.

A watch ends only when its worker is replaced (same group, `exclusive`) or goes away. While the
backend is unreachable (`UNAVAILABLE`) it subscribes again every WATCH_RETRY_S; a refusal
(another `JangarError`) would be refused again, so it is reported and the watch stops; anything
else (a snapshot that could not be read, a bug) is reported and retried, as the next snapshot may
well be fine. Reports reach the operator as one warning per outage, not one per retry.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from textual.message import Message
from textual.screen import Screen

from jangar_tui.models import ErrorCode, JangarError
from jangar_tui.text_safety import visible

WATCH_RETRY_S = 2.0

T = TypeVar("T")


async def follow(
    open_stream: Callable[[], AsyncIterator[T]],
    on_snapshot: Callable[[T], object],
    on_failure: Callable[[str], object],
    *,
    first: Callable[[T | None], None] = lambda _: None,
) -> None:
    """Call `on_snapshot` for every snapshot, subscribing again after a failure that may pass;
    `on_failure` once per outage; `first` with the first snapshot, or None when it failed."""
    announced = False  # say it once per outage, not on every retry
    while True:
        try:
            async for snapshot in open_stream():
                announced = False
                on_snapshot(snapshot)
                first(snapshot)
            return
        except asyncio.CancelledError:
            raise
        except JangarError as error:
            first(None)
            if not announced:
                on_failure(error.message)
                announced = True
            if error.code != ErrorCode.UNAVAILABLE:
                return  # a refusal will not change by asking again
        except Exception as error:  # noqa: BLE001 - a bad snapshot or a bug: report it, keep the app
            first(None)
            if not announced:
                on_failure(f"{type(error).__name__}: {error}")
                announced = True
        # Subscribe again once the backend may be back (or the data readable again).
        await asyncio.sleep(WATCH_RETRY_S)


class WatchingScreen(Screen[object]):
    class WatchFailed(Message):
        def __init__(self, what: str, error: str) -> None:
            self.what, self.error = what, error
            super().__init__()

    def watch_stream(
        self,
        group: str,
        open_stream: Callable[[], AsyncIterator[T]],
        wrap: Callable[[T], Message],
        *,
        answered: asyncio.Future[T | None] | None = None,
        what: str | None = None,
    ) -> None:
        """Post `wrap(snapshot)` for every snapshot, in a worker of `group` (replacing the one
        before); `answered` gets the first snapshot (None: it failed). `what` names the data in
        a report (default: the group)."""

        def first(snapshot: T | None) -> None:
            if answered is not None and not answered.done():
                answered.set_result(snapshot)

        self.run_worker(
            follow(
                open_stream,
                lambda snapshot: self.post_message(wrap(snapshot)),
                lambda error: self.post_message(self.WatchFailed(what or group, error)),
                first=first,
            ),
            group=group,
            exclusive=True,
            exit_on_error=False,
        )

    def on_watching_screen_watch_failed(self, message: WatchFailed) -> None:
        self.notify(
            visible(f"Live updates of {message.what} interrupted: {message.error}"),
            severity="warning",
            markup=False,
        )
