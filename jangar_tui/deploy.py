"""`jangar deploy`: push the Convex functions with `npx convex deploy`.

The target comes from the environment, as for the rest of Jangar:
- self-hosted: `CONVEX_SELF_HOSTED_URL` plus `CONVEX_ADMIN_KEY` (or the CLI's own
  `CONVEX_SELF_HOSTED_ADMIN_KEY`);
- Convex cloud: `CONVEX_DEPLOY_KEY`.

Keys reach the CLI through its environment only: never on its command line (visible to every
user in `ps`), never printed. The CLI's output is passed through with any key value masked, in
case a tool on the way echoes one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

EXIT_CONFIG = 2
MASK = "********"

# `--codegen disable`: the committed convex/_generated (scripts/convex_codegen.py, checked by
# `make check-codegen`) is what gets bundled, so a deploy never rewrites tracked files.
DEPLOY_ARGS = ["convex", "deploy", "--yes", "--codegen", "disable"]

_SELF_HOSTED_VARS = ("CONVEX_SELF_HOSTED_URL", "CONVEX_SELF_HOSTED_ADMIN_KEY")
_CLOUD_VARS = ("CONVEX_DEPLOY_KEY", "CONVEX_DEPLOYMENT")


class DeployError(Exception):
    """A problem the operator fixes in their environment; the message says how."""


@dataclass(frozen=True)
class Target:
    description: str  # shown to the operator, e.g. "the self-hosted deployment http://..."
    env: dict[str, str]  # the CLI's environment
    secrets: tuple[str, ...]  # values never to show


def find_root(cwd: Path | None = None) -> Path:
    """The repository root: next to this package when installed from a checkout, else the cwd."""
    candidates = [Path(__file__).resolve().parent.parent, (cwd or Path.cwd()).resolve()]
    for root in candidates:
        if (root / "package.json").is_file() and (root / "convex" / "schema.ts").is_file():
            return root
    raise DeployError(
        "Cannot find the Convex functions (package.json and convex/schema.ts): "
        "run `jangar deploy` from the Jangar repository root."
    )


def resolve_target(environ: Mapping[str, str]) -> Target:
    """Which deployment to push to, and the CLI environment that selects it."""
    env = dict(environ)
    url = env.get("CONVEX_SELF_HOSTED_URL", "").strip()
    if url:
        key = env.get("CONVEX_ADMIN_KEY") or env.get("CONVEX_SELF_HOSTED_ADMIN_KEY") or ""
        if not key.strip():
            raise DeployError(
                "CONVEX_SELF_HOSTED_URL is set but CONVEX_ADMIN_KEY is not: "
                "set CONVEX_ADMIN_KEY to the self-hosted backend's admin key."
            )
        for name in _CLOUD_VARS:  # the CLI refuses a mix of cloud and self-hosted settings
            env.pop(name, None)
        env["CONVEX_SELF_HOSTED_URL"] = url
        env["CONVEX_SELF_HOSTED_ADMIN_KEY"] = key
        return Target(f"the self-hosted deployment {url}", env, _secrets(environ, key))
    deploy_key = env.get("CONVEX_DEPLOY_KEY", "").strip()
    if deploy_key:
        for name in _SELF_HOSTED_VARS:
            env.pop(name, None)
        return Target("the cloud deployment named by CONVEX_DEPLOY_KEY", env, _secrets(environ, deploy_key))
    raise DeployError(
        "Nothing to deploy to: set CONVEX_DEPLOY_KEY (Convex cloud), or CONVEX_SELF_HOSTED_URL "
        "and CONVEX_ADMIN_KEY (self-hosted backend)."
    )


def _secrets(environ: Mapping[str, str], *extra: str) -> tuple[str, ...]:
    names = ("CONVEX_ADMIN_KEY", "CONVEX_DEPLOY_KEY", "CONVEX_SELF_HOSTED_ADMIN_KEY", "JANGAR_CONVEX_AUTH_TOKEN")
    values = {environ.get(name, "") for name in names} | set(extra)
    # Longest first, so a key that contains another is masked whole.
    return tuple(sorted((v for v in values if v.strip()), key=len, reverse=True))


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jangar deploy",
        description="Deploy the Convex functions (npx convex deploy). Target: CONVEX_SELF_HOSTED_URL + "
        "CONVEX_ADMIN_KEY (self-hosted) or CONVEX_DEPLOY_KEY (cloud).",
    )
    parser.add_argument("--dry-run", action="store_true", help="typecheck and show what would be pushed, push nothing")
    return parser


def deploy_main(
    argv: list[str] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run `npx convex deploy`; returns its exit status, or 2 for a configuration problem."""
    out = out or sys.stdout
    err = err or sys.stderr
    args = _parser().parse_args(argv)
    env = dict(os.environ if environ is None else environ)
    try:
        target = resolve_target(env)
        root = find_root()
        npx = shutil.which("npx", path=target.env.get("PATH"))
        if npx is None:
            raise DeployError("`npx` is not on PATH: install Node.js 20 (it comes with npx) and run `npm ci`.")
    except DeployError as error:
        print(f"jangar deploy: {error}", file=err)
        return EXIT_CONFIG

    command = [npx, *DEPLOY_ARGS, *(["--dry-run"] if args.dry_run else [])]
    print(f"jangar deploy: pushing convex/ to {redact(target.description, target.secrets)}", file=out)
    out.flush()
    with subprocess.Popen(
        command,
        cwd=root,
        env=target.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(redact(line, target.secrets))
            out.flush()
    if proc.returncode != 0:
        print(f"jangar deploy: `npx convex deploy` failed with exit status {proc.returncode}.", file=err)
    return proc.returncode
