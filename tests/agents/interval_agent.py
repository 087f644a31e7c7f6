"""Scripted agent that records when it ran and on which worker: writes OUT_DIR/<pid>.start with
"<worker> <start time>" as it starts, works for SECONDS, then OUT_DIR/<pid>.end with its end time.

The worker is JANGAR_WORKER_NAME, which the agent inherits from `jangar worker`'s environment.
With --first=S, the first start (no earlier one in OUT_DIR) works for S seconds instead.
Usage: interval_agent.py OUT_DIR SECONDS [--first=S] [PROMPT]
"""

import os
import sys
import time
from pathlib import Path

out, seconds = Path(sys.argv[1]), float(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
first = [float(arg.removeprefix("--first=")) for arg in sys.argv[3:] if arg.startswith("--first=")]
if first and not any(out.glob("*.start")):
    seconds = first[0]


def write(name: str, text: str) -> None:
    tmp = out / f"{name}.tmp"
    tmp.write_text(text)
    os.replace(tmp, out / name)


write(f"{os.getpid()}.start", f"{os.environ.get('JANGAR_WORKER_NAME', '?')} {time.time()}")
print("working...", flush=True)
time.sleep(seconds)
write(f"{os.getpid()}.end", str(time.time()))
print("done", flush=True)
