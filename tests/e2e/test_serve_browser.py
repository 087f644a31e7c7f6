"""`jangar serve` in a real headless Chromium (Debian's package): the page loads, keys reach the app,
two tabs share the data dir's runtime, an alert's OSC bytes leave the page working, and bound
elsewhere than loopback nothing is served without the token.

Skipped only where chromium is absent outside CI; in CI (`CI=true`, where .ci/run installs it) its
absence fails.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import psutil
import pytest
from browser import chromium, chromium_available
from test_tmux_e2e import clean_env, processes_with_env, wait_until

from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore
from jangar_tui.ui.serve import TOKEN_COOKIE

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

if not chromium_available():
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is not installed (/usr/bin/chromium): .ci/run installs it", pytrace=False)
    pytest.skip("chromium is not installed (/usr/bin/chromium; apt-get install chromium)", allow_module_level=True)

URL_LINE = re.compile(r"jangar serve: open (http://\S+)")
START_S = 90.0  # serve, then the app in the tab, on a loaded 2-core machine
TEMPORAL_S = 120.0  # the data dir's Temporal dev server up and both tabs attached


class Served:
    """A `jangar serve` process; its stdout and stderr are kept in files."""

    def __init__(self, tmp_path: Path, env: dict[str, str], *args: str) -> None:
        self.out_path, self.err_path = tmp_path / "serve.out", tmp_path / "serve.err"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jangar_tui", "serve", "--port", "0", *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.out_path.open("wb"),
            stderr=self.err_path.open("wb"),
        )
        wait_until(lambda: URL_LINE.search(self.out()) is not None or self.process.poll() is not None, "URL", START_S)
        found = URL_LINE.search(self.out())
        assert found is not None, f"jangar serve printed no URL: {self.out()!r} {self.err()!r}"
        self.url = found.group(1)

    def out(self) -> str:
        return self.out_path.read_text(errors="replace")

    def err(self) -> str:
        return self.err_path.read_text(errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)


@pytest.fixture
def served() -> Iterator[list[Served]]:
    started: list[Served] = []
    try:
        yield started
    finally:
        for one in started:
            if one.process.poll() is None:
                one.process.kill()
                one.process.wait(timeout=30)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = clean_env(tmp_path / "data", home, 0)
    del env["JANGAR_EMBEDDED_TEMPORAL_PORT"]  # the data dir chooses its own, as for an operator
    env.update(JANGAR_USER="op", **extra)
    return env


def _apps(data_dir: Path, serve_pid: int) -> list[psutil.Process]:
    """The `jangar` processes the tabs started (python -m jangar_tui, not the serve itself)."""
    found = []
    for process in processes_with_env("JANGAR_DATA_DIR", str(data_dir), exclude={serve_pid, os.getpid()}):
        try:
            command = process.cmdline()
        except psutil.Error:
            continue
        if command[1:3] == ["-m", "jangar_tui"] and "serve" not in command:
            found.append(process)
    return found


def _temporal_servers(data_dir: Path, serve_pid: int) -> list[psutil.Process]:
    servers = []
    for process in processes_with_env("JANGAR_DATA_DIR", str(data_dir), exclude={serve_pid, os.getpid()}):
        try:
            if "temporal" in process.name().lower():
                servers.append(process)
        except psutil.Error:
            continue
    return servers


async def _sessions(data_dir: Path) -> list[str]:
    store = LocalStore(data_dir / "jangar.sqlite3")
    try:
        return [session.title for session in (await JangarService(store, "op").list_sessions()).page]
    finally:
        await store.close()


async def _cancel_a_draft(data_dir: Path, title: str) -> None:
    store = LocalStore(data_dir / "jangar.sqlite3")
    try:
        service = JangarService(store, "op")
        session = (await service.list_sessions()).page[0]
        work_order = await service.create_work_order(session.id, title=title, prompt="p")
        await service.cancel_work_order(work_order.id)
    finally:
        await store.close()


async def _wait_async(condition: object, what: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not await condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not within {timeout_s:g} s: {what}"
        await asyncio.sleep(0.2)


async def test_two_tabs_keys_help_alert_and_screenshot(tmp_path: Path, served: list[Served]) -> None:
    data_dir = tmp_path / "data"
    # OSC 777 asked for explicitly: the bytes go to the browser's terminal, which must ignore them.
    server = Served(tmp_path, _env(tmp_path, JANGAR_NOTIFY="osc777"))
    served.append(server)
    assert server.url.startswith("http://127.0.0.1:")
    async with chromium(tmp_path / "chromium") as browser:
        first = await browser.new_tab()
        await first.navigate(server.url)
        await first.wait_for("Sessions (0)", "Work orders (0)", timeout_s=START_S)
        await first.focus_terminal()
        # ctrl+n reaches the app: a session is stored.
        await first.press("n", ctrl=True)
        await _wait_async(lambda: _has(data_dir, "New session"), "ctrl+n made a session", 30)
        # Typed text reaches the message input and is drawn back.
        await first.type("typed in chromium")
        await first.wait_for("typed in chromium", timeout_s=30)
        # f1 opens the help.
        since = len(first.received)
        await first.press("f1")
        await first.wait_for("Main screen", "All the keys", timeout_s=30, since=since)
        await asyncio.sleep(0.5)  # the frame after the bytes: xterm.js draws on the next animation frame
        shot = await first.screenshot(tmp_path / "help.png")
        assert shot.stat().st_size > 10_000  # a rendered page, not a blank one
        await first.press("escape")

        # A second tab: a second jangar on the same data dir, the same Temporal server.
        second = await browser.new_tab()
        await second.navigate(server.url)
        await second.wait_for("New session", timeout_s=START_S)
        await first.wait_for("embedded port", timeout_s=TEMPORAL_S)
        await second.wait_for("embedded port", timeout_s=TEMPORAL_S)
        ports = {re.findall(r"embedded port\D*(\d+)", tab.text())[-1] for tab in (first, second)}
        assert len(ports) == 1, f"the tabs' apps use different servers: {ports}"
        wait_until(lambda: len(_apps(data_dir, server.process.pid)) == 2, "a jangar per tab", 30)
        assert len(_temporal_servers(data_dir, server.process.pid)) == 1

        # A work order ends: both tabs get the toast, and the OSC 777 bytes, and go on working.
        since_first, since_second = len(first.received), len(second.received)
        await _cancel_a_draft(data_dir, "Served alert")
        await first.wait_for("\x1b]777;notify;", "Work order ended", timeout_s=30, since=since_first)
        await second.wait_for("\x1b]777;notify;", timeout_s=30, since=since_second)
        await asyncio.sleep(0.5)
        assert (await first.screenshot(tmp_path / "alert.png")).stat().st_size > 10_000  # the toast, no garbage
        await first.focus_terminal()
        since = len(first.received)
        await first.press("f1")
        await first.wait_for("All the keys", timeout_s=30, since=since)
        assert await first.evaluate("document.body.classList.contains('-closed')") is False

        # The page asked for nothing but this server.
        origin = server.url.rstrip("/")
        assert all(url.startswith((origin, "data:", "about:")) for url in browser.requested), browser.requested

        # Closing a tab ends its jangar; the other keeps the server; the last one out stops it.
        await first.close()
        wait_until(lambda: len(_apps(data_dir, server.process.pid)) == 1, "the first tab's jangar ended", 60)
        assert len(_temporal_servers(data_dir, server.process.pid)) == 1
        await second.close()
        wait_until(lambda: not _apps(data_dir, server.process.pid), "the second tab's jangar ended", 60)
        wait_until(lambda: not _temporal_servers(data_dir, server.process.pid), "the server stopped", 60)
    assert server.stop() == 0
    assert not processes_with_env("JANGAR_DATA_DIR", str(data_dir), exclude={os.getpid()})


async def _has(data_dir: Path, title: str) -> bool:
    return title in await _sessions(data_dir)


async def test_bound_elsewhere_a_token_is_required(tmp_path: Path, served: list[Served]) -> None:
    # No runtime needed here: a configured Temporal that does not answer keeps the app light.
    env = _env(tmp_path, TEMPORAL_ADDRESS="127.0.0.1:9")
    # --data-dir reaches each tab's jangar (over the environment's JANGAR_DATA_DIR, as in a terminal).
    flagged = tmp_path / "flagged"
    store = LocalStore(flagged / "jangar.sqlite3")
    try:
        await JangarService(store, "op").new_session("From the flag's data dir")
    finally:
        await store.close()
    server = Served(tmp_path, env, "--host", "0.0.0.0", "--data-dir", str(flagged))
    served.append(server)
    assert "not only this machine" in server.err()
    token = re.search(r"\?token=(\S+)", server.url)
    assert token is not None, server.url
    port = re.search(r":(\d+)/", server.url)
    assert port is not None
    base = f"http://127.0.0.1:{port.group(1)}"
    # unsafe: keep cookies of an IP address (the jar's default keeps only those of names).
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        for path in ("/", "/ws", "/static/js/textual.js", "/?token=wrong"):
            async with http.get(base + path, allow_redirects=False) as response:
                assert response.status == 401, path
                assert "token" in await response.text()
        async with http.get(f"{base}/?token={token.group(1)}", allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"] == "/"
            cookie = response.cookies[TOKEN_COOKIE]
            assert cookie["httponly"] and cookie["samesite"] == "Strict"
        async with http.get(base + "/", allow_redirects=False) as response:  # the cookie now
            assert response.status == 200
            assert "connect-src 'self'" in response.headers["Content-Security-Policy"]
        # A page of another origin may not open the app's websocket, cookie or not.
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(base + "/ws", headers={"Origin": "http://evil.example"})
        assert refused.value.status == 403
    async with chromium(tmp_path / "chromium") as browser:
        tab = await browser.new_tab()
        await tab.navigate(f"{base}/?token={token.group(1)}")
        await tab.wait_for("Sessions (1)", "From the flag's data dir", timeout_s=START_S)
        assert await tab.evaluate("location.search") == ""  # the token left the address bar
        await tab.close()
    assert server.stop() == 0
    # The token was shown once, on stdout, and nowhere else.
    assert server.out().count(token.group(1)) == 1 and token.group(1) not in server.err()


async def test_on_loopback_other_hosts_and_origins_are_refused(tmp_path: Path, served: list[Served]) -> None:
    server = Served(tmp_path, _env(tmp_path, TEMPORAL_ADDRESS="127.0.0.1:9"))
    served.append(server)
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url) as response:
            assert response.status == 200  # no token on loopback
        # DNS rebinding: a name that resolves here but is not this machine's.
        async with http.get(server.url, headers={"Host": "rebound.example"}) as response:
            assert response.status == 403
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(server.url + "ws", headers={"Origin": "http://evil.example"})
        assert refused.value.status == 403
    assert server.stop() == 0


async def test_a_paste_in_the_browser_stays_text(tmp_path: Path, served: list[Served]) -> None:
    """A pasted coloured log with CRs, BEL (ctrl+g: the board) and DC1 (ctrl+q: quit) is text in the
    message input: nothing is sent, nothing opens, the app keeps running."""
    data_dir = tmp_path / "data"
    server = Served(tmp_path, _env(tmp_path, TEMPORAL_ADDRESS="127.0.0.1:9"))
    served.append(server)
    async with chromium(tmp_path / "chromium") as browser:
        tab = await browser.new_tab()
        await tab.navigate(server.url)
        await tab.wait_for("Sessions (0)", timeout_s=START_S)
        await tab.focus_terminal()  # the message input has the focus: there is no session yet
        since = len(tab.received)
        await tab.paste("pasted \x1b[31mred\x1b[0m\r\nsecond line\x07\x11 tail")
        await tab.wait_for("tail", timeout_s=30, since=since)
        await asyncio.sleep(1.0)  # what a replayed CR, BEL or DC1 would have done, it would have by now
        await tab.screenshot(tmp_path / "pasted.png")
        assert await _sessions(data_dir) == [], "the paste sent a message"
        assert "Board" not in tab.received[since:].decode("utf-8", "replace")
        assert await tab.evaluate("document.body.classList.contains('-closed')") is False
        assert len(_apps(data_dir, server.process.pid)) == 1, "the paste ended the app"
        await tab.close()
    assert server.stop() == 0
