"""Scripted agent: prints every hostile string of tests/e2e/hostile.py (stdout and stderr), then
fails, so its output becomes the work order's failure text and result."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from hostile import PAYLOADS, hostile

for name in PAYLOADS:
    print(f"ZQagent {hostile(name, 300)}", flush=True)
    print(f"ZQstderr {hostile(name, 300)}", file=sys.stderr, flush=True)
print("[https://github.com/acme/widgets/pull/1](file:///etc/passwd)", flush=True)
sys.exit(4)
