"""Scripted agent for the worker-crash test: the first run hangs, the next one succeeds.

Each run appends "<pid>" to the file argv[1]; the first run then sleeps (its worker gets killed),
a later run prints a PR URL and exits 0.
"""

import os
import sys
import time

runs = sys.argv[1]
with open(runs, "a") as f:
    f.write(f"{os.getpid()}\n")
with open(runs) as f:
    count = len(f.read().split())
if count == 1:
    print("first attempt: working slowly...", flush=True)
    time.sleep(600)
print("second attempt: https://github.com/acme/widgets/pull/7")
