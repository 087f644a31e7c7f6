"""The exit codes: one per error code, distinct, and documented in the README as they are."""

from __future__ import annotations

import re
from pathlib import Path

from jangar_tui.commands import exit_codes
from jangar_tui.models import ErrorCode

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_error_code_has_its_own_exit_status() -> None:
    assert set(exit_codes.BY_ERROR_CODE) == set(ErrorCode)
    statuses = [exit_codes.OK, exit_codes.FAILURE, exit_codes.USAGE, *exit_codes.BY_ERROR_CODE.values()]
    assert len(set(statuses)) == len(statuses)


def test_the_readme_table_is_the_code() -> None:
    section = README.read_text().split("### Exit status", 1)[1].split("\n#", 1)[0]
    documented = {int(status): name for status, name in re.findall(r"^\| (\d+) \| `?(\w+)`? \|", section, re.MULTILINE)}
    expected = {exit_codes.OK: "ok", exit_codes.FAILURE: "failure", exit_codes.USAGE: "usage"}
    expected.update({status: code.value for code, status in exit_codes.BY_ERROR_CODE.items()})
    assert documented == expected
