"""Chat turns on the real Codex CLI, measured side by side in one run (figures: bench/README.md).

1. Enter → the first token on screen, over 30 turns: the app under Textual's Pilot (headless), a
   real Temporal dev server, a warm in-process worker (as in the embedded default), the real codex
   binary, the stand-in model server (tests/codex_standin.py) answering at once. "On screen" is
   the moment the app hands the terminal the frame that holds the token (`App._display`, which a
   real terminal's driver writes out at once), driven by the app's own refresh timer. Beside it,
   the time a polling loop (`pilot.pause` + reading the compositor, the method of earlier runs)
   sees the token: that loop's own cost (each pause waits for every widget's queue to drain) is
   part of that figure, not of the app's.
2. Beside it, the same prompt through `codex exec --json` directly: process start → its first
   event, and → the agent_message event (exec mode has no token deltas), 30 runs; the ratio.
3. While a 2,000-delta reply (20 KB) streams at 200 deltas/s: key → its echo on screen in the
   message input (p50/p95 over the keys typed meanwhile), and this process's CPU share over the
   stream (the UI and the in-process worker: the embedded default's one process).
4. Write amplification of that reply: bytes sent to the store (content + metadata, every write)
   ÷ the reply's bytes, and the number of writes.

`.venv/bin/python bench/bench_chat.py [--turns N]`; writes bench/results/chat.json. Nothing but
127.0.0.1 is contacted (the stand-in's CODEX_HOME config turns analytics, plugins, retries off).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from codex_standin import CODEX_BIN, Reply, start_standin, write_codex_home
from stats import percentile

from jangar_tui.config import load_settings
from jangar_tui.models import ChatMessage, Role
from jangar_tui.orchestration.devserver import DevServer, free_port
from jangar_tui.orchestration.launcher import TemporalLauncher
from jangar_tui.orchestration.worker import run_worker
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore


class CountingStore(LocalStore):
    """Counts what message writes send to the store (content + metadata JSON), for amplification."""

    bytes_written = 0
    writes = 0

    def _count(self, content: str | None, metadata: Any) -> None:
        self.writes += 1
        self.bytes_written += len((content or "").encode())
        if metadata is not None:
            self.bytes_written += len(json.dumps(metadata, separators=(",", ":"), ensure_ascii=False).encode())

    async def append_message(self, sessionId: str, role: Role | str, content: str, metadata: Any = None) -> ChatMessage:
        if role in (Role.ASSISTANT, "assistant"):
            self._count(content, metadata)
        return await super().append_message(sessionId, role, content, metadata)

    async def update_message(self, messageId: str, content: str | None = None, metadata: Any = None) -> ChatMessage:
        self._count(content, metadata)
        return await super().update_message(messageId, content, metadata)


def pct(values: list[float], q: float) -> float:
    """bench/stats.py's nearest-rank percentile, for q given as a fraction."""
    return percentile(values, q * 100)


def screen(app: Any) -> str:
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


async def wait_screen(pilot: Any, app: Any, needle: str, timeout_s: float = 30.0) -> float:
    """When a polling loop sees `needle` on the screen (each round lets the app settle first)."""
    start = time.perf_counter()
    while needle not in screen(app):
        if time.perf_counter() - start > timeout_s:
            raise TimeoutError(f"{needle!r} never appeared")
        await pilot.pause(0.002)
    return time.perf_counter()


class Frames:
    """Records when the app hands the terminal a frame holding a text it was asked to watch for."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.needle: str | None = None
        self.shown_at: float | None = None
        self.shown = asyncio.Event()
        display = app._display

        def watching_display(screen_: Any, renderable: Any) -> None:
            display(screen_, renderable)
            if self.needle is not None and renderable is not None and self.shown_at is None:
                at = time.perf_counter()
                if self.needle in screen(app):
                    self.shown_at = at
                    self.shown.set()

        app._display = watching_display

    def watch(self, needle: str) -> None:
        self.needle, self.shown_at = needle, None
        self.shown.clear()

    async def wait(self, timeout_s: float = 30.0) -> float:
        await asyncio.wait_for(self.shown.wait(), timeout_s)
        assert self.shown_at is not None
        return self.shown_at


async def wait_reply(store: LocalStore, session_id: str, message_id: str, status: str) -> ChatMessage:
    for _ in range(3000):
        for m in (await store.list_messages(session_id, 20)).page:
            meta = m.metadata if isinstance(m.metadata, dict) else {}
            if meta.get("replyTo") == message_id and meta.get("status") == status:
                return m
        await asyncio.sleep(0.01)
    raise TimeoutError("the reply never completed")


async def ui_bench(turns: int, work: Path, base_url: str, standin: Any) -> dict[str, Any]:
    from textual import events

    from jangar_tui.ui.app import JangarApp
    from jangar_tui.ui.widgets.chat.composer import ComposerInput

    server = DevServer(port=free_port(), db_path=None, log_path=work / "temporal.log")
    await server.start()
    settings = load_settings(
        {
            "JANGAR_DATA_DIR": str(work / "data"),
            "TEMPORAL_ADDRESS": server.address,
            "JANGAR_TASK_QUEUE": "bench-chat",
            "JANGAR_USER": "bench",
            "JANGAR_BACKEND": "local",
        }
    )
    store = CountingStore(settings)
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, store, stop=stop))
    result: dict[str, Any] = {}
    try:
        service = JangarService(store, settings.user, TemporalLauncher(settings, store))
        session = await service.new_session("Bench")
        app = JangarApp(service)
        async with app.run_test(size=(120, 40)) as pilot:
            composer = app.screen.query_one(ComposerInput)
            composer.focus()
            # Warm-up: the worker's first workflow task and codex's first start are not counted.
            standin.script(Reply(text="W000 warm-up reply.", deltas=2))
            await pilot.press(*"warm up", "enter")
            await wait_screen(pilot, app, "W000")
            frames = Frames(app)
            first_token: list[float] = []
            first_token_polled: list[float] = []
            in_store: list[float] = []
            for n in range(1, turns + 1):
                mark = f"T{n:03d}"
                standin.script(Reply(text=f"{mark} and the rest of this reply.", deltas=2))
                await pilot.press(*f"question {n}")
                frames.watch(mark)
                start = time.perf_counter()
                await pilot.press("enter")
                shown = await frames.wait()
                first_token.append((shown - start) * 1000)
                seen = await wait_screen(pilot, app, mark)
                first_token_polled.append((seen - start) * 1000)
                user = next(m for m in (await store.list_messages(session.id, 5)).page if m.role == Role.USER)
                reply = await wait_reply(store, session.id, user.id, "completed")
                # The worker's share: the user message stored → the reply's first write.
                in_store.append(float(reply.createdAt - user.createdAt))
            result["first_token_ms"] = first_token
            result["first_token_polled_ms"] = first_token_polled
            result["store_first_write_ms"] = in_store
            print(
                f"enter -> first token: p50 {pct(first_token, 0.5):.0f} ms, p95 {pct(first_token, 0.95):.0f} ms",
                file=sys.stderr,
            )

            # A 2,000-delta reply at 200 deltas/s while the operator types.
            text = "".join(f"{n % 10}" * 10 for n in range(2000))  # 20,000 bytes
            standin.script(Reply(text=text, deltas=2000, delay_s=1 / 200))
            store.writes = store.bytes_written = 0
            await pilot.press(*"stream", "enter")
            await wait_screen(pilot, app, "0000000000")
            cpu0 = resource.getrusage(resource.RUSAGE_SELF)
            wall0 = time.perf_counter()
            echoes: list[float] = []
            user = next(m for m in (await store.list_messages(session.id, 5)).page if m.role == Role.USER)
            typed = ""
            while True:
                latest = (await store.list_messages(session.id, 3)).page
                if any(
                    (m.metadata or {}).get("status") == "completed"
                    for m in latest
                    if m.role == Role.ASSISTANT and (m.metadata or {}).get("replyTo") == user.id
                ):
                    break
                char = "жюя"[len(typed) % 3]  # letters that appear nowhere else on screen
                typed += char
                # The key goes in as the terminal driver sends it (Pilot.press would also wait for
                # the app to go idle, which a stream of snapshots delays), then the screen is read
                # until the input shows it.
                start = time.perf_counter()
                app.post_message(events.Key(char, char))
                while typed[-6:] not in screen(app):
                    await asyncio.sleep(0.001)
                echoes.append((time.perf_counter() - start) * 1000)
                await pilot.pause(0.05)
                if len(typed) >= 30:  # the input stays on one line
                    composer.clear()
                    typed = ""
            wall = time.perf_counter() - wall0
            cpu1 = resource.getrusage(resource.RUSAGE_SELF)
            cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
            result["echo_ms"] = echoes
            result["cpu_share"] = cpu / wall
            result["stream_s"] = wall
            result["writes"] = store.writes
            result["bytes_written"] = store.bytes_written
            result["reply_bytes"] = len(text.encode())
            print(
                f"echo p50 {pct(echoes, 0.5):.1f} ms p95 {pct(echoes, 0.95):.1f} ms over {len(echoes)} keys; "
                f"cpu {100 * cpu / wall:.0f}% of one core over {wall:.1f} s; "
                f"{store.writes} writes, amplification {store.bytes_written / len(text.encode()):.1f}x",
                file=sys.stderr,
            )
    finally:
        stop.set()
        await worker
        await store.close()
        server.stop()
    return result


def exec_bench(runs: int, work: Path, standin: Any, env: dict[str, str]) -> dict[str, list[float]]:
    first_event: list[float] = []
    first_message: list[float] = []
    cwd = work / "exec"
    cwd.mkdir(exist_ok=True)
    for n in range(runs + 1):
        standin.script(Reply(text=f"E{n:03d} and the rest of this reply.", deltas=2))
        start = time.perf_counter()
        proc = subprocess.Popen(
            [str(CODEX_BIN), "exec", "--json", "--skip-git-repo-check", "-s", "read-only", f"question {n}"],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdout is not None
        got_first = got_message = None
        for line in proc.stdout:
            now = time.perf_counter()
            if got_first is None:
                got_first = now
            event = json.loads(line)
            if event.get("type") == "item.completed" and event["item"].get("type") == "agent_message":
                got_message = now
        proc.wait()
        if n == 0 or got_first is None or got_message is None:
            continue  # the first run warms the page cache, as the worker's warm-up does
        first_event.append((got_first - start) * 1000)
        first_message.append((got_message - start) * 1000)
    print(
        f"codex exec --json: first event p50 {pct(first_event, 0.5):.0f} ms, agent_message p50 {pct(first_message, 0.5):.0f} ms",
        file=sys.stderr,
    )
    return {"first_event_ms": first_event, "agent_message_ms": first_message}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jangar-bench-chat-") as tmp:
        work = Path(tmp)
        standin = start_standin()
        home = write_codex_home(work / "codex-home", standin.base_url)
        os.environ["CODEX_HOME"] = str(home)
        env = {**os.environ}
        try:
            exec_result = exec_bench(args.turns, work, standin, env)
            ui_result = asyncio.run(ui_bench(args.turns, work, standin.base_url, standin))
        finally:
            standin.close()
    ft = ui_result["first_token_ms"]
    fe, fm = exec_result["first_event_ms"], exec_result["agent_message_ms"]
    fp = ui_result["first_token_polled_ms"]
    summary = {
        "enter_to_first_token_ms": {"p50": pct(ft, 0.5), "p95": pct(ft, 0.95)},
        "enter_to_first_token_polled_ms": {"p50": pct(fp, 0.5), "p95": pct(fp, 0.95)},
        "codex_exec_first_event_ms": {"p50": pct(fe, 0.5), "p95": pct(fe, 0.95)},
        "codex_exec_agent_message_ms": {"p50": pct(fm, 0.5), "p95": pct(fm, 0.95)},
        "user_message_to_first_write_ms": {
            "p50": pct(ui_result["store_first_write_ms"], 0.5),
            "p95": pct(ui_result["store_first_write_ms"], 0.95),
        },
        "ratio_p50_vs_exec_first_event": pct(ft, 0.5) / pct(fe, 0.5),
        "ratio_p50_vs_exec_agent_message": pct(ft, 0.5) / pct(fm, 0.5),
        "echo_ms": {
            "p50": pct(ui_result["echo_ms"], 0.5),
            "p95": pct(ui_result["echo_ms"], 0.95),
            "keys": len(ui_result["echo_ms"]),
        },
        "cpu_share_one_core": ui_result["cpu_share"],
        "stream_s": ui_result["stream_s"],
        "writes": ui_result["writes"],
        "write_amplification": ui_result["bytes_written"] / ui_result["reply_bytes"],
        "load_average": os.getloadavg(),
        "turns": len(ft),
    }
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "chat.json").write_text(json.dumps({"summary": summary, "raw": {**ui_result, **exec_result}}, indent=1))
    print("| measure | p50 | p95 | target |")
    print("| --- | --- | --- | --- |")
    print(
        f"| Enter → first token on screen ({len(ft)} turns) | {pct(ft, 0.5):.0f} ms | {pct(ft, 0.95):.0f} ms | p95 ≤ 300 ms |"
    )
    print(
        f"| the same, seen by a polling loop (earlier runs' method) | {pct(fp, 0.5):.0f} ms | {pct(fp, 0.95):.0f} ms | |"
    )
    sw = ui_result["store_first_write_ms"]
    print(
        f"| of which: user message stored → the reply's first write | {pct(sw, 0.5):.0f} ms | {pct(sw, 0.95):.0f} ms | |"
    )
    print(f"| `codex exec --json`: start → first event | {pct(fe, 0.5):.0f} ms | {pct(fe, 0.95):.0f} ms | |")
    print(f"| `codex exec --json`: start → agent_message | {pct(fm, 0.5):.0f} ms | {pct(fm, 0.95):.0f} ms | |")
    print(
        f"| key → echo while 2,000 deltas stream at 200/s | {summary['echo_ms']['p50']:.1f} ms | {summary['echo_ms']['p95']:.1f} ms | p95 ≤ 50 ms |"
    )
    print(
        f"\nratio (p50) Jangar first token ÷ exec first event: {summary['ratio_p50_vs_exec_first_event']:.2f}×; "
        f"÷ exec agent_message: {summary['ratio_p50_vs_exec_agent_message']:.2f}× (target < 1.5×)"
    )
    print(
        f"CPU while streaming: {100 * summary['cpu_share_one_core']:.0f}% of one core over {summary['stream_s']:.1f} s"
    )
    print(f"20 KB reply: {summary['writes']} writes, write amplification {summary['write_amplification']:.1f}×")
    print(f"load average during the run: {summary['load_average']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
