"""A chat agent that takes a moment before it answers (JANGAR_CHAT_COMMAND): messages sent
meanwhile queue behind it."""

import sys
import time

time.sleep(1.0)
print(f"slowly: {sys.argv[1]}")
