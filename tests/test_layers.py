"""The headless core must not import Textual (docs/architecture.md, Layers)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import jangar_tui


def _core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(jangar_tui.__path__, prefix="jangar_tui."):
        if info.name.startswith("jangar_tui.ui"):
            continue
        names.append(info.name)
    return names


def test_core_modules_exist() -> None:
    assert "jangar_tui.models" in _core_modules()


def test_core_is_importable_without_textual() -> None:
    modules = _core_modules()
    code = (
        "import sys\n"
        f"for name in {modules!r}:\n"
        "    __import__(name)\n"
        "leaked = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(leaked))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"textual imported by the core: {out.stdout.strip()}"
