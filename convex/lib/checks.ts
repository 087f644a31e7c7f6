// Checks of argument values beyond their type (the validators check types). Each refuses bad
// input with INVALID_ARGUMENT and a sentence naming the field and the rule.
import { convexToJson, type Value } from "convex/values";
import { fail } from "./errors";
import {
  CONTENT_MAX_BYTES,
  EVENT_METADATA_MAX_BYTES,
  EVENT_TEXT_MAX_BYTES,
  EVENTS_PER_APPEND_MAX,
  METADATA_MAX_BYTES,
  PAGE_SIZE_MAX,
  PROMPT_MAX_BYTES,
  TITLE_MAX_CHARS,
} from "./limits";

const WORKFLOW_ID_MAX_CHARS = 200;
const USER_ID_MAX_CHARS = 200;
const TARGET_REPO_MAX_CHARS = 500;
const TARGET_BRANCH_MAX_CHARS = 200;
const URL_MAX_CHARS = 2048;
const WORKFLOW_ID_PATTERN = /^[A-Za-z0-9._:-]+$/;
// Whitespace or control characters: never valid in a URL, repository or branch name.
const WHITESPACE_OR_CONTROL = /[\s\x00-\x1f\x7f]/;

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

export function checkTitle(title: string, field = "title"): string {
  const trimmed = title.trim();
  const n = charCount(trimmed);
  if (n === 0) fail("INVALID_ARGUMENT", `The ${field} is empty: give it at least one visible character.`);
  if (n > TITLE_MAX_CHARS) {
    fail("INVALID_ARGUMENT", `The ${field} has ${n} characters; shorten it to at most ${TITLE_MAX_CHARS}.`);
  }
  return trimmed;
}

export function checkUserId(userId: string, field = "userId"): void {
  if (userId.trim() === "" || charCount(userId) > USER_ID_MAX_CHARS) {
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

export function checkMetadata(metadata: Value | undefined, limit = METADATA_MAX_BYTES, field = "metadata"): void {
  if (metadata === undefined) return;
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
  if (charCount(url) > URL_MAX_CHARS || WHITESPACE_OR_CONTROL.test(url)) {
    fail("INVALID_ARGUMENT", `${field} must be an http(s) URL of at most ${URL_MAX_CHARS} characters without spaces.`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    fail("INVALID_ARGUMENT", `${field} is not a URL: give an absolute http(s) address.`);
  }
  if ((parsed.protocol !== "http:" && parsed.protocol !== "https:") || parsed.hostname === "") {
    fail("INVALID_ARGUMENT", `${field} must be an http or https URL with a host.`);
  }
}

export function checkTargetRepo(repo: string | undefined): void {
  if (repo === undefined) return;
  const n = charCount(repo);
  if (n === 0 || n > TARGET_REPO_MAX_CHARS || WHITESPACE_OR_CONTROL.test(repo)) {
    fail(
      "INVALID_ARGUMENT",
      `targetRepo must be 1 to ${TARGET_REPO_MAX_CHARS} characters without spaces or control characters.`,
    );
  }
}

export function checkTargetBranch(branch: string | undefined): void {
  if (branch === undefined) return;
  const n = charCount(branch);
  if (n === 0 || n > TARGET_BRANCH_MAX_CHARS || WHITESPACE_OR_CONTROL.test(branch) || branch.startsWith("-")) {
    fail(
      "INVALID_ARGUMENT",
      `targetBranch must be 1 to ${TARGET_BRANCH_MAX_CHARS} characters without spaces or control characters, not starting with "-".`,
    );
  }
}

export function checkPageSize(numItems: number): void {
  if (!Number.isInteger(numItems) || numItems < 1 || numItems > PAGE_SIZE_MAX) {
    fail("INVALID_ARGUMENT", `paginationOpts.numItems must be a whole number from 1 to ${PAGE_SIZE_MAX}.`);
  }
}
