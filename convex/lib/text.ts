// The contract's text rules, written once per language (the Python twin is
// jangar_tui/store/validation.py; tests/contract/README.md, "Text", says what they mean and
// tests/contract/text.json holds both to the same cases). Everything here is explicit character
// classes, never a language's own idea of whitespace or of a URL: String.trim() and Python's
// str.strip() disagree (BOM, U+001C–U+001F, U+0085), and so do WHATWG URL and urlsplit.

// Whitespace: Unicode White_Space, plus U+FEFF (a byte-order mark pasted with a title).
const SPACE = "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff";
const TRIM = new RegExp(`^[${SPACE}]+|[${SPACE}]+$`, "gu");
// Never in a URL, repository or branch: whitespace, C0 and C1 controls, DEL.
const SPACE_OR_CONTROL = new RegExp(`[${SPACE}\\u0000-\\u001f\\u007f-\\u009f]`, "u");
// With the u flag a surrogate pair is one code point: only a lone surrogate matches.
const LONE_SURROGATE = /[\ud800-\udfff]/u;

// A host: a DNS name (labels of letters, digits and inner "-") or an IPv6 literal in brackets.
// No user info, no percent-encoding, no non-ASCII (an IDN is written in punycode).
const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const HOST = `(?:${LABEL}(?:\\.${LABEL})*|\\[[0-9A-Fa-f:.]+\\])`;
const PORT = "(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?";
// A path segment of a repository: not "." or "..", not starting with "-".
const SEGMENT = "(?!\\.\\.?(?:/|$))[A-Za-z0-9._~][A-Za-z0-9._~-]*";
const REPO_PATH = `${SEGMENT}(?:/${SEGMENT})*/?`;
const USER = "[A-Za-z0-9._][A-Za-z0-9._-]*";
// A GitHub owner or repository name.
const NAME = "(?!\\.\\.?(?:/|$))[A-Za-z0-9._][A-Za-z0-9._-]*";

export const HTTP_URL = new RegExp(`^[Hh][Tt][Tt][Pp][Ss]?://${HOST}${PORT}(?:[/?#].*)?$`, "su");
// What a remote repository can be: https, ssh://, scp-like user@host:path, or GitHub's owner/repo.
export const REMOTE_REPO = [
  new RegExp(`^[Hh][Tt][Tt][Pp][Ss]://${HOST}${PORT}/${REPO_PATH}$`, "u"),
  new RegExp(`^[Ss][Ss][Hh]://(?:${USER}@)?${HOST}${PORT}/${REPO_PATH}$`, "u"),
  new RegExp(`^${USER}@${HOST}:/?${REPO_PATH}$`, "u"),
  new RegExp(`^${NAME}/${NAME}$`, "u"),
];

export function trim(value: string): string {
  return value.replace(TRIM, "");
}

export function isBlank(value: string): boolean {
  return trim(value) === "";
}

export function hasSpaceOrControl(value: string): boolean {
  return SPACE_OR_CONTROL.test(value);
}

export function hasLoneSurrogate(value: string): boolean {
  return LONE_SURROGATE.test(value);
}

// git check-ref-format's rules for a branch name (`git check-ref-format --branch`), plus no
// leading "-" (it would read as an option). Whitespace and controls are refused separately.
export function isGitBranchName(branch: string): boolean {
  return !(
    branch.startsWith("-") ||
    branch.startsWith("/") ||
    branch.endsWith("/") ||
    branch.endsWith(".") ||
    branch.includes("//") ||
    branch.includes("..") ||
    branch.includes("@{") ||
    branch === "@" ||
    branch === "HEAD" ||
    /[~^:?*[\\]/.test(branch) ||
    branch.split("/").some((part) => part.startsWith(".") || part.endsWith(".lock"))
  );
}
