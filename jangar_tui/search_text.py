"""Search's reading of a query and of a hit: the contract's rules (tests/contract/README.md, "Search").

Its TypeScript twin is `convex/lib/search.ts`; both backends give the same hits because both
apply these rules, whatever their index does underneath (FTS5 here, Convex's search index there).

- A query's **terms** are its words: maximal runs of letters and digits, lowercased; everything
  else (quotes, `*`, `-`, `:`, parentheses, `NEAR`'s syntax) only separates words, so no query
  text is ever syntax to an index. A query with no word finds nothing.
- A field **matches** when every term is one of its words, the last term also as the beginning of
  one when it has at least `PREFIX_MIN_CHARS` characters (results as you type: `depl` finds
  `deploy`; a single letter is only that word, since nearly every text has a word starting with it).
- A hit's **excerpt** is the field's text around the first word that matched, at most
  `SEARCH_EXCERPT_CHARS` characters (code points), with `…` where it was cut.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from jangar_tui.models import (
    SEARCH_EXCERPT_CHARS,
    SEARCH_TERMS_MAX,
    SEARCH_TEXT_MAX_CHARS,
    ErrorCode,
    JangarError,
)

# Letters and digits (str.isalnum's characters); the twin is /[\p{L}\p{N}]+/gu.
WORD = re.compile(r"[^\W_]+")
# The shortest last term that also matches as a prefix.
PREFIX_MIN_CHARS = 2
# How far before the first matched word an excerpt starts, when the text is cut.
EXCERPT_LEAD_CHARS = 40
ELLIPSIS = "…"


def terms(text: object) -> list[str]:
    """The query's terms; INVALID_ARGUMENT for a non-string, an over-long text or too many words."""
    if not isinstance(text, str):
        raise JangarError(ErrorCode.INVALID_ARGUMENT, "The search text must be a string.")
    if re.search("[\ud800-\udfff]", text):
        raise JangarError(ErrorCode.INVALID_ARGUMENT, "The search text holds a lone surrogate: it is not valid text.")
    if len(text) > SEARCH_TEXT_MAX_CHARS:
        raise JangarError(
            ErrorCode.INVALID_ARGUMENT,
            f"The search text is {len(text)} characters; at most {SEARCH_TEXT_MAX_CHARS} are searched.",
        )
    words = [word.lower() for word in WORD.findall(text)]
    if len(words) > SEARCH_TERMS_MAX:
        raise JangarError(
            ErrorCode.INVALID_ARGUMENT,
            f"The search has {len(words)} words; search with at most {SEARCH_TERMS_MAX}.",
        )
    return words


def _words(text: str) -> Iterator[re.Match[str]]:
    return WORD.finditer(text)


def is_prefix(query_terms: list[str], index: int) -> bool:
    """Whether term `index` also matches as a word's beginning: the last one, when long enough."""
    return index == len(query_terms) - 1 and len(query_terms[index]) >= PREFIX_MIN_CHARS


def _matches_term(word: str, term: str, prefix: bool) -> bool:
    return word.startswith(term) if prefix else word == term


def matches(text: str, query_terms: list[str]) -> bool:
    """Whether every term is a word of `text` (the last one also as a word's beginning)."""
    if not query_terms:
        return False
    words = {match.group().lower() for match in _words(text)}
    *whole, last = query_terms
    if not is_prefix(query_terms, len(query_terms) - 1):
        return all(term in words for term in query_terms)
    return all(term in words for term in whole) and any(word.startswith(last) for word in words)


def first_match(text: str, query_terms: list[str]) -> int | None:
    """Where (a code-point index) the first word that matches a term starts, or None."""
    for match in _words(text):
        word = match.group().lower()
        if any(_matches_term(word, term, is_prefix(query_terms, i)) for i, term in enumerate(query_terms)):
            return match.start()
    return None


def excerpt(text: str, query_terms: list[str]) -> str:
    """At most SEARCH_EXCERPT_CHARS characters of `text` around its first matched word."""
    if len(text) <= SEARCH_EXCERPT_CHARS:
        return text
    at = first_match(text, query_terms) or 0
    start = max(0, min(at - EXCERPT_LEAD_CHARS, len(text) - SEARCH_EXCERPT_CHARS))
    end = start + SEARCH_EXCERPT_CHARS
    return (ELLIPSIS if start > 0 else "") + text[start:end] + (ELLIPSIS if end < len(text) else "")


def highlights(text: str, query_terms: list[str]) -> list[tuple[int, int]]:
    """The (start, end) spans of `text`'s words that match a term, for the UI to emphasise."""
    spans = []
    for match in _words(text):
        word = match.group().lower()
        for i, term in enumerate(query_terms):
            prefix = is_prefix(query_terms, i)
            if _matches_term(word, term, prefix):
                # A prefix marks the term's length (lowering may change a word's length: cap it).
                end = min(match.start() + len(term), match.end()) if prefix else match.end()
                spans.append((match.start(), end))
                break
    return spans
