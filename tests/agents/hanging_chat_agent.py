"""A chat agent that starts its answer, then never finishes it (JANGAR_CHAT_COMMAND)."""

import sys
import time

print("thinking about it", flush=True)
time.sleep(3600)
sys.exit(0)
