"""Scripted agent that records each start: appends "start <pid>" to argv[1], and "overlap <pid>"
for every earlier start whose process is still alive (two agents of one work order at once).
Then works for argv[2] seconds, prints "done" and exits 0.

Usage: once_agent.py STARTS_FILE SECONDS [PROMPT]
"""

import os
import sys
import time

import psutil

path, seconds = sys.argv[1], float(sys.argv[2])
lines = []
if os.path.exists(path):
    with open(path) as f:
        for line in f.read().split("\n"):
            kind, _, pid = line.partition(" ")
            if kind != "start":
                continue
            try:
                if psutil.Process(int(pid)).status() != psutil.STATUS_ZOMBIE:
                    lines.append(f"overlap {pid}")
            except psutil.NoSuchProcess:
                pass
lines.append(f"start {os.getpid()}")
with open(path, "a") as f:
    f.write("".join(f"{line}\n" for line in lines))
print("working...", flush=True)
time.sleep(seconds)
print("done", flush=True)
