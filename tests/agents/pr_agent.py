"""Scripted agent: reports progress on stderr, then its answer with a PR URL on stdout."""

import sys

print("reading the repository...", file=sys.stderr, flush=True)
print(f"Done: {sys.argv[-1][:40]}")
print("Opened https://github.com/acme/widgets/pull/42.")
