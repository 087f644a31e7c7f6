"""The collector policy of the `jangar` command (jangar_tui.gc_policy).

Each check runs in a fresh interpreter: the policy changes process-wide collector settings that
must not leak into the test process.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(code: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_worker_and_deploy_get_the_interpreters_own_collector_back() -> None:
    out = run(
        """
        import gc
        from jangar_tui import gc_policy
        from jangar_tui.cli import main
        defaults = gc.get_threshold()
        gc_policy.pause_for_startup()
        print(gc.isenabled())
        try:
            main(["worker", "--help"])
        except SystemExit:
            pass
        print(gc.isenabled(), gc.get_threshold() == defaults, gc.get_freeze_count() == 0, gc_policy.managed())
        """
    )
    assert out[0] == "False"
    assert out[-4:] == ["True", "True", "True", "False"]


def test_after_start_up_young_collections_run_and_full_ones_wait_for_the_app() -> None:
    out = run(
        """
        import gc
        from jangar_tui import gc_policy
        young, middle, _ = gc.get_threshold()
        gc_policy.pause_for_startup()
        kept = [[i] for i in range(10_000)]  # start-up's long-lived objects
        gc_policy.startup_done()
        frozen = gc.get_freeze_count()
        print(gc.isenabled(), frozen >= 10_000, gc.get_threshold()[:2] == (young, middle))
        print(gc.get_threshold()[2] > 10**8, gc_policy.managed())
        gc_policy.startup_done()  # again: nothing changes
        print(gc.get_freeze_count() == frozen)
        """
    )
    assert out == ["True", "True", "True", "True", "True", "True"]


def test_full_collections_run_when_input_is_quiet_or_overdue() -> None:
    out = run(
        """
        import gc
        from jangar_tui import gc_policy
        from jangar_tui.gc_policy import FULL_COLLECTION_AT_LEAST_EVERY_S, QUIET_BEFORE_FULL_COLLECTION_S, FullCollections

        now = [1000.0]
        unmanaged = FullCollections(lambda: now[0])
        now[0] += 3600
        print(unmanaged.run_if_due())  # never paused: the interpreter collects by itself

        gc_policy.pause_for_startup()
        gc_policy.startup_done()
        full = FullCollections(lambda: now[0])
        cycle = []
        cycle.append(cycle)
        del cycle
        gc.collect(1)  # a young collection happened: something may wait in the oldest generation
        full.input_seen()
        now[0] += QUIET_BEFORE_FULL_COLLECTION_S / 2
        print(full.run_if_due())  # typing: not now
        now[0] += QUIET_BEFORE_FULL_COLLECTION_S
        print(full.run_if_due(), gc.get_count()[2] == 0)  # quiet: collected
        now[0] += QUIET_BEFORE_FULL_COLLECTION_S * 2
        print(full.run_if_due())  # quiet, but nothing new since
        for _ in range(int(FULL_COLLECTION_AT_LEAST_EVERY_S)):
            now[0] += 1
            full.input_seen()  # busy all along ...
            full.run_if_due()
        print(full.count)  # ... and still collected once it was overdue
        """
    )
    assert out == ["False", "False", "True", "True", "False", "2"]
