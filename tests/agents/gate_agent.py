"""Scripted agent that works until a gate opens: prints "waiting", then exits 0 once the file
argv[1] exists (checked every 50 ms).

Usage: gate_agent.py GATE_FILE [PROMPT]
"""

import os
import sys
import time

print("waiting", flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.05)
print("done", flush=True)
