"""Inline validation of the UI's forms, mirroring the contract rules (tests/contract/README.md).

The stores enforce the same rules; checking here lets a form say what is wrong before a call is
made, field by field. Each validator returns an error sentence, or None when the value is fine.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

from jangar_tui.models import PROMPT_MAX_BYTES, TITLE_MAX_CHARS

_REPO_MAX_CHARS = 500
_BRANCH_MAX_CHARS = 200
_BLANK_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


def title_error(title: str) -> str | None:
    stripped = title.strip()
    if not stripped:
        return "A title is required."
    if len(stripped) > TITLE_MAX_CHARS:
        return f"At most {TITLE_MAX_CHARS} characters ({len(stripped)} now)."
    return None


def prompt_error(prompt: str) -> str | None:
    size = len(prompt.encode("utf-8"))
    if size > PROMPT_MAX_BYTES:
        return f"At most {PROMPT_MAX_BYTES // 1024} KiB ({size // 1024} KiB now)."
    return None


def repo_error(repo: str) -> str | None:
    """Optional; when given: 1–500 characters, no whitespace or control characters."""
    if not repo:
        return None
    if len(repo) > _REPO_MAX_CHARS:
        return f"At most {_REPO_MAX_CHARS} characters."
    if _BLANK_OR_CONTROL.search(repo):
        return "No spaces or control characters (e.g. owner/repo)."
    return None


def branch_error(branch: str) -> str | None:
    """Optional; when given: 1–200 characters, no whitespace or control characters, no leading '-'."""
    if not branch:
        return None
    if len(branch) > _BRANCH_MAX_CHARS:
        return f"At most {_BRANCH_MAX_CHARS} characters."
    if _BLANK_OR_CONTROL.search(branch):
        return "No spaces or control characters."
    if branch.startswith("-"):
        return "A branch cannot start with '-'."
    return None


def issue_url_error(url: str) -> str | None:
    """Optional; when given: an http(s) URL with a host."""
    if not url:
        return None
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return "An http(s) URL, e.g. https://github.com/owner/repo/issues/1."
    if _BLANK_OR_CONTROL.search(url):
        return "No spaces or control characters."
    return None


_MARKUP = re.compile(r"[*_`]+")


def first_line_title(text: str) -> str:
    """A title from the first non-blank line of a message, without Markdown marks, cut to the limit."""
    for line in text.splitlines():
        plain = _MARKUP.sub("", line).strip().lstrip("#> ").strip()
        if plain:
            return plain[:TITLE_MAX_CHARS]
    return ""
