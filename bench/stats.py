"""The one percentile of bench/: every script reports p95 and p99 the same way.

Nearest rank: the smallest sample with at least q % of the samples at or below it. It is always a
value that was measured (no interpolation between two runs), and "p95 ≤ target" then reads as
"at least 95 % of the samples met the target".
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(samples: Sequence[float], q: float) -> float:
    if not samples:
        raise ValueError("a percentile of no samples")
    if not 0 < q <= 100:
        raise ValueError(f"q must be in (0, 100], not {q}")
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]
