"""Regenerate the SVG screenshots in screenshots/ from the pinned UI scenes.

The scenes (fixed data in a real LocalStore, frozen clocks) are the ones the snapshot tests pin
(tests/ui/ui_scenes.py), so the README's pictures show exactly what the tests check.

    .venv/bin/python scripts/screenshots.py            # all scenes, 120×40 and 80×24
    .venv/bin/python scripts/screenshots.py main form  # some of them
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "ui"))

from ui_scenes import BASE_MS, SCENES, Scene, build_scene, frozen_store_time, scenes_locked
from ui_support import FakeTime

OUT = ROOT / "screenshots"
SIZES = ((120, 40), (80, 24))


async def capture(scene: Scene, size: tuple[int, int], path: Path) -> None:
    async with scene.app.run_test(size=size) as pilot:
        await scene.prepare(pilot)
        scene.app.save_screenshot(filename=path.name, path=str(path.parent))
    await scene.store.close()
    shutil.rmtree(scene.data_dir, ignore_errors=True)


def main(names: list[str]) -> int:
    for name in ("JANGAR_", "CONVEX_", "TEMPORAL_"):
        for variable in [v for v in os.environ if v.startswith(name)]:
            del os.environ[variable]  # the developer's configuration must not show
    OUT.mkdir(exist_ok=True)
    for name in names or SCENES:
        for width, height in SIZES:
            clock = FakeTime(BASE_MS)
            with scenes_locked(), frozen_store_time(clock):
                scene = build_scene(name, clock)
                path = OUT / f"{name}-{width}x{height}.svg"
                asyncio.run(capture(scene, (width, height), path))
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
