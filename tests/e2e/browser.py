"""A headless Chromium driven over the DevTools protocol (CDP), for `jangar serve` in a browser.

Debian's chromium, started with flags that keep it off the network (no background requests, no
component updates, no sync), a fresh profile, and a DevTools port chosen by the browser; the
protocol is spoken over aiohttp's websocket client (aiohttp comes with textual-serve). Just what
the test needs: tabs, navigation, key presses, the bytes each tab's websockets received (what the
app drew: the terminal itself is a canvas), screenshots.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    # Only loopback resolves: a page that reached for anything else would fail, not go out.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    "--window-size=1280,800",
)

# Keys as CDP wants them: (key, code, windowsVirtualKeyCode, text).
NAMED_KEYS: dict[str, tuple[str, str, int, str]] = {
    "enter": ("Enter", "Enter", 13, "\r"),
    "escape": ("Escape", "Escape", 27, ""),
    "f1": ("F1", "F1", 112, ""),
    "tab": ("Tab", "Tab", 9, "\t"),
}
CTRL = 2


def chromium_available() -> bool:
    return shutil.which(CHROMIUM) is not None


@dataclass
class Tab:
    browser: Browser
    target_id: str
    session_id: str
    received: bytearray = field(default_factory=bytearray)  # every websocket frame the page received

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        return await self.browser.call(method, session_id=self.session_id, **params)

    async def navigate(self, url: str) -> None:
        await self.call("Page.navigate", url=url)

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def focus_terminal(self) -> None:
        await self.evaluate("document.querySelector('.xterm-helper-textarea').focus()")

    async def press(self, key: str, *, ctrl: bool = False) -> None:
        """One key: a name of NAMED_KEYS or a single character, with ctrl held if asked."""
        if key in NAMED_KEYS:
            name, code, vk, text = NAMED_KEYS[key]
        else:
            name, code, vk, text = key, f"Key{key.upper()}" if key.isalpha() else "", ord(key.upper()), key
        modifiers = CTRL if ctrl else 0
        down: dict[str, Any] = {"type": "keyDown", "key": name, "code": code, "windowsVirtualKeyCode": vk}
        if text and not ctrl:
            down.update(text=text, unmodifiedText=text)
        await self.call("Input.dispatchKeyEvent", modifiers=modifiers, **down)
        await self.call(
            "Input.dispatchKeyEvent", type="keyUp", key=name, code=code, windowsVirtualKeyCode=vk, modifiers=modifiers
        )

    async def paste(self, text: str) -> None:
        """What a paste from the clipboard does: a paste event on xterm.js's input, which brackets
        the text when the app asked for bracketed pastes (Textual does)."""
        await self.evaluate(
            "(() => { const data = new DataTransfer(); data.setData('text/plain', "
            f"{json.dumps(text)}); document.querySelector('.xterm-helper-textarea').dispatchEvent("
            "new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true})); })()"
        )

    async def type(self, text: str) -> None:
        for character in text:
            await self.press(character)

    async def screenshot(self, path: Path) -> Path:
        shot = await self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def text(self) -> str:
        return self.received.decode("utf-8", "replace")

    async def wait_for(self, *needles: str, timeout_s: float, since: int = 0) -> None:
        """Until the page has received every needle (after byte `since`), else AssertionError."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not all(needle in self.received[since:].decode("utf-8", "replace") for needle in needles):
            if asyncio.get_running_loop().time() > deadline:
                missing = [n for n in needles if n not in self.received[since:].decode("utf-8", "replace")]
                raise AssertionError(f"the page never received {missing!r} within {timeout_s:g} s")
            await asyncio.sleep(0.1)

    async def close(self) -> None:
        await self.browser.call("Target.closeTarget", targetId=self.target_id)


class Browser:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._tabs: dict[str, Tab] = {}
        self.requested: list[str] = []  # every URL any tab asked for
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self._ws:
            data = json.loads(message.data)
            if "id" in data:
                future = self._pending.pop(data["id"], None)
                if future is not None and not future.done():
                    future.set_result(data)
                continue
            method, params = data.get("method"), data.get("params", {})
            tab = self._tabs.get(data.get("sessionId", ""))
            if method == "Network.webSocketFrameReceived" and tab is not None:
                response = params["response"]
                payload = response["payloadData"]
                tab.received += base64.b64decode(payload) if response["opcode"] == 2 else payload.encode()
            elif method == "Network.requestWillBeSent":
                self.requested.append(params["request"]["url"])

    async def call(self, method: str, *, session_id: str | None = None, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[self._next_id] = future
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session_id is not None:
            message["sessionId"] = session_id
        await self._ws.send_str(json.dumps(message))
        reply = await asyncio.wait_for(future, 60)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply["result"]
        return result

    async def new_tab(self) -> Tab:
        target = await self.call("Target.createTarget", url="about:blank")
        attached = await self.call("Target.attachToTarget", targetId=target["targetId"], flatten=True)
        tab = Tab(self, target["targetId"], attached["sessionId"])
        self._tabs[tab.session_id] = tab
        await tab.call("Page.enable")
        await tab.call("Network.enable")
        return tab


@contextlib.asynccontextmanager
async def chromium(profile: Path) -> AsyncIterator[Browser]:
    """A headless Chromium on a fresh profile in `profile`, stopped (with its children) on exit."""
    profile.mkdir(parents=True, exist_ok=True)
    process = await asyncio.create_subprocess_exec(
        CHROMIUM,
        *FLAGS,
        f"--user-data-dir={profile}",
        "--remote-debugging-port=0",
        "about:blank",
        stdout=subprocess.DEVNULL,
        stderr=(profile / "chromium.log").open("wb"),
        start_new_session=True,  # its renderer and GPU processes go with it
    )
    try:
        port_file = profile / "DevToolsActivePort"
        for _ in range(600):
            lines = port_file.read_text().splitlines() if port_file.exists() else []
            if len(lines) >= 2:
                break
            if process.returncode is not None:
                raise AssertionError(f"chromium exited with {process.returncode}: see {profile / 'chromium.log'}")
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("chromium did not open its DevTools port within 60 s")
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(f"ws://127.0.0.1:{lines[0]}{lines[1]}", max_msg_size=0) as ws,
        ):
            browser = Browser(ws)
            try:
                yield browser
            finally:
                browser._reader.cancel()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await asyncio.wait_for(process.wait(), 30)
