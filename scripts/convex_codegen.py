#!/usr/bin/env python3
"""Write `convex/_generated/` offline, byte for byte as the Convex CLI's codegen writes it.

`convex codegen` normally needs a deployment. The files it writes for a project like ours (no
components, the default `js/dts` file type) come from template functions that ship in the
`convex` npm package (`dist/esm/cli/codegen_templates/`), formatted with prettier. This script
runs a small Node program that imports those very templates, lists the function modules with
the CLI's own rules, formats with the same prettier and writes (or, with `--check`, compares)
the files. No network, no deployment, no copy of the templates here that could drift;
tests/test_codegen.py checks the result against the CLI's own offline path
(`convex codegen --system-udfs`).

Usage: convex_codegen.py [--check] [--root DIR]
  --check   exit 1 and name the stale or missing files instead of writing them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# Mirrors `doCodegen` in the CLI (src/cli/lib/codegen.ts) with the default `js/dts` file type:
# dataModel.d.ts, server.js + server.d.ts, api.js + api.d.ts, each through prettier.
NODE_PROGRAM = r"""
import { register, createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [root, mode] = process.argv.slice(1);
const functionsDir = path.join(root, "convex");
const templates = path.join(root, "node_modules", "convex", "dist", "esm", "cli", "codegen_templates");

// dataModel.js imports a CLI helper (and, through it, CLI-only packages that are bundled into
// cli.bundle.cjs rather than installed) only for the deployment-backed static data model. The
// dynamic data model used here never calls it, so that one import is replaced by a stub.
const hooks = `
export async function resolve(specifier, context, next) {
  if (specifier.endsWith("/lib/components/definition/directoryStructure.js") &&
      (context.parentURL ?? "").includes("/codegen_templates/")) {
    return { shortCircuit: true,
             url: "data:text/javascript,export function toComponentDefinitionPath(){throw new Error('not offline')}" };
  }
  return next(specifier, context);
}`;
register("data:text/javascript," + encodeURIComponent(hooks));

const load = (name) => import(pathToFileURL(path.join(templates, name)).href);
const { apiCodegen } = await load("api.js");
const { serverCodegen } = await load("server.js");
const { dynamicDataModelDTS, noSchemaDataModelDTS } = await load("dataModel.js");
const { compareModulePaths } = await load("common.js");
const require = createRequire(path.join(root, "package.json"));
const prettier = require("prettier");

// The CLI's entryPoints() rules (src/bundler/index.ts).
const EXTENSIONS = [".js", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts", ".jsx"];
function* walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const child = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (fs.existsSync(path.join(child, "convex.config.ts"))) continue;
      yield* walk(child);
    } else if (entry.isFile()) {
      yield child;
    }
  }
}
function entryPoints(dir) {
  const out = [];
  for (const file of walk(dir)) {
    const rel = path.relative(dir, file);
    const base = path.basename(file);
    if (!EXTENSIONS.some((ext) => rel.endsWith(ext))) continue;
    if (rel.startsWith("_generated" + path.sep)) continue;
    if (base.startsWith(".") || base.startsWith("#")) continue;
    if (base === "schema.ts" || base === "schema.js") continue;
    if ((base.match(/\./g) || []).length > 1) continue;
    if (rel.includes(" ")) continue;
    if ((file.endsWith(".ts") || file.endsWith(".tsx")) &&
        !/^\s{0,100}(import|export)/m.test(fs.readFileSync(file, "utf8"))) continue;
    out.push(rel);
  }
  return out.sort(compareModulePaths);
}

const hasSchema = ["schema.ts", "schema.js"].some((f) => fs.existsSync(path.join(functionsDir, f)));
const server = serverCodegen({ useTypeScript: false, envVars: undefined });
const api = apiCodegen(entryPoints(functionsDir), { useTypeScript: false });
const files = {
  "dataModel.d.ts": hasSchema ? dynamicDataModelDTS() : noSchemaDataModelDTS(),
  "server.js": server.JS,
  "server.d.ts": server.DTS,
  "api.js": api.JS,
  "api.d.ts": api.DTS,
};
const result = {};
for (const [name, contents] of Object.entries(files)) {
  result[name] = await prettier.format(contents, { parser: "typescript", pluginSearchDirs: false });
}
process.stdout.write(JSON.stringify(result));
"""


def generate(root: Path) -> dict[str, str]:
    """The files `convex codegen` would write into convex/_generated, by name."""
    node = shutil.which("node")
    if node is None:
        raise SystemExit("convex_codegen: `node` is not on PATH; install Node 20 to run codegen.")
    if not (root / "node_modules" / "convex").is_dir():
        raise SystemExit("convex_codegen: node_modules/convex is missing; run `npm ci` first.")
    proc = subprocess.run(
        [node, "--no-warnings", "--input-type=module", "-e", NODE_PROGRAM, str(root)],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"convex_codegen: node failed:\n{proc.stderr.strip()}")
    files: dict[str, str] = json.loads(proc.stdout)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 when stale")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="the repository root (default: this repo)")
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()
    out_dir = root / "convex" / "_generated"
    files = generate(root)

    if args.check:
        stale = [
            name
            for name, contents in sorted(files.items())
            if not (out_dir / name).is_file() or (out_dir / name).read_text(encoding="utf-8") != contents
        ]
        # The CLI deletes anything else in _generated (except `ai/`), so extra files are stale too.
        extra = (
            sorted(p.name for p in out_dir.iterdir() if p.name not in files and p.name != "ai")
            if out_dir.is_dir()
            else []
        )
        if stale or extra:
            for name in stale:
                print(f"stale: convex/_generated/{name}", file=sys.stderr)
            for name in extra:
                print(f"not generated by codegen: convex/_generated/{name}", file=sys.stderr)
            print("Run `make codegen` (scripts/convex_codegen.py) and commit the result.", file=sys.stderr)
            return 1
        print(f"convex/_generated is up to date ({len(files)} files).")
        return 0

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, contents in sorted(files.items()):
        path = out_dir / name
        if not path.is_file() or path.read_text(encoding="utf-8") != contents:
            path.write_text(contents, encoding="utf-8")
            written.append(name)
    for extra in out_dir.iterdir():
        if extra.name not in files and extra.name != "ai" and extra.is_file():
            extra.unlink()
            written.append(f"{extra.name} (removed)")
    print(f"convex/_generated: {', '.join(written) if written else 'already up to date'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
