"""UI benchmark: the real `jangar` process against elia-chat, on the same 100,000-message data set.

Both programs run in a pseudo-terminal of 120×40 (`ptyapp.PtyApp`), as a person's terminal would
run them, and every time is read off the terminal output stream:

- startup: from spawning the process to the first frame that shows the session list (the second
  newest session's title, which only the list shows, reaching the terminal);
- open: from the key that selects the 10,000-message session to its newest message (a marker
  word in it) reaching the terminal;
- memory: RSS of the process (psutil) with that session open;
- the floor: `floor_app.py` (a one-`Static` Textual app that imports pydantic and defines a model),
  started the same way right after each of Jangar's runs, so that on the same minutes the report
  separates what the stack costs from what Jangar adds;
- work orders (Jangar only): ctrl+l in the work-order form ("save and launch") to the new row
  showing `submitted`, against a real Temporal dev server with no worker polling the task queue
  (so nothing moves the work order past `submitted`).

Jangar runs with TEMPORAL_ADDRESS set, so it never starts its embedded dev server, and with
JANGAR_EMBEDDED_WORKER=false. For startup it is measured twice: Temporal configured on a closed
port (nothing answers) and Temporal up; the app starts Temporal's runtime after the first frame
either way, so both should match.

Prints a markdown table and writes `bench/results/ui.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import elia_side
import jangar_side
from dataset import LONG_SESSION_MESSAGES, MESSAGES, SESSIONS, last_marker, title
from ptyapp import PtyApp
from stats import percentile

from jangar_tui.orchestration.devserver import DevServer, free_port

RESULTS = BENCH / "results" / "ui.json"
COLS, ROWS = 120, 40

# What each run waits for on screen.
LIST_MARKER = title(1)  # only the session list shows the second session's title
LONG_MARKER = last_marker(0)  # the first word of the long session's newest message
OTHER_MARKER = last_marker(1)

DOWN, UP = "\x1b[B", "\x1b[A"
TAB, PAGE_UP = "\t", "\x1b[5~"
CTRL_E, CTRL_L, CTRL_O, CTRL_U = "\x05", "\x0c", "\x0f", "\x15"

TARGETS = {"startup_s": 0.5, "open_s": 0.100, "rss_mb": 150.0, "work_order_p95_s": 0.200}


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def p95(values: list[float]) -> float | None:
    return percentile(values, 95) if values else None


def machine_speed_ms() -> float:
    """A fixed pure-Python workload, timed: how fast this machine runs Python right now.

    On the shared 2-core machines here the same loop takes from ~120 to ~190 ms from one minute
    to the next, and every time above moves with it; the report shows its spread next to them.
    """
    t0 = time.perf_counter()
    total = 0
    for i in range(1_000_000):
        total += i * i
    return (time.perf_counter() - t0) * 1000


SPEED_CHECKS: list[float] = []


def settle(app: PtyApp, quiet_s: float = 0.3, limit_s: float = 5.0) -> None:
    """Wait until the screen has been still for `quiet_s` (the app finished its current redraw)."""
    deadline = time.monotonic() + limit_s
    last = app.mark()
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = app.mark()
        if now == last:
            return
        last = now


# --- Jangar ----------------------------------------------------------------------------------


def jangar_run(
    data_dir: Path, temporal_address: str, *, with_open: bool, tree: Path | None = None, scroll_pages: int = 0
) -> dict[str, Any]:
    """One fresh process: startup; with `with_open`, also reopen the long session and take RSS;
    with `scroll_pages`, then page up through its history that many times (see `scroll`)."""
    speed_ms = machine_speed_ms()
    SPEED_CHECKS.append(speed_ms)
    app = PtyApp(
        jangar_side.argv(tree), jangar_side.environ(data_dir, temporal_address, tree=tree), cols=COLS, rows=ROWS
    )
    t0 = app.start()
    try:
        out: dict[str, Any] = {
            "startup_s": app.wait_for(LIST_MARKER, 60) - t0,
            "startup_cpu_s": app.cpu_seconds(),
            "first_output_s": app.first_output_at() - t0,
            "speed_check_ms": speed_ms,
        }
        # The newest session (the long one) is chosen on start: when does its newest page show?
        try:
            out["auto_open_newest_shown_s"] = app.wait_for(LONG_MARKER, 3) - t0
        except TimeoutError:
            out["auto_open_newest_shown_s"] = None
        if not with_open:
            return out
        settle(app)
        app.send(DOWN)  # to the next session ...
        app.wait_for(OTHER_MARKER, 30)
        settle(app)
        mark = app.mark()
        cpu = app.cpu_seconds()
        pressed = app.send(UP)  # ... and back: the long session opens afresh
        out["open_s"] = app.wait_for(LONG_MARKER, 30, since=mark) - pressed
        out["open_cpu_s"] = app.cpu_seconds() - cpu
        settle(app)
        own, tree = app.rss_bytes()
        out["rss_mb"], out["rss_tree_mb"] = own / 2**20, tree / 2**20
        if scroll_pages:
            out.update(scroll(app, scroll_pages))
        return out
    finally:
        app.close()


def scroll(app: PtyApp, pages: int) -> dict[str, Any]:
    """Page up through the open session's history: each key to the repaint it causes, and the CPU
    the app spent on all of them. Reaching the top of what is loaded asks for older messages,
    which are rendered as they arrive (every message goes through the sanitizer once)."""
    app.send(TAB)  # the transcript, from the session list
    settle(app)
    cpu = app.cpu_seconds()
    started = time.perf_counter()
    latencies = []
    for _ in range(pages):
        mark = app.mark()
        pressed = app.send(PAGE_UP)
        latencies.append(app.wait_output(10, since=mark) - pressed)
        settle(app, quiet_s=0.05)
    return {
        "scroll_page_s": latencies,
        "scroll_cpu_s": app.cpu_seconds() - cpu,
        "scroll_wall_s": time.perf_counter() - started,
    }


def floor_run(data_dir: Path) -> tuple[float, float]:
    """Startup of `floor_app.py` (spawn to its one line, Jangar's marker, on screen), speed check."""
    speed_ms = machine_speed_ms()
    argv = [str(jangar_side.REPO / ".venv" / "bin" / "python"), str(BENCH / "floor_app.py"), LIST_MARKER]
    app = PtyApp(argv, jangar_side.environ(data_dir, "127.0.0.1:1"), cols=COLS, rows=ROWS)
    t0 = app.start()
    try:
        return app.wait_for(LIST_MARKER, 60) - t0, speed_ms
    finally:
        app.close()


def jangar_runs(
    data_dir: Path, temporal_address: str, runs: int, *, with_open: bool, with_floor: bool = False
) -> dict[str, list[Any]]:
    merged: dict[str, list[Any]] = {}
    for run in range(runs):
        out = jangar_run(data_dir, temporal_address, with_open=with_open)
        if with_floor:
            out["floor_startup_s"], out["floor_speed_check_ms"] = floor_run(data_dir)
        for key, value in out.items():
            merged.setdefault(key, []).append(value)
        log(
            f"  jangar run {run + 1}/{runs}: startup {out['startup_s']:.3f}s"
            + (f", open {out['open_s'] * 1000:.1f}ms, rss {out['rss_mb']:.0f}MB" if with_open else "")
            + (f", floor {out['floor_startup_s']:.3f}s" if with_floor else "")
        )
    return merged


def jangar_work_orders(
    data_dir: Path, temporal_address: str, presses: int, warmup: int, tree: Path | None = None
) -> dict[str, Any]:
    """ctrl+o, a unique title, ctrl+l: time ctrl+l -> the new row shown `submitted`.

    An attempt whose form did not take the typed title, or whose ctrl+l did not produce the row,
    is counted as a failure (with the screen's last words), the form closed, and the press redone
    with a new title; they are reported, not hidden.
    """
    times: list[float] = []
    cpus: list[float] = []
    warm: list[float] = []
    failures: list[str] = []
    app = PtyApp(
        jangar_side.argv(tree), jangar_side.environ(data_dir, temporal_address, tree=tree), cols=COLS, rows=ROWS
    )
    app.start()
    try:
        app.wait_for(LIST_MARKER, 60)
        app.wait_for("● up", 60)  # the status line: the launcher reached Temporal
        settle(app)
        attempt = 0
        while len(warm) + len(times) < warmup + presses:
            if len(failures) > 5:
                raise RuntimeError(f"too many failed work-order attempts: {failures}")
            name = f"wo-bench-{attempt:03d}"
            attempt += 1
            try:
                shown, cpu = _launch_one(app, name)
            except TimeoutError as error:
                refused = "A title is required" in app.text()[-6000:]
                failures.append(
                    (f"{name}: form said 'A title is required'; " if refused else f"{name}: ") + str(error)[:500]
                )
                app.send("\x1b")  # close the form if it is still open
                settle(app, 0.5)
                continue
            if len(warm) < warmup:
                warm.append(shown)
            else:
                times.append(shown)
                cpus.append(cpu)
            settle(app, 0.2)
    finally:
        app.close()
    return {"submitted_shown_s": times, "submitted_cpu_s": cpus, "warmup_s": warm, "failed_attempts": failures}


def _launch_one(app: PtyApp, name: str) -> tuple[float, float]:
    """One work order through the form; (ctrl+l -> `submitted` shown, CPU the app used meanwhile)."""
    mark = app.mark()
    app.send(CTRL_O)
    app.wait_for("New work order from", 10, since=mark)
    settle(app, 0.1)
    # One key per write: a burst of control keys and text is not read as typing.
    for key in (CTRL_E, CTRL_U):
        app.send(key)
        settle(app, 0.1)
    app.send(name)
    app.wait_for(name, 5, since=mark)
    settle(app, 0.1)
    mark = app.mark()
    cpu = app.cpu_seconds()
    pressed = app.send(CTRL_L)
    shown = app.wait_for(f"submitted  {name}", 10, since=mark) - pressed
    return shown, app.cpu_seconds() - cpu


def start_temporal(work: Path) -> DevServer:
    server = DevServer(port=free_port(), db_path=None, log_path=work / "temporal.log")
    asyncio.run(server.start(60))
    return server


# --- elia ------------------------------------------------------------------------------------


def elia_runs(root: Path, runs: int, open_runs: int) -> dict[str, Any]:
    startup, startup_cpu, first_output, open_s, open_cpu, rss, rss_tree = [], [], [], [], [], [], []
    for run in range(runs):
        SPEED_CHECKS.append(machine_speed_ms())
        app = PtyApp(elia_side.argv(), elia_side.environ(root), cols=COLS, rows=ROWS)
        t0 = app.start()
        try:
            startup.append(app.wait_for(LIST_MARKER, 120) - t0)
            startup_cpu.append(app.cpu_seconds())
            first_output.append(app.first_output_at() - t0)
            if run < open_runs:
                settle(app)
                app.send(elia_side.FOCUS_LIST_KEYS)  # the long chat is the list's first row
                settle(app)
                mark = app.mark()
                cpu = app.cpu_seconds()
                pressed = app.send(elia_side.OPEN_KEYS)
                open_s.append(app.wait_for(LONG_MARKER, 300, since=mark) - pressed)
                open_cpu.append(app.cpu_seconds() - cpu)
                settle(app)
                own, tree = app.rss_bytes()
                rss.append(own / 2**20)
                rss_tree.append(tree / 2**20)
        finally:
            app.close()
        log(
            f"  elia run {run + 1}/{runs}: startup {startup[-1]:.3f}s"
            + (f", open {open_s[-1]:.1f}s, rss {rss[-1]:.0f}MB" if run < open_runs else "")
        )
    return {
        "startup_s": startup,
        "startup_cpu_s": startup_cpu,
        "first_output_s": first_output,
        "open_s": open_s,
        "open_cpu_s": open_cpu,
        "rss_mb": rss,
        "rss_tree_mb": rss_tree,
    }


# --- report ----------------------------------------------------------------------------------


def _fmt(value: float | str | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    if unit == "ms" and value < 10:
        return f"{value * 1000:.1f} ms"
    if unit == "ms":
        unit = "s"
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    return f"{value:.0f} MB"


def _ratio(a: float | str | None, b: float | str | None) -> str:
    if not isinstance(a, float) or not isinstance(b, float) or b == 0:
        return "n/a"
    ratio = a / b
    return f"{ratio:.2f}" if ratio >= 0.1 else f"{ratio:.2g} (1/{1 / ratio:,.0f})"


def summary(results: dict[str, Any]) -> list[dict[str, Any]]:
    j, e = results["jangar"], results.get("elia") or {}
    rows = []

    def row(name: str, target: str, unit: str, jv: float | str | None, ev: float | None, ok: bool | None) -> None:
        rows.append(
            {
                "metric": name,
                "target": target,
                "unit": unit,
                "jangar": jv,
                "elia": ev,
                "ratio": jv / ev if isinstance(jv, float) and isinstance(ev, float) and ev else None,
                "met": ok,
            }
        )

    def median_of(part: dict[str, Any], key: str) -> float | None:
        return median([v for v in part.get(key, []) if v is not None])

    js, es = median_of(j, "startup_s"), median_of(e, "startup_s")
    row(
        f"start → session list shown, median of {len(j['startup_s'])} (elia {len(e.get('startup_s', []))})",
        "≤ 0.5 s",
        "s",
        js,
        es,
        None if js is None else js <= TARGETS["startup_s"],
    )
    if j.get("startup_temporal_up_s"):
        jt = median(j["startup_temporal_up_s"])
        row(
            f"  same, Temporal up (median of {len(j['startup_temporal_up_s'])})",
            "≤ 0.5 s",
            "s",
            jt,
            None,
            jt <= TARGETS["startup_s"],
        )
    # The machine flips between two speeds within seconds; the speed check before each run tells
    # which one the run started in, so the runs are also reported by halves of it.
    if halves := _by_speed(j.get("speed_check_ms", []), j["startup_s"]):
        row(
            f"  after the faster / slower half of the speed checks ({halves[2]})",
            "",
            "s",
            f"{halves[0]:.3f} / {halves[1]:.3f} s",
            None,
            None,
        )
    floor = j.get("floor_startup_s", [])
    if floor:
        row(
            f"  the stack's floor, `floor_app.py`, run after each (median of {len(floor)})",
            "",
            "s",
            median(floor),
            None,
            None,
        )
        if halves := _by_speed(j.get("floor_speed_check_ms", []), floor):
            row(
                f"    after the faster / slower half of its speed checks ({halves[2]})",
                "",
                "s",
                f"{halves[0]:.3f} / {halves[1]:.3f} s",
                None,
                None,
            )
    row(
        "  CPU the process used until then (median)",
        "",
        "s",
        median_of(j, "startup_cpu_s"),
        median_of(e, "startup_cpu_s"),
        None,
    )
    row("  first output byte (median)", "", "s", median_of(j, "first_output_s"), median_of(e, "first_output_s"), None)
    auto = j.get("auto_open_newest_shown_s", [])
    shown = [v for v in auto if v is not None]
    if auto:
        missing = len(auto) - len(shown)
        value: float | str | None = median(shown) if not missing else f"not within 3 s in {missing}/{len(auto)} runs"
        row(
            "  the newest session, chosen on start: its newest message shown (from process start)",
            "",
            "s",
            value,
            None,
            None,
        )
    jo, eo = median_of(j, "open_s"), median_of(e, "open_s")
    row(
        f"open 10k-message session → newest message shown, median of {len(j['open_s'])} "
        f"(elia {len(e.get('open_s', []))})",
        "≤ 100 ms",
        "ms",
        jo,
        eo,
        None if jo is None else jo <= TARGETS["open_s"],
    )
    row(
        "  CPU the process used meanwhile (median)",
        "",
        "ms",
        median_of(j, "open_cpu_s"),
        median_of(e, "open_cpu_s"),
        None,
    )
    jm, em = (max(j["rss_mb"]) if j["rss_mb"] else None), (max(e["rss_mb"]) if e.get("rss_mb") else None)
    row("RSS with it open (max over runs)", "≤ 150 MB", "MB", jm, em, None if jm is None else jm <= TARGETS["rss_mb"])
    wo = j.get("work_orders", {}).get("submitted_shown_s", [])
    if wo:
        jw = p95(wo)
        row(
            f"ctrl+l → new work order shown submitted, p95 of {len(wo)}",
            "≤ 200 ms",
            "ms",
            jw,
            None,
            jw <= TARGETS["work_order_p95_s"],
        )
        row("  same, median", "", "ms", median(wo), None, None)
        cpu = j["work_orders"].get("submitted_cpu_s", [])
        if cpu:
            row(
                "  CPU the process used meanwhile, p95 / median",
                "",
                "ms",
                f"{p95(cpu) * 1000:.1f} / {median(cpu) * 1000:.1f} ms",
                None,
                None,
            )
    return rows


def _by_speed(checks: list[float], values: list[float]) -> tuple[float, float, str] | None:
    """Medians of `values` over the runs after the faster and the slower half of `checks`."""
    if len(checks) < 2 or len(checks) != len(values):
        return None
    ordered = sorted(zip(checks, values, strict=True))
    half = len(ordered) // 2
    fast, slow = ordered[:half], ordered[-half:]
    spans = f"{fast[0][0]:.0f}–{fast[-1][0]:.0f} / {slow[0][0]:.0f}–{slow[-1][0]:.0f} ms"
    return statistics.median(v for _, v in fast), statistics.median(v for _, v in slow), spans


def speed_line(results: dict[str, Any]) -> str:
    checks = results.get("machine", {}).get("speed_check_ms", [])
    if not checks:
        return ""
    return (
        f"Machine speed check before each run (1,000,000-step Python loop): median {median(checks):.0f} ms, "
        f"{min(checks):.0f}–{max(checks):.0f} ms over the run."
    )


def table(rows: list[dict[str, Any]], elia_version: str) -> str:
    lines = [
        "## UI (1,000 sessions, 100,000 messages, one session of 10,000; 120×40 pty)",
        "",
        f"| metric | target | Jangar | elia-chat {elia_version} | Jangar / elia | met |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        met = "" if r["met"] is None else ("yes" if r["met"] else "**no**")
        lines.append(
            f"| {r['metric']} | {r['target']} | {_fmt(r['jangar'], r['unit'])} | "
            f"{_fmt(r['elia'], r['unit'])} | {_ratio(r['jangar'], r['elia'])} | {met} |"
        )
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=11, help="fresh Jangar processes (startup + open + RSS each)")
    parser.add_argument("--elia-runs", type=int, default=7, help="fresh elia processes (startup each)")
    parser.add_argument(
        "--elia-open-runs",
        type=int,
        default=3,
        help="of those, how many also open the long chat (elia needs about a minute for it)",
    )
    parser.add_argument("--work-orders", type=int, default=30, help="measured work-order launches")
    parser.add_argument("--skip-elia", action="store_true")
    parser.add_argument("--skip-temporal", action="store_true", help="no dev server: no work-order numbers")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--report", type=Path, metavar="JSON", help="only print the table of an earlier run")
    args = parser.parse_args(argv)
    if args.report:
        earlier = json.loads(args.report.read_text())
        print(table(summary(earlier), elia_side.ELIA_VERSION))
        print(speed_line(earlier))
        return 0

    started = time.monotonic()
    # Measure the steady state: Jangar's modules as bytecode, as after any run (and as `make run`
    # leaves them), not recompiled on every start where PYTHONDONTWRITEBYTECODE is set.
    compileall.compile_dir(str(BENCH.parent / "jangar_tui"), quiet=1)
    work = Path(tempfile.mkdtemp(prefix="jangar-bench-ui-"))
    results: dict[str, Any] = {
        "data": {"sessions": SESSIONS, "messages": MESSAGES, "long_session_messages": LONG_SESSION_MESSAGES},
        "terminal": f"{COLS}x{ROWS}",
        "machine": {"python": platform.python_version(), "cpus": _cpus()},
        "notes": [],
    }
    server: DevServer | None = None
    try:
        now_ms = int(time.time() * 1000)
        jangar_dir = work / "jangar"
        log("seeding Jangar's embedded store ...")
        results["jangar_seed"] = _timed(lambda: jangar_side.seed(jangar_dir, now_ms))
        jangar_side.verify(jangar_dir)

        closed = f"127.0.0.1:{free_port()}"  # nothing listens there
        log(f"Jangar: {args.runs} runs, Temporal configured at a closed port ({closed}) ...")
        results["jangar"] = jangar_runs(jangar_dir, closed, args.runs, with_open=True, with_floor=True)

        if not args.skip_temporal:
            log("starting a Temporal dev server ...")
            server = start_temporal(work)
            log(f"Jangar: {args.runs} startups with Temporal up at {server.address} ...")
            up = jangar_runs(jangar_dir, server.address, args.runs, with_open=False)
            results["jangar"]["startup_temporal_up_s"] = up["startup_s"]
            log(f"Jangar: {args.work_orders} work-order launches ...")
            results["jangar"]["work_orders"] = jangar_work_orders(jangar_dir, server.address, args.work_orders, 2)
            server.stop()
            server = None
            if results["jangar"]["work_orders"]["failed_attempts"]:
                results["notes"].append(
                    f"Jangar: {len(results['jangar']['work_orders']['failed_attempts'])} work-order attempt(s) failed "
                    "and were redone (see work_orders.failed_attempts in the JSON)."
                )

        elia_version = elia_side.ELIA_VERSION
        if not args.skip_elia:
            elia_side.ensure_installed(log)
            elia_root = work / "elia"
            log("seeding elia's database ...")
            results["elia_seed"] = _timed(lambda: elia_side.seed(elia_root, now_ms))
            log(f"elia: {args.elia_runs} runs ({args.elia_open_runs} opening the long chat) ...")
            results["elia"] = elia_runs(elia_root, args.elia_runs, args.elia_open_runs)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)

    results["machine"]["speed_check_ms"] = [round(v, 1) for v in SPEED_CHECKS]
    results["summary"] = summary(results)
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(table(results["summary"], elia_version))
    print(f"\n{speed_line(results)}")
    for note in results["notes"]:
        print(f"\nNote: {note}")
    print(
        f"\n(raw numbers: {args.out.relative_to(BENCH.parent) if args.out.is_relative_to(BENCH.parent) else args.out};"
        f" {results['elapsed_s']:.0f} s)"
    )
    return 0


def _timed(fn: Callable[[], dict[str, int]]) -> dict[str, Any]:
    t0 = time.perf_counter()
    counts = fn()
    return {**counts, "seconds": round(time.perf_counter() - t0, 2)}


def _cpus() -> int | None:
    return os.cpu_count()


if __name__ == "__main__":
    sys.exit(main())
