"""What making data visible costs next to drawing it: the 10,000-message session of the bench data.

Times `jangar_tui.text_safety.visible` on every message of the long session, and the transcript's
own rendering of the same messages (Rich `Text` for user and system, `Markdown` for assistant, at
the 120×40 transcript's body width) on a sample, on the same machine in the same minute. The ratio
says how much of a message's rendering the sanitizer adds; the pty runs of `compare.py` measure
the same thing end to end, through the machine's noise.

    .venv/bin/python bench/bench_sanitize.py [--sample 500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

from dataset import sessions
from rich.console import Console
from rich.markdown import Markdown
from rich.text import Text

from jangar_tui.text_safety import visible

BODY_WIDTH = 62  # the transcript's body at 120 columns (sidebar, panel, gutter taken)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sample", type=int, default=500, help="messages rendered with Rich")
    parser.add_argument("--repeat", type=int, default=5, help="timed passes (the median is reported)")
    args = parser.parse_args(argv)

    long_session = next(iter(sessions(int(time.time() * 1000))))
    messages = [(m.role, m.content) for m in long_session.messages]
    hostile = [(role, f"\x1b]52;c;eA==\x07 {content} \u202e") for role, content in messages]

    def sanitize(batch: list[tuple[str, str]]) -> float:
        started = time.perf_counter()
        for _, content in batch:
            visible(content)
        return time.perf_counter() - started

    console = Console(file=io.StringIO(), width=BODY_WIDTH, color_system="truecolor")
    options = console.options.update_width(BODY_WIDTH)

    def render(batch: list[tuple[str, str]]) -> float:
        started = time.perf_counter()
        for role, content in batch:
            renderable = Markdown(content, hyperlinks=False) if role == "assistant" else Text(content)
            console.render_lines(renderable, options, pad=True)
        return time.perf_counter() - started

    sample = messages[-args.sample :]
    plain = statistics.median(sanitize(messages) for _ in range(args.repeat))
    dirty = statistics.median(sanitize(hostile) for _ in range(args.repeat))
    drawn = statistics.median(render(sample) for _ in range(args.repeat)) / len(sample) * len(messages)
    n = len(messages)
    print(f"## Making data visible, {n:,} messages (median of {args.repeat} passes)\n")
    print("| what | all messages | per message | of rendering them |")
    print("| --- | --- | --- | --- |")
    print(
        f"| visible(), the bench's text (ASCII, no controls) | {plain * 1000:.1f} ms | {plain / n * 1e6:.2f} µs "
        f"| {plain / drawn:.2%} |"
    )
    print(
        f"| visible(), each with OSC 52 and a bidi override | {dirty * 1000:.1f} ms | {dirty / n * 1e6:.2f} µs "
        f"| {dirty / drawn:.2%} |"
    )
    print(
        f"| rendering them (Rich, as the transcript does; from {len(sample)}) | {drawn * 1000:.0f} ms "
        f"| {drawn / n * 1e6:.0f} µs | |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
