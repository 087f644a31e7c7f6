"""Scripted agent: says what went wrong on stderr and exits with code 3."""

import sys

print("partial work", flush=True)
print("boom: the tests do not pass", file=sys.stderr, flush=True)
sys.exit(3)
