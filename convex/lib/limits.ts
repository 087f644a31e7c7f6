// Size limits of the contract. The same numbers live in jangar_tui/models.py;
// tests/test_parity.py parses this file and fails when the two drift.
// Sizes in *_BYTES are UTF-8 bytes; *_CHARS are Unicode code points.

export const TITLE_MAX_CHARS = 200;
export const CONTENT_MAX_BYTES = 256 * 1024;
export const METADATA_MAX_BYTES = 64 * 1024;
export const PROMPT_MAX_BYTES = 64 * 1024;
export const PAGE_SIZE_MAX = 200;
// The work-order event log: one event's text and metadata, and the events of one append.
export const EVENT_TEXT_MAX_BYTES = 16 * 1024;
export const EVENT_METADATA_MAX_BYTES = 4 * 1024;
export const EVENTS_PER_APPEND_MAX = 100;

// Metadata (tests/contract/README.md, "Metadata"): Convex's documented value limits, and a nesting
// depth that leaves the message document its own level within Convex's 16.
export const METADATA_MAX_DEPTH = 15;
export const METADATA_MAX_ARRAY_ITEMS = 8192;
export const METADATA_MAX_OBJECT_FIELDS = 1024;
export const METADATA_MAX_FIELD_NAME_CHARS = 1024;

// Search (tests/contract/README.md, "Search"): the query's length and words, hits per kind, how
// many of an index's best matches are read before ownership and order are applied, and an
// excerpt's length (code points).
export const SEARCH_TEXT_MAX_CHARS = 200;
export const SEARCH_TERMS_MAX = 16;
export const SEARCH_LIMIT_MAX = 50;
export const SEARCH_LIMIT_DEFAULT = 20;
export const SEARCH_CANDIDATES = 64;
export const SEARCH_EXCERPT_CHARS = 160;

// A follow-up chain (followUpOf links) is followed this far back, at most.
export const FOLLOW_UP_CHAIN_MAX = 1000;
