"""Inline validation of the UI's forms: the store's own argument checks, field by field.

The rules live in one place, `jangar_tui.store.validation` (the contract, tests/contract/README.md);
a form calls the same check the store will make and shows its sentence under the field, before
any call is made. Each validator returns that sentence, or None when the value is fine.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from jangar_tui.models import TITLE_MAX_CHARS, JangarError
from jangar_tui.store import validation as rules


def _error(check: Callable[[str], Any], value: str) -> str | None:
    try:
        check(value)
    except JangarError as error:
        return error.message
    return None


def title_error(title: str) -> str | None:
    """A session's title (the rename dialog)."""
    return _error(rules.title, title)


def work_order_title_error(title: str) -> str | None:
    return _error(lambda value: rules.title(value, "work order title"), title)


def prompt_error(prompt: str, name: str = "prompt") -> str | None:
    """`name`: the field's name in the sentence (the follow-up's is a "note")."""
    return _error(lambda value: rules.prompt(value, name), prompt)


# The optional fields: an empty field is left out of the call, so only a given value is checked.
# Their sentences name the field as the form labels it, not the model's column (targetRepo).
def repo_error(repo: str, check: Callable[[str, str], object]) -> str | None:
    """`check` is the service's (`JangarService.check_target_repo`): whether a local repository
    is accepted depends on the store's settings, which only the service knows."""
    return _error(lambda value: check(value, "The repository"), repo) if repo else None


def branch_error(branch: str) -> str | None:
    return _error(lambda value: rules.target_branch(value, "The branch"), branch) if branch else None


def issue_url_error(url: str) -> str | None:
    return _error(lambda value: rules.http_url("The GitHub issue URL", value), url) if url else None


_MARKUP = re.compile(r"[*_`]+")


def first_line_title(text: str) -> str:
    """A title from the first non-blank line of a message, without Markdown marks, cut to the limit."""
    for line in text.splitlines():
        plain = _MARKUP.sub("", line).strip().lstrip("#> ").strip()
        if plain:
            return plain[:TITLE_MAX_CHARS]
    return ""
