// Search's reading of a query and of a hit: the contract's rules (tests/contract/README.md,
// "Search"). The Python twin is jangar_tui/search_text.py; both backends give the same hits
// because both apply these rules, whatever their index does underneath.
//
// A query's terms are its words (runs of letters and digits, lowercased); everything else only
// separates words, so no query text is ever syntax. A field matches when every term is one of its
// words, the last term also as the beginning of one when it has at least PREFIX_MIN_CHARS
// characters (a single letter is only that word). An excerpt is the field's text around the
// first matched word, at most SEARCH_EXCERPT_CHARS code points, with "…" where it was cut.
import { fail } from "./errors";
import { SEARCH_EXCERPT_CHARS, SEARCH_LIMIT_DEFAULT, SEARCH_LIMIT_MAX, SEARCH_TERMS_MAX, SEARCH_TEXT_MAX_CHARS } from "./limits";

const WORD = /[\p{L}\p{N}]+/gu;
// The shortest last term that also matches as a prefix.
const PREFIX_MIN_CHARS = 2;
// How far before the first matched word an excerpt starts, when the text is cut.
const EXCERPT_LEAD_CHARS = 40;
const ELLIPSIS = "…";

function codePoints(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}

export function searchTerms(text: string): string[] {
  const length = codePoints(text);
  if (length > SEARCH_TEXT_MAX_CHARS) {
    fail("INVALID_ARGUMENT", `The search text is ${length} characters; at most ${SEARCH_TEXT_MAX_CHARS} are searched.`);
  }
  const words = (text.match(WORD) ?? []).map((word) => word.toLowerCase());
  if (words.length > SEARCH_TERMS_MAX) {
    fail("INVALID_ARGUMENT", `The search has ${words.length} words; search with at most ${SEARCH_TERMS_MAX}.`);
  }
  return words;
}

export function checkSearchLimit(limit: number | undefined): number {
  if (limit === undefined) return SEARCH_LIMIT_DEFAULT;
  if (!Number.isInteger(limit) || limit < 1 || limit > SEARCH_LIMIT_MAX) {
    fail("INVALID_ARGUMENT", `limit must be a whole number from 1 to ${SEARCH_LIMIT_MAX}.`);
  }
  return limit;
}

// Whether term `index` also matches as a word's beginning: the last one, when long enough.
function isPrefix(terms: string[], index: number): boolean {
  return index === terms.length - 1 && codePoints(terms[index]) >= PREFIX_MIN_CHARS;
}

function matchesTerm(word: string, term: string, prefix: boolean): boolean {
  return prefix ? word.startsWith(term) : word === term;
}

export function matchesTerms(text: string, terms: string[]): boolean {
  if (terms.length === 0) return false;
  const words = new Set((text.match(WORD) ?? []).map((word) => word.toLowerCase()));
  const last = terms.length - 1;
  if (!isPrefix(terms, last)) return terms.every((term) => words.has(term));
  return terms.slice(0, -1).every((term) => words.has(term)) && [...words].some((word) => word.startsWith(terms[last]));
}

// Where (a UTF-16 index) the first word that matches a term starts, or null.
function firstMatch(text: string, terms: string[]): number | null {
  for (const match of text.matchAll(WORD)) {
    const word = match[0].toLowerCase();
    if (terms.some((term, i) => matchesTerm(word, term, isPrefix(terms, i)))) return match.index ?? 0;
  }
  return null;
}

export function excerpt(text: string, terms: string[]): string {
  if (text.length <= SEARCH_EXCERPT_CHARS) return text; // fewer UTF-16 units, so fewer code points
  const chars = Array.from(text);
  if (chars.length <= SEARCH_EXCERPT_CHARS) return text;
  const found = firstMatch(text, terms);
  const at = found === null ? 0 : codePoints(text.slice(0, found));
  const start = Math.max(0, Math.min(at - EXCERPT_LEAD_CHARS, chars.length - SEARCH_EXCERPT_CHARS));
  const end = start + SEARCH_EXCERPT_CHARS;
  return (start > 0 ? ELLIPSIS : "") + chars.slice(start, end).join("") + (end < chars.length ? ELLIPSIS : "");
}
