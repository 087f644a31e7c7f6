"""Snapshot tests (pytest-textual-snapshot) of the pinned scenes at 80×24 and 120×40.

Fixed data through the real LocalStore with its clock frozen, a frozen UI clock, a fixed data dir
(locked, so two suites on one machine take turns) and no JANGAR_*/CONVEX_*/TEMPORAL_* settings.
Regenerate with `pytest tests/ui --snapshot-update`.
"""

from __future__ import annotations

import asyncio
import shutil

import pytest
from ui_scenes import SCENES, build_scene, scenes_locked
from ui_support import FakeTime

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("scene_name", SCENES)
def test_scene(scene_name: str, size: str, snap_compare, fake_time: FakeTime) -> None:  # type: ignore[no-untyped-def]
    with scenes_locked():
        scene = build_scene(scene_name, fake_time)
        try:
            assert snap_compare(scene.app, terminal_size=SIZES[size], run_before=scene.prepare)
        finally:
            asyncio.run(scene.store.close())
            shutil.rmtree(scene.data_dir, ignore_errors=True)
