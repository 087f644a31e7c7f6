"""`jangar serve` in headless Chromium: a tab's open → the app's first screen, and key → echo.

    .venv/bin/python bench/bench_serve.py [--tabs N] [--keys N]

A `jangar serve` on a free loopback port, an embedded data dir with 100 sessions, no Temporal (a
configured address nothing answers, so no tab starts a dev server: what is timed is the page and
the app). Chromium (Debian's, /usr/bin/chromium) is driven over CDP by tests/e2e/browser.py.

- open: N tabs one after another, each from Page.navigate until the page has received the session
  list's title ("Sessions (100)"): page, textual.js, websocket, a `jangar` process started for the
  tab, its first frame. Each tab is closed before the next.
- memory: with that one tab open, the RSS of the serve and of the tab's `jangar`.
- echo: in one tab, with the message input focused, K characters typed one at a time, each timed
  from Input.dispatchKeyEvent until the page has received the text typed so far (the input
  redrawn with it). What the browser's user waits for, minus xterm.js's drawing of it.

Prints a markdown table and writes bench/results/serve.json. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

import psutil
from browser import Tab, chromium, chromium_available
from stats import percentile

from jangar_tui.store.sqlite.store import LocalStore

RESULTS = ROOT / "bench" / "results"
SESSIONS = 100


async def seed(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    store = LocalStore(data_dir / "jangar.sqlite3")
    try:
        for n in range(SESSIONS):
            await store.create_session("bench", f"session {n}")
    finally:
        await store.close()


def start_serve(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONVEX_", "JANGAR_", "TEMPORAL_", "TMUX"))}
    env.update(
        HOME=str(work / "home"),
        JANGAR_DATA_DIR=str(work / "data"),
        JANGAR_USER="bench",
        TEMPORAL_ADDRESS="127.0.0.1:9",
    )
    out = work / "serve.out"
    process = subprocess.Popen(
        [sys.executable, "-m", "jangar_tui", "serve", "--port", "0"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=out.open("wb"),
        stderr=(work / "serve.err").open("wb"),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"open (http://\S+)", out.read_text())
        if found:
            return process, found.group(1)
        time.sleep(0.05)
    raise SystemExit("jangar serve printed no URL within 60 s")


async def until_received(tab: Tab, needle: bytes, since: int, timeout_s: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout_s
    while needle not in tab.received[since:]:
        if time.perf_counter() > deadline:
            raise SystemExit(f"the page never received {needle!r}")
        await asyncio.sleep(0.002)


def tab_rss_mb(serve_pid: int) -> tuple[float, float]:
    """RSS of the serve itself and of the tabs' `jangar` processes (its children), in MB."""
    serve = psutil.Process(serve_pid)
    tabs = sum(child.memory_info().rss for child in serve.children(recursive=True))
    return serve.memory_info().rss / 1e6, tabs / 1e6


async def measure(url: str, profile: Path, tabs: int, keys: int, serve_pid: int) -> dict[str, list[float]]:
    opens: list[float] = []
    echoes: list[float] = []
    memory: list[float] = []
    async with chromium(profile) as browser:
        for _ in range(tabs):
            tab = await browser.new_tab()
            started = time.perf_counter()
            await tab.navigate(url)
            await until_received(tab, f"Sessions ({SESSIONS})".encode(), 0)
            opens.append((time.perf_counter() - started) * 1000)
            await tab.close()
            print(f"open: {opens[-1]:.0f} ms", file=sys.stderr, flush=True)
        tab = await browser.new_tab()
        await tab.navigate(url)
        await until_received(tab, f"Sessions ({SESSIONS})".encode(), 0)
        await asyncio.sleep(1.0)  # the app settles (its first snapshots)
        memory.extend(tab_rss_mb(serve_pid))
        await tab.focus_terminal()
        await tab.press("enter")  # from the session list to the message input
        await asyncio.sleep(0.5)
        typed = ""
        for n in range(keys):
            character = "abcdefghij"[n % 10]
            typed += character
            since = len(tab.received)
            started = time.perf_counter()
            await tab.press(character)
            await until_received(tab, typed[-8:].encode(), since)
            echoes.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.05)  # a fast typist, not a paste
        await tab.close()
    return {"open_ms": opens, "echo_ms": echoes, "rss_mb": memory}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tabs", type=int, default=7)
    parser.add_argument("--keys", type=int, default=60)
    args = parser.parse_args()
    if not chromium_available():
        print("bench_serve: /usr/bin/chromium is not installed; skipped", flush=True)
        return 0
    with tempfile.TemporaryDirectory(prefix="jangar-bench-serve-") as tmp:
        work = Path(tmp)
        (work / "home").mkdir()
        asyncio.run(seed(work / "data"))
        process, url = start_serve(work)
        try:
            figures = asyncio.run(measure(url, work / "chromium", args.tabs, args.keys, process.pid))
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)
    load = os.getloadavg()[0]
    opens, echoes = figures["open_ms"], figures["echo_ms"]
    print(f"\n### jangar serve in headless Chromium (load average {load:.1f})\n")
    print("| what | median | p95 | max | n |")
    print("| --- | --- | --- | --- | --- |")
    for name, samples in (("tab open → first screen", opens), ("key → echo received", echoes)):
        print(
            f"| {name} | {statistics.median(samples):.0f} ms | {percentile(samples, 95):.0f} ms "
            f"| {max(samples):.0f} ms | {len(samples)} |"
        )
    serve_mb, tab_mb = figures["rss_mb"]
    print(f"\nRSS with one tab open: the serve {serve_mb:.0f} MB, the tab's jangar {tab_mb:.0f} MB.")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "serve.json").write_text(json.dumps({"load": load, **figures}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
