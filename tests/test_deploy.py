"""`jangar deploy` runs `npx convex deploy` with keys in its environment only, never shown.

A stand-in `npx` on PATH records the arguments and environment it received, and echoes the key
it got (as a careless tool might) so the masking is tested too.
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from jangar_tui.deploy import DEPLOY_ARGS, EXIT_CONFIG, deploy_main, find_root, redact

REPO = Path(__file__).resolve().parent.parent
ADMIN_KEY = "self-hosted|0123456789abcdef-admin-secret"
DEPLOY_KEY = "prod:happy-otter-123|eyJ2ZXJ5Ijoic2VjcmV0In0-deploy-secret"

FAKE_NPX = """#!{python}
import json, os, sys
record = {{"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}}
with open(os.environ["FAKE_NPX_LOG"], "w") as f:
    json.dump(record, f)
key = os.environ.get("CONVEX_SELF_HOSTED_ADMIN_KEY") or os.environ.get("CONVEX_DEPLOY_KEY") or ""
print("Deploying with key " + key)
print("oops, key on stderr: " + key, file=sys.stderr)
sys.exit(int(os.environ.get("FAKE_NPX_EXIT", "0")))
"""


@pytest.fixture
def fake_npx(tmp_path: Path) -> tuple[dict[str, str], Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npx = bin_dir / "npx"
    npx.write_text(FAKE_NPX.format(python=sys.executable))
    npx.chmod(npx.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "npx.json"
    env = {"PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin", "FAKE_NPX_LOG": str(log), "HOME": str(tmp_path)}
    return env, log


def run(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = deploy_main(argv, env, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_self_hosted_passes_the_admin_key_in_the_environment_only(fake_npx: tuple[dict[str, str], Path]) -> None:
    env, log = fake_npx
    env |= {
        "CONVEX_SELF_HOSTED_URL": "http://127.0.0.1:3999",
        "CONVEX_ADMIN_KEY": ADMIN_KEY,
        "CONVEX_DEPLOY_KEY": DEPLOY_KEY,
    }
    code, out, err = run([], env)
    assert code == 0, err
    record = json.loads(log.read_text())
    assert record["argv"] == DEPLOY_ARGS
    assert Path(record["cwd"]) == REPO
    assert record["env"]["CONVEX_SELF_HOSTED_URL"] == "http://127.0.0.1:3999"
    assert record["env"]["CONVEX_SELF_HOSTED_ADMIN_KEY"] == ADMIN_KEY
    # The cloud key would make the CLI refuse a mixed configuration.
    assert "CONVEX_DEPLOY_KEY" not in record["env"]
    assert all(ADMIN_KEY not in arg for arg in record["argv"])
    assert ADMIN_KEY not in out + err and DEPLOY_KEY not in out + err
    assert "Deploying with key ********" in out
    assert "the self-hosted deployment http://127.0.0.1:3999" in out


def test_cloud_uses_the_deploy_key(fake_npx: tuple[dict[str, str], Path]) -> None:
    env, log = fake_npx
    env |= {"CONVEX_DEPLOY_KEY": DEPLOY_KEY, "CONVEX_SELF_HOSTED_ADMIN_KEY": "stale-admin-key"}
    code, out, err = run(["--dry-run"], env)
    assert code == 0, err
    record = json.loads(log.read_text())
    assert record["argv"] == [*DEPLOY_ARGS, "--dry-run"]
    assert record["env"]["CONVEX_DEPLOY_KEY"] == DEPLOY_KEY
    assert "cloud deployment named by CONVEX_DEPLOY_KEY" in out
    assert "CONVEX_SELF_HOSTED_ADMIN_KEY" not in record["env"]
    assert DEPLOY_KEY not in out + err
    assert "stale-admin-key" not in out + err


def test_cli_failure_is_reported_with_its_exit_status(fake_npx: tuple[dict[str, str], Path]) -> None:
    env, _ = fake_npx
    env |= {"CONVEX_DEPLOY_KEY": DEPLOY_KEY, "FAKE_NPX_EXIT": "3"}
    code, out, err = run([], env)
    assert code == 3
    assert "exit status 3" in err
    assert DEPLOY_KEY not in out + err


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({}, "CONVEX_DEPLOY_KEY"),
        ({"CONVEX_SELF_HOSTED_URL": "http://127.0.0.1:3999"}, "CONVEX_ADMIN_KEY"),
        ({"CONVEX_SELF_HOSTED_URL": "http://127.0.0.1:3999", "CONVEX_ADMIN_KEY": "  "}, "CONVEX_ADMIN_KEY"),
    ],
)
def test_missing_variables_are_named_and_exit_2(
    fake_npx: tuple[dict[str, str], Path], extra: dict[str, str], named: str
) -> None:
    env, log = fake_npx
    code, _out, err = run([], env | extra)
    assert code == EXIT_CONFIG
    assert named in err
    assert err.count("\n") == 1  # one line, no traceback
    assert not log.exists()  # the CLI never ran


def test_missing_npx_is_a_clear_error(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path), "CONVEX_DEPLOY_KEY": DEPLOY_KEY}
    code, out, err = run([], env)
    assert code == EXIT_CONFIG
    assert "npx" in err and DEPLOY_KEY not in out + err


def test_find_root_is_the_repository() -> None:
    assert find_root() == REPO


def test_redact_masks_longest_first() -> None:
    assert redact("a abc b", ("abc", "a")) == "******** ******** b"


def test_jangar_deploy_never_shows_the_key(fake_npx: tuple[dict[str, str], Path]) -> None:
    """`jangar deploy` through the CLI entry point, in a real process."""
    env, log = fake_npx
    env |= {"CONVEX_SELF_HOSTED_URL": "http://127.0.0.1:3999", "CONVEX_ADMIN_KEY": ADMIN_KEY}
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from jangar_tui.cli import main; sys.exit(main(['deploy']))"],
        env=env | {"PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert ADMIN_KEY not in proc.stdout + proc.stderr
    assert json.loads(log.read_text())["env"]["CONVEX_SELF_HOSTED_ADMIN_KEY"] == ADMIN_KEY
