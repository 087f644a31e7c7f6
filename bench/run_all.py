"""Run the benchmarks of `SCRIPTS` in turn (the microbenchmarks are run by hand), then print all their tables.

`make bench` calls this. Each script runs in its own process with this interpreter; its output
streams through as it runs (progress goes to stderr, results to stdout), and its stdout (tables
and notes) is printed again at the end, all together. Exit status: non-zero when any benchmark
exited non-zero (an error, or a missed target for the scripts that say so).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SCRIPTS = (
    "bench_store.py",
    "bench_temporal.py",
    "bench_ui.py",
    "bench_board.py",
    "bench_search.py",
    "bench_cli.py",
    "bench_serve.py",
    "bench_runtime.py",
    "bench_work_orders.py",
    "bench_workspaces.py",
    "bench_run_log.py",
    "bench_watch_wakes.py",
    "bench_chat.py",
    "bench_workers.py",
)


def run(script: Path) -> tuple[int, list[str]]:
    """Run one benchmark, echoing its stdout; returns its exit status and its stdout lines."""
    proc = subprocess.Popen(
        [sys.executable, str(script)], cwd=BENCH.parent, stdout=subprocess.PIPE, text=True, bufsize=1
    )
    lines: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        lines.append(line.rstrip("\n"))
    return proc.wait(), lines


def main() -> int:
    failed: list[str] = []
    tables: list[str] = []
    for name in SCRIPTS:
        script = BENCH / name
        if not script.exists():
            print(f"== {name}: not present, skipped", flush=True)
            continue
        print(f"== {name}", flush=True)
        started = time.monotonic()
        status, output = run(script)
        took = time.monotonic() - started
        print(f"== {name}: exit {status} after {took:.0f} s", flush=True)
        if status != 0:
            failed.append(name)
        tables.append(f"### {name}\n\n" + ("\n".join(output).strip() or "(no output)"))
    print("\n# All benchmark tables\n")
    print("\n\n".join(tables))
    if failed:
        print(f"\nFailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
