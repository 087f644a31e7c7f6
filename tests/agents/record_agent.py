"""Scripted agent: writes the prompt it received (last argv element, or stdin) to argv[1], byte for byte.

Usage: record_agent.py OUT_FILE arg|stdin [PROMPT]
"""

import os
import sys

out, via = sys.argv[1], sys.argv[2]
data = os.fsencode(sys.argv[3]) if via == "arg" else sys.stdin.buffer.read()
with open(out, "wb") as f:
    f.write(data)
print(f"received {len(data)} bytes; cwd={os.getcwd()}")
