"""Microbenchmark (run by hand) of what recording a run's start and putting a worktree back cost.

    .venv/bin/python bench/bench_run_start.py [--files 5000] [--runs 5]

A repository of `--files` files in 50 directories, committed; then, `--runs` times: the run's start
recorded (`record_run_start`: a tree of every file not ignored, through a copy of the index), ten
files changed and five added as an interrupted attempt would, and the worktree put back
(`reset_to_run_start`). Prints the times in ms. No target: reported only (bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jangar_tui.orchestration.run_start import RUN_START, record_run_start, reset_to_run_start


def _repository(root: Path, files: int) -> Path:
    path = root / "app-wo"
    path.mkdir()

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=path, check=True, capture_output=True)

    git("init", "-q", "-b", "work")
    git("config", "user.email", "bench@example.com")
    git("config", "user.name", "bench")
    for n in range(files):
        directory = path / f"d{n % 50}"
        directory.mkdir(exist_ok=True)
        (directory / f"f{n}.txt").write_text(f"line {n}\n" * 20)
    git("add", "-A")
    git("commit", "-q", "-m", "start")
    (root / "app-wo.workspace.json").write_text(json.dumps({"workOrderId": "wo", "targetRepo": "acme/app"}))
    return path


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jangar-bench-") as tmp:
        path = _repository(Path(tmp), args.files)
        record_path = Path(tmp) / "app-wo.workspace.json"
        recorded, reset = [], []
        for _ in range(args.runs):
            record = json.loads(record_path.read_text())
            record.pop(RUN_START, None)
            record_path.write_text(json.dumps(record))
            start = time.perf_counter()
            await record_run_start(path, "wo")
            recorded.append((time.perf_counter() - start) * 1000)
            for n in range(10):
                (path / f"d{n}" / f"f{n}.txt").write_text("changed\n")
            for n in range(5):
                (path / f"d{n}" / "added.txt").write_text("added\n")
            start = time.perf_counter()
            await reset_to_run_start(path, "wo")
            reset.append((time.perf_counter() - start) * 1000)
    print("| files | record the start (ms) | put the worktree back (ms) |\n| --- | --- | --- |")
    print(f"| {args.files} | {', '.join(f'{t:.0f}' for t in recorded)} | {', '.join(f'{t:.0f}' for t in reset)} |")


if __name__ == "__main__":
    asyncio.run(main())
