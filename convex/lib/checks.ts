// Checks of argument values beyond their type (the validators check types). Each refuses bad
// input with INVALID_ARGUMENT and a sentence naming the field and the rule.
import { convexToJson, type Value } from "convex/values";
import { fail } from "./errors";
import {
  CONTENT_MAX_BYTES,
  EVENT_METADATA_MAX_BYTES,
  EVENT_TEXT_MAX_BYTES,
  EVENTS_PER_APPEND_MAX,
  METADATA_MAX_ARRAY_ITEMS,
  METADATA_MAX_BYTES,
  METADATA_MAX_DEPTH,
  METADATA_MAX_FIELD_NAME_CHARS,
  METADATA_MAX_OBJECT_FIELDS,
  PAGE_SIZE_MAX,
  PROMPT_MAX_BYTES,
  TITLE_MAX_CHARS,
} from "./limits";
import { HTTP_URL, REMOTE_REPO, hasLoneSurrogate, hasSpaceOrControl, isBlank, isGitBranchName, trim } from "./text";

const WORKFLOW_ID_MAX_CHARS = 200;
const USER_ID_MAX_CHARS = 200;
const TARGET_REPO_MAX_CHARS = 500;
const TARGET_BRANCH_MAX_CHARS = 200;
const URL_MAX_CHARS = 2048;
const WORKFLOW_ID_PATTERN = /^[A-Za-z0-9._:-]+$/;
// A metadata field name: printable ASCII, not starting with "$" or "_" (Convex reserves them).
const FIELD_NAME = /^[\x20-\x23\x25-\x5e\x60-\x7e][\x20-\x7e]*$/;

const encoder = new TextEncoder();

// Code points, as Python's len() counts them (JS .length counts UTF-16 units).
function charCount(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}

function utf8Bytes(value: string): number {
  return encoder.encode(value).length;
}

// Production Convex refuses a string with a lone surrogate (it is not Unicode) when it decodes
// the arguments, before the function runs; convex-test stores it. So every function whose
// arguments hold free text calls this first, with the same INVALID_ARGUMENT as the embedded store.
export function checkWellFormed(args: Record<string, unknown>): void {
  for (const [field, value] of Object.entries(args)) {
    if (holdsLoneSurrogate(value, 0)) {
      fail("INVALID_ARGUMENT", `${field} holds a lone surrogate (U+D800–U+DFFF): it is not valid Unicode text.`);
    }
  }
}

// Strings anywhere in a value (array items, object keys and values). Depth-bounded: deeper values
// are metadata, which checkMetadata refuses anyway.
function holdsLoneSurrogate(value: unknown, depth: number): boolean {
  if (typeof value === "string") return hasLoneSurrogate(value);
  if (value === null || typeof value !== "object" || depth > METADATA_MAX_DEPTH + 2) return false;
  if (Array.isArray(value)) return value.some((item) => holdsLoneSurrogate(item, depth + 1));
  if (value instanceof ArrayBuffer) return false;
  return Object.entries(value).some(([key, item]) => hasLoneSurrogate(key) || holdsLoneSurrogate(item, depth + 1));
}

export function checkTitle(title: string, field = "title"): string {
  const trimmed = trim(title);
  const n = charCount(trimmed);
  if (n === 0) fail("INVALID_ARGUMENT", `The ${field} is empty: give it at least one visible character.`);
  if (n > TITLE_MAX_CHARS) {
    fail("INVALID_ARGUMENT", `The ${field} has ${n} characters; shorten it to at most ${TITLE_MAX_CHARS}.`);
  }
  return trimmed;
}

export function checkUserId(userId: string, field = "userId"): void {
  if (isBlank(userId) || charCount(userId) > USER_ID_MAX_CHARS) {
    fail("INVALID_ARGUMENT", `${field} must be 1 to ${USER_ID_MAX_CHARS} characters, not only spaces.`);
  }
}

export function checkContent(content: string): void {
  if (content.length === 0) fail("INVALID_ARGUMENT", "The message is empty: write something to send.");
  const bytes = utf8Bytes(content);
  if (bytes > CONTENT_MAX_BYTES) {
    fail("INVALID_ARGUMENT", `The message is ${bytes} bytes; the limit is ${CONTENT_MAX_BYTES} bytes (UTF-8).`);
  }
}

// Metadata is plain JSON within what production Convex stores (tests/contract/README.md,
// "Metadata"): no NaN or Infinity, no bigint, no bytes, field names Convex accepts, its array,
// object and nesting limits; then at most `limit` bytes as JSON.
export function checkMetadata(metadata: Value | undefined, limit = METADATA_MAX_BYTES, field = "metadata"): void {
  if (metadata === undefined) return;
  const problem = metadataProblem(metadata, 1);
  if (problem !== null) fail("INVALID_ARGUMENT", `${field} must be plain JSON: ${problem}.`);
  const bytes = utf8Bytes(JSON.stringify(convexToJson(metadata)));
  if (bytes > limit) {
    fail("INVALID_ARGUMENT", `The ${field} is ${bytes} bytes as JSON; the limit is ${limit} bytes.`);
  }
}

// A batch of work-order events: 1 to EVENTS_PER_APPEND_MAX, each with bounded text and metadata.
export function checkEvents(events: { text: string; metadata?: Value }[]): void {
  if (events.length === 0 || events.length > EVENTS_PER_APPEND_MAX) {
    fail("INVALID_ARGUMENT", `events must hold 1 to ${EVENTS_PER_APPEND_MAX} events; got ${events.length}.`);
  }
  events.forEach((event, index) => {
    const bytes = utf8Bytes(event.text);
    if (bytes > EVENT_TEXT_MAX_BYTES) {
      fail(
        "INVALID_ARGUMENT",
        `events[${index}].text is ${bytes} bytes; the limit is ${EVENT_TEXT_MAX_BYTES} bytes (UTF-8): shorten it.`,
      );
    }
    checkMetadata(event.metadata, EVENT_METADATA_MAX_BYTES, `events[${index}].metadata`);
  });
}

export function checkSeq(seq: number | undefined, field: string): void {
  if (seq === undefined) return;
  if (!Number.isInteger(seq) || seq < 0) fail("INVALID_ARGUMENT", `${field} must be a whole number, 0 or more.`);
}

// What makes `value` (at nesting `depth`, the outermost value being 1) not allowed, or null.
function metadataProblem(value: Value, depth: number): string | null {
  if (value === null || typeof value === "boolean") return null;
  if (typeof value === "number") return Number.isFinite(value) ? null : `${value} is not a finite number`;
  if (typeof value === "string") return hasLoneSurrogate(value) ? "a string holds a lone surrogate" : null;
  if (typeof value === "bigint") return "64-bit integers (bigint) are not allowed; use a number";
  if (value instanceof ArrayBuffer) return "bytes are not allowed";
  if (depth > METADATA_MAX_DEPTH) return `it nests deeper than ${METADATA_MAX_DEPTH} levels`;
  if (Array.isArray(value)) {
    if (value.length > METADATA_MAX_ARRAY_ITEMS) return `an array has more than ${METADATA_MAX_ARRAY_ITEMS} items`;
    for (const item of value) {
      const problem = metadataProblem(item, depth + 1);
      if (problem !== null) return problem;
    }
    return null;
  }
  const entries = Object.entries(value);
  if (entries.length > METADATA_MAX_OBJECT_FIELDS) return `an object has more than ${METADATA_MAX_OBJECT_FIELDS} fields`;
  for (const [name, item] of entries) {
    if (name.length > METADATA_MAX_FIELD_NAME_CHARS || !FIELD_NAME.test(name)) {
      return `the field name ${JSON.stringify(name)} is not 1 to ${METADATA_MAX_FIELD_NAME_CHARS} printable ASCII characters not starting with "$" or "_"`;
    }
    const problem = metadataProblem(item as Value, depth + 1);
    if (problem !== null) return problem;
  }
  return null;
}

export function checkPrompt(prompt: string | undefined): void {
  if (prompt === undefined) return;
  const bytes = utf8Bytes(prompt);
  if (bytes > PROMPT_MAX_BYTES) {
    fail("INVALID_ARGUMENT", `The prompt is ${bytes} bytes; the limit is ${PROMPT_MAX_BYTES} bytes (UTF-8).`);
  }
}

export function checkWorkflowId(workflowId: string): void {
  if (charCount(workflowId) > WORKFLOW_ID_MAX_CHARS || !WORKFLOW_ID_PATTERN.test(workflowId)) {
    fail(
      "INVALID_ARGUMENT",
      `workflowId must be 1 to ${WORKFLOW_ID_MAX_CHARS} characters of letters, digits and . _ : -`,
    );
  }
}

export function checkUrl(url: string | undefined, field: string): void {
  if (url === undefined) return;
  if (charCount(url) > URL_MAX_CHARS || hasSpaceOrControl(url) || !HTTP_URL.test(url)) {
    fail("INVALID_ARGUMENT", `${field} must be an http(s) URL of at most ${URL_MAX_CHARS} characters.`);
  }
}

// Only a remote repository: a deployment is shared, so a path on some worker's disk (or file://)
// would clone whatever that worker can read. Local repositories are for the embedded store only,
// behind JANGAR_ALLOW_LOCAL_REPOS.
export function checkTargetRepo(repo: string | undefined): void {
  if (repo === undefined) return;
  const n = charCount(repo);
  if (n === 0 || n > TARGET_REPO_MAX_CHARS || hasSpaceOrControl(repo) || !REMOTE_REPO.some((form) => form.test(repo))) {
    fail("INVALID_ARGUMENT", "targetRepo must be https://…, ssh://…, user@host:path or owner/repo.");
  }
}

export function checkTargetBranch(branch: string | undefined): void {
  if (branch === undefined) return;
  const n = charCount(branch);
  if (n === 0 || n > TARGET_BRANCH_MAX_CHARS || hasSpaceOrControl(branch) || !isGitBranchName(branch)) {
    fail("INVALID_ARGUMENT", "targetBranch must be a git branch name, not starting with '-'.");
  }
}

export function checkPageSize(numItems: number): void {
  if (!Number.isInteger(numItems) || numItems < 1 || numItems > PAGE_SIZE_MAX) {
    fail("INVALID_ARGUMENT", `paginationOpts.numItems must be a whole number from 1 to ${PAGE_SIZE_MAX}.`);
  }
}
