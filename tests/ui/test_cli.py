"""`jangar` entry point: flags over the environment, one-line config errors, lazy UI import."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from jangar_tui.cli import settings_from

ROOT = Path(__file__).resolve().parents[2]


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "import sys\nfrom jangar_tui.cli import main\nraise SystemExit(main(sys.argv[1:]))"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("JANGAR_", "CONVEX_", "TEMPORAL_"))}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )


def test_flags_take_precedence_over_the_environment(tmp_path: Path) -> None:
    args = argparse.Namespace(backend="local", data_dir=str(tmp_path), user="bob")
    env = {
        "JANGAR_USER": "alice",
        "CONVEX_URL": "https://happy-otter-123.convex.cloud",
        "JANGAR_DATA_DIR": "/elsewhere",
    }
    settings = settings_from(args, env)
    assert (settings.backend, settings.user, settings.data_dir) == ("local", "bob", tmp_path)
    unset = argparse.Namespace(backend=None, data_dir=None, user=None)
    assert settings_from(unset, env).backend == "convex"


def test_a_config_error_is_one_line_and_exit_2() -> None:
    result = run_cli([], {"JANGAR_BACKEND": "sqlite"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["jangar: JANGAR_BACKEND must be one of local, convex (got 'sqlite')."]
    assert "Traceback" not in result.stderr


def test_an_unusable_data_dir_is_one_line_and_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = run_cli(["--data-dir", str(blocker / "sub")], {})
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("jangar: ") and "Not a directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_worker_and_deploy_do_not_import_textual() -> None:
    code = (
        "import sys\n"
        "from jangar_tui.cli import main\n"
        "for sub in ('worker', 'deploy'):\n"
        "    try:\n"
        "        main([sub, '--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('TEXTUAL' if any(m == 'textual' or m.startswith('textual.') for m in sys.modules) else 'CLEAN')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "usage: jangar worker" in result.stdout and "usage: jangar deploy" in result.stdout.replace("\n", " ")
    assert result.stdout.strip().endswith("CLEAN")


def test_the_app_turns_the_paused_collector_back_on_and_runs_full_collections_when_idle(tmp_path: Path) -> None:
    code = """
import asyncio, gc, sys
from pathlib import Path
from jangar_tui import gc_policy
gc_policy.pause_for_startup()
from jangar_tui.service import JangarService
from jangar_tui.store.sqlite.store import LocalStore
from jangar_tui.ui.app import JangarApp

async def main():
    service = JangarService(LocalStore(Path(sys.argv[1]) / "jangar.sqlite3"), "alice")
    await service.new_session("Anything")
    app = JangarApp(service)
    async with app.run_test() as pilot:
        for _ in range(500):
            if gc.isenabled():
                break
            await pilot.pause(0.01)
        print(gc.isenabled(), gc_policy.managed(), app.screen.query_one("#session-list").option_count)
        gc.collect(1)  # a young collection, as drawing causes: the oldest generation has news
        for _ in range(100):  # idle: a full collection comes within a few seconds
            if app.full_collections.count:
                break
            await pilot.pause(0.1)
        print(app.full_collections.count >= 1)
    await service.close()

asyncio.run(main())
"""
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "1", "True"]
