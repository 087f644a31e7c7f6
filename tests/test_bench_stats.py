"""bench/stats.py: the one percentile every benchmark reports (nearest rank)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from stats import percentile


def test_nearest_rank_is_a_measured_value() -> None:
    samples = [float(n) for n in range(100, 0, -1)]  # 1..100, unordered
    assert percentile(samples, 50) == 50.0
    assert percentile(samples, 95) == 95.0
    assert percentile(samples, 99) == 99.0
    assert percentile(samples, 100) == 100.0
    assert percentile([3.0, 1.0, 2.0], 95) == 3.0  # ceil(2.85) = 3rd of 3
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([7.5], 1) == 7.5


def test_twenty_samples_p95_is_the_nineteenth() -> None:
    samples = [float(n) for n in range(1, 21)]
    assert percentile(samples, 95) == 19.0


@pytest.mark.parametrize("q", [0, -1, 100.5])
def test_q_out_of_range_is_refused(q: float) -> None:
    with pytest.raises(ValueError):
        percentile([1.0], q)


def test_no_samples_is_refused() -> None:
    with pytest.raises(ValueError):
        percentile([], 95)
