"""A chat agent that is not Codex: prints its reply to stdout (JANGAR_CHAT_COMMAND)."""

import sys

print(f"echo: {sys.argv[1]}")
