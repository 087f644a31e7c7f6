"""This working tree against another commit, interleaved: startup, first chat, opening and scrolling
the 10,000-message session, ctrl+l → `submitted`.

The shared machines here change speed from one minute to the next (the fixed Python loop of
`bench_ui.machine_speed_ms` takes anywhere from 55 to 100 ms), so two benchmark runs made minutes
apart compare the minutes as much as the code. This runs both versions alternately, on the same
data in the same 120×40 pty as `bench_ui.py`, and reports each side's median and the median of
the per-pair ratios.

    .venv/bin/python bench/compare.py COMMIT [--pairs 12] [--open-pairs 8] [--scroll-pages 40]
                                             [--work-order-rounds 2] [--presses 20]

The other version is checked out with `git worktree` into a temporary directory and removed
afterwards; both have their bytecode compiled first. It must read the store this tree seeds (the
same schema version); the script refuses otherwise.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import bench_ui
import jangar_side

from jangar_tui.orchestration.devserver import free_port


def schema_version(tree: Path) -> int:
    """The store schema version of `tree`'s code, asked of that code in a fresh interpreter."""
    code = "from jangar_tui.store.sqlite.schema import SCHEMA_VERSION; print(SCHEMA_VERSION)"
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return int(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout)


def alternating(versions: dict[str, Path | None], turn: int) -> list[tuple[str, Path | None]]:
    """Both versions, the first one first on even turns: neither always runs right after the other."""
    order = list(versions.items())
    return order if turn % 2 == 0 else order[::-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("commit", help="the version to compare against (any git revision)")
    parser.add_argument("--pairs", type=int, default=12, help="startups of each version, alternating")
    parser.add_argument("--open-pairs", type=int, default=8, help="runs of each version opening the long session")
    parser.add_argument("--scroll-pages", type=int, default=40, help="page-ups through it in each of those runs")
    parser.add_argument("--work-order-rounds", type=int, default=2, help="ctrl+l series of each version, alternating")
    parser.add_argument("--presses", type=int, default=20, help="measured ctrl+l presses per series")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="jangar-compare-"))
    other = work / "other"
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet", str(other), args.commit], check=True
    )
    server = None
    try:
        if schema_version(other) != schema_version(REPO):
            raise SystemExit(
                f"compare: {args.commit} uses store schema {schema_version(other)}, this tree "
                f"{schema_version(REPO)}: it cannot open the data this tree seeds"
            )
        for tree in (REPO, other):
            compileall.compile_dir(str(tree / "jangar_tui"), quiet=1)
        versions: dict[str, Path | None] = {"this tree": None, args.commit: other}

        data = work / "data"
        bench_ui.log("seeding ...")
        jangar_side.seed(data, int(time.time() * 1000))
        jangar_side.verify(data)

        closed = f"127.0.0.1:{free_port()}"
        startup: dict[str, list[float]] = {name: [] for name in versions}
        newest: dict[str, list[float | None]] = {name: [] for name in versions}
        for pair in range(args.pairs):
            for name, tree in alternating(versions, pair):
                run = bench_ui.jangar_run(data, closed, with_open=False, tree=tree)
                startup[name].append(run["startup_s"])
                newest[name].append(run["auto_open_newest_shown_s"])
            bench_ui.log(
                f"  pair {pair + 1}/{args.pairs}: "
                + ", ".join(f"{name} {values[-1]:.3f}s" for name, values in startup.items())
            )

        opened: dict[str, list[dict[str, Any]]] = {name: [] for name in versions}
        for pair in range(args.open_pairs):
            for name, tree in alternating(versions, pair):
                opened[name].append(
                    bench_ui.jangar_run(data, closed, with_open=True, tree=tree, scroll_pages=args.scroll_pages)
                )
            bench_ui.log(
                f"  open pair {pair + 1}/{args.open_pairs}: "
                + ", ".join(f"{name} {runs[-1]['open_s'] * 1000:.0f}ms" for name, runs in opened.items())
            )

        launches: dict[str, list[list[float]]] = {name: [] for name in versions}
        if args.work_order_rounds:
            server = bench_ui.start_temporal(work)
            for round_no in range(args.work_order_rounds):
                for name, tree in alternating(versions, round_no):
                    copy = work / f"wo-{round_no}-{len(launches[name])}"
                    shutil.copytree(data, copy)
                    out = bench_ui.jangar_work_orders(copy, server.address, args.presses, 2, tree=tree)
                    launches[name].append(out["submitted_shown_s"])
                    shutil.rmtree(copy, ignore_errors=True)
                    bench_ui.log(f"  ctrl+l, {name}: p95 {bench_ui.p95(out['submitted_shown_s']) * 1000:.0f} ms")
    finally:
        if server is not None:
            server.stop()
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(other)], check=False)
        shutil.rmtree(work, ignore_errors=True)

    this, that = "this tree", args.commit
    ratios = [a / b for a, b in zip(startup[this], startup[that], strict=True)]
    print(f"## This tree against {that} (interleaved, 120×40 pty, 1,000 sessions / 100,000 messages)\n")
    print(f"| metric | {that} | this tree |")
    print("| --- | --- | --- |")
    print(
        f"| start → session list shown, median of {args.pairs} | {statistics.median(startup[that]) * 1000:.0f} ms | "
        f"{statistics.median(startup[this]) * 1000:.0f} ms (per pair: {statistics.median(ratios):.2f}×) |"
    )
    shown = {name: [v for v in values if v is not None] for name, values in newest.items()}
    missing = {name: len(newest[name]) - len(shown[name]) for name in newest}
    print(
        f"| start → the newest session's newest message shown, median | "
        f"{statistics.median(shown[that]) * 1000:.0f} ms | {statistics.median(shown[this]) * 1000:.0f} ms |"
        if shown[that] and shown[this]
        else "| start → newest message shown | n/a | n/a |"
    )
    if args.open_pairs:
        for line in open_rows(opened[that], opened[this], args.scroll_pages):
            print(line)
    for index in range(args.work_order_rounds):
        a, b = launches[that][index], launches[this][index]
        print(
            f"| ctrl+l → `submitted`, round {index + 1}: p95 / median of {args.presses} | "
            f"{bench_ui.p95(a) * 1000:.0f} / {statistics.median(a) * 1000:.0f} ms | "
            f"{bench_ui.p95(b) * 1000:.0f} / {statistics.median(b) * 1000:.0f} ms |"
        )
    if any(missing.values()):
        print(f"\nThe newest message was not shown within 3 s in: {missing}.")
    checks = bench_ui.SPEED_CHECKS
    print(
        f"\nMachine speed check before each startup: {min(checks):.0f}–{max(checks):.0f} ms "
        f"(median {statistics.median(checks):.0f} ms)."
    )
    return 0


def open_rows(that: list[dict[str, Any]], this: list[dict[str, Any]], pages: int) -> list[str]:
    """Table rows for opening and scrolling the long session: each side's median, and the median of
    the per-pair ratios (this / that), which cancels the minute-to-minute speed of the machine."""

    def row(label: str, unit: str, scale: float, values: Callable[[dict[str, Any]], float]) -> str:
        a, b = [values(run) for run in that], [values(run) for run in this]
        ratio = statistics.median(y / x for x, y in zip(a, b, strict=True))
        return (
            f"| {label}, median of {len(a)} | {statistics.median(a) * scale:.1f} {unit} | "
            f"{statistics.median(b) * scale:.1f} {unit} (per pair: {ratio:.2f}×) |"
        )

    return [
        row("open the 10,000-message session → newest message shown", "ms", 1000, lambda r: r["open_s"]),
        row("  CPU of the app while opening it", "ms", 1000, lambda r: r["open_cpu_s"]),
        row(
            f"page up → repaint, median over {pages} pages", "ms", 1000, lambda r: statistics.median(r["scroll_page_s"])
        ),
        row(
            f"page up → repaint, p95 over {pages} pages", "ms", 1000, lambda r: bench_ui.p95(r["scroll_page_s"]) or 0.0
        ),
        row(f"  CPU of the app for the {pages} pages", "ms", 1000, lambda r: r["scroll_cpu_s"]),
    ]


if __name__ == "__main__":
    sys.exit(main())
