"""The benchmark harness runs the code it says it runs.

`bench/compare.py` starts another commit's checkout with `python -m jangar_tui` and PYTHONPATH. Run
from this checkout, Python put the current directory ahead of PYTHONPATH, so "the other commit"
was this checkout's code again; this pins that the checkout given is the one imported.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

import jangar_side


def test_another_checkout_runs_its_own_code_from_this_checkouts_directory(tmp_path: Path) -> None:
    other = tmp_path / "other"
    (other / "jangar_tui").mkdir(parents=True)
    (other / "jangar_tui" / "__init__.py").write_text("")
    (other / "jangar_tui" / "__main__.py").write_text("print('the other checkout:', __file__)\n")
    env = jangar_side.environ(tmp_path / "data", "127.0.0.1:1", tree=other)
    result = subprocess.run(
        jangar_side.argv(other), env=env, cwd=REPO, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"the other checkout: {other / 'jangar_tui' / '__main__.py'}"
