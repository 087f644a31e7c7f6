"""The status machine and the limits exist once per language; this test keeps the two equal.

It parses convex/lib/statusMachine.ts and convex/lib/limits.ts (plain literals, by design) and
compares them with jangar_tui/models.py.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from jangar_tui import models
from jangar_tui.store import validation

LIB = Path(__file__).resolve().parent.parent / "convex" / "lib"
LIMIT_NAMES = (
    "TITLE_MAX_CHARS",
    "CONTENT_MAX_BYTES",
    "METADATA_MAX_BYTES",
    "PROMPT_MAX_BYTES",
    "PAGE_SIZE_MAX",
    "EVENT_TEXT_MAX_BYTES",
    "EVENT_METADATA_MAX_BYTES",
    "EVENTS_PER_APPEND_MAX",
    "METADATA_MAX_DEPTH",
    "METADATA_MAX_ARRAY_ITEMS",
    "METADATA_MAX_OBJECT_FIELDS",
    "METADATA_MAX_FIELD_NAME_CHARS",
    "SEARCH_TEXT_MAX_CHARS",
    "SEARCH_TERMS_MAX",
    "SEARCH_LIMIT_MAX",
    "SEARCH_LIMIT_DEFAULT",
    "SEARCH_CANDIDATES",
    "SEARCH_EXCERPT_CHARS",
    "FOLLOW_UP_CHAIN_MAX",
)


def _ts_transitions(lib: Path = LIB) -> dict[str, set[str]]:
    source = (lib / "statusMachine.ts").read_text()
    body = re.search(r"export const TRANSITIONS[^=]*=\s*\{(.*?)\};", source, re.DOTALL)
    assert body, "TRANSITIONS not found in statusMachine.ts"
    table: dict[str, set[str]] = {}
    for name, targets in re.findall(r"(\w+)\s*:\s*\[([^\]]*)\]", body.group(1)):
        assert name not in table, f"{name} listed twice"
        table[name] = set(re.findall(r'"(\w+)"', targets))
    return table


def _ts_constants(lib: Path = LIB) -> dict[str, int]:
    source = (lib / "limits.ts").read_text()
    values: dict[str, int] = {}
    for name, expr in re.findall(r"export const (\w+)\s*=\s*([^;]+);", source):
        # Only integer arithmetic is allowed in limits.ts, so Python evaluates it the same way.
        tree = ast.parse(expr.strip(), mode="eval")
        assert all(
            isinstance(n, (ast.Expression, ast.BinOp, ast.Constant, ast.Mult, ast.Add)) for n in ast.walk(tree)
        ), expr
        values[name] = eval(compile(tree, "limits.ts", "eval"))
    return values


def test_transition_tables_are_equal() -> None:
    python = {status.value: {t.value for t in targets} for status, targets in models.TRANSITIONS.items()}
    assert _ts_transitions() == python


def test_status_lists_are_equal() -> None:
    source = (LIB / "statusMachine.ts").read_text()
    listed = re.search(r"export const STATUSES = \[(.*?)\]", source, re.DOTALL)
    assert listed
    assert re.findall(r'"(\w+)"', listed.group(1)) == [s.value for s in models.WorkOrderStatus]


def test_event_kinds_are_equal() -> None:
    source = (LIB / "validators.ts").read_text()
    listed = re.search(r"export const EVENT_KINDS = \[(.*?)\]", source, re.DOTALL)
    assert listed
    assert re.findall(r'"(\w+)"', listed.group(1)) == [k.value for k in models.EventKind]


STATUS_SETS = ("TERMINAL_STATUSES", "ACTIVE_STATUSES", "LAUNCHED_STATUSES", "RETRYABLE_STATUSES")


def _ts_status_sets(lib: Path = LIB) -> dict[str, set[str]]:
    source = (lib / "statusMachine.ts").read_text()
    sets: dict[str, set[str]] = {}
    for name, body in re.findall(r"export const (\w+_STATUSES)[^=]*=\s*\[([^\]]*)\]", source):
        sets[name] = set(re.findall(r'"(\w+)"', body))
    return sets


def test_status_sets_are_equal() -> None:
    python = {name: {s.value for s in getattr(models, name)} for name in STATUS_SETS}
    ts = _ts_status_sets()
    assert {name: ts.get(name) for name in STATUS_SETS} == python
    # Every set of either language is covered here, so a new one cannot be added to one side only.
    assert set(ts) == set(STATUS_SETS)
    assert {name for name in dir(models) if name.endswith("_STATUSES")} == set(STATUS_SETS)


TEXT_PARTS = ("SPACE", "LABEL", "PORT", "SEGMENT", "USER", "NAME")


def _ts_text_parts(lib: Path = LIB) -> dict[str, str]:
    """The string constants of text.ts the patterns are built from (plain JSON-compatible literals)."""
    source = (lib / "text.ts").read_text()
    return {
        name: json.loads(literal)
        for name, literal in re.findall(r'^const (\w+) = ("(?:[^"\\]|\\.)*");', source, re.MULTILINE)
    }


def test_text_patterns_are_equal() -> None:
    """Trimming, URLs, repositories: built from the same pieces in both languages (the patterns
    themselves are assembled the same way; tests/contract/text.json, urls.json and targets.json
    check the result on every backend)."""
    ts = _ts_text_parts()
    assert {name: ts.get(name) for name in TEXT_PARTS} == {name: getattr(validation, f"_{name}") for name in TEXT_PARTS}


def test_limits_are_equal() -> None:
    ts = _ts_constants()
    assert {name: ts.get(name) for name in LIMIT_NAMES} == {name: getattr(models, name) for name in LIMIT_NAMES}


def test_parsers_would_notice_a_drift(tmp_path: Path) -> None:
    """Guard against a parser that silently matches nothing."""
    assert len(_ts_transitions()) == 7 and _ts_transitions()["draft"] == {"submitted", "canceled"}
    edited = tmp_path / "lib"
    edited.mkdir()
    (edited / "statusMachine.ts").write_text(
        (LIB / "statusMachine.ts").read_text().replace('draft: ["submitted", "canceled"]', 'draft: ["submitted"]')
    )
    (edited / "statusMachine.ts").write_text(
        (edited / "statusMachine.ts")
        .read_text()
        .replace(
            'RETRYABLE_STATUSES: readonly WorkOrderStatus[] = ["failed", "canceled"]', 'RETRYABLE_STATUSES = ["failed"]'
        )
    )
    assert _ts_status_sets(edited)["RETRYABLE_STATUSES"] == {"failed"}
    assert _ts_status_sets()["LAUNCHED_STATUSES"] == {"submitted", "accepted", "running"}
    (edited / "limits.ts").write_text((LIB / "limits.ts").read_text().replace("256 * 1024", "255 * 1024"))
    assert _ts_transitions(edited)["draft"] == {"submitted"}
    assert _ts_constants(edited)["CONTENT_MAX_BYTES"] == 255 * 1024
