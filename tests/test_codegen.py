"""convex/_generated is what the Convex CLI's own templates produce, and `--check` notices drift."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "convex_codegen.py"
GENERATED = ("api.d.ts", "api.js", "dataModel.d.ts", "server.d.ts", "server.js")

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node")


def codegen(*args: str, root: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the functions with node_modules linked, to break without touching the repo."""
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copytree(REPO / "convex", root / "convex")
    shutil.copy(REPO / "package.json", root / "package.json")
    (root / "node_modules").symlink_to(REPO / "node_modules")
    return root


def test_committed_output_is_up_to_date() -> None:
    proc = codegen("--check")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (REPO / "convex" / "_generated").iterdir()) == sorted(GENERATED)


def test_api_lists_the_function_modules_and_skips_tests_and_schema() -> None:
    api = (REPO / "convex" / "_generated" / "api.d.ts").read_text()
    for module in ("chatSessions", "chatMessages", "workOrders", '"lib/statusMachine"'):
        assert f"{module}: typeof" in api
    assert "schema" not in api and ".test" not in api and "test.setup" not in api


def test_output_is_byte_for_byte_what_the_convex_cli_writes(copy: Path) -> None:
    """The CLI's own offline codegen (`convex codegen --system-udfs`, no deployment) agrees."""
    shutil.rmtree(copy / "convex" / "_generated")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVEX_")}
    proc = subprocess.run(
        [str(REPO / "node_modules" / ".bin" / "convex"), "codegen", "--system-udfs", "--typecheck", "disable"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in GENERATED:
        assert (copy / "convex" / "_generated" / name).read_bytes() == (
            REPO / "convex" / "_generated" / name
        ).read_bytes(), name
    assert sorted(p.name for p in (copy / "convex" / "_generated").iterdir()) == sorted(GENERATED)


def test_check_names_a_stale_file(copy: Path) -> None:
    stale = copy / "convex" / "_generated" / "api.d.ts"
    stale.write_text(stale.read_text() + "// edited by hand\n")
    proc = codegen("--check", root=copy)
    assert proc.returncode == 1
    assert "convex/_generated/api.d.ts" in proc.stderr
    assert "server.js" not in proc.stderr


def test_check_notices_a_new_module_and_regenerating_fixes_it(copy: Path) -> None:
    (copy / "convex" / "extra.ts").write_text(
        'import { query } from "./_generated/server";\nexport const ping = query({ handler: async () => "pong" });\n'
    )
    (copy / "convex" / "_generated" / "leftover.js").write_text("// not generated\n")
    proc = codegen("--check", root=copy)
    assert proc.returncode == 1
    assert "api.d.ts" in proc.stderr and "leftover.js" in proc.stderr
    assert codegen(root=copy).returncode == 0
    assert "extra: typeof extra" in (copy / "convex" / "_generated" / "api.d.ts").read_text()
    assert not (copy / "convex" / "_generated" / "leftover.js").exists()
    assert codegen("--check", root=copy).returncode == 0


def test_missing_file_is_stale(copy: Path) -> None:
    (copy / "convex" / "_generated" / "server.js").unlink()
    proc = codegen("--check", root=copy)
    assert proc.returncode == 1
    assert "convex/_generated/server.js" in proc.stderr


def test_functions_typecheck_as_convex_deploy_checks_them() -> None:
    """`convex deploy` runs tsc over convex/ first; a type error there would block a deploy."""
    proc = subprocess.run(
        [str(REPO / "node_modules" / ".bin" / "tsc"), "-p", str(REPO / "convex")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
