// The page shape of the contract, {page, isDone, continueCursor}, and its cursors.
//
// A cursor is valid only for the list it came from (tests/contract/README.md, "Cursors"): Convex's
// own cursor travels inside an envelope naming the function and the list's key (user, session or
// status), base64url-encoded JSON `{"v":1,"fn":…,"key":…,"inner":…}`. `inner` null is the end of a
// list that had nothing to page (an unknown or deleted session). Anything else is INVALID_ARGUMENT.
import { v, type Validator } from "convex/values";
import type { PaginationOptions, PaginationResult } from "convex/server";
import { fail } from "./errors";

const CURSOR_VERSION = 1;

export function pageValidator<T>(item: Validator<T, "required", string>) {
  return v.object({ page: v.array(item), isDone: v.boolean(), continueCursor: v.string() });
}

export type Page<T> = { page: T[]; isDone: boolean; continueCursor: string };

// Which list a cursor belongs to: the contract function and the value it lists by.
export type ListIdentity = { fn: string; key: string };

type Envelope = { v: number; fn: string; key: string; inner: string | null };

function toBase64Url(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) throw new Error("not base64url");
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

export function encodeCursor(list: ListIdentity, inner: string | null): string {
  const envelope: Envelope = { v: CURSOR_VERSION, fn: list.fn, key: list.key, inner };
  return toBase64Url(JSON.stringify(envelope));
}

function invalidCursor(): never {
  fail("INVALID_ARGUMENT", "That page cursor is not valid for this list; start again from the first page.");
}

// The Convex cursor inside `cursor` (null: the list's end), or INVALID_ARGUMENT when the cursor is
// not one this list handed out.
export function openCursor(list: ListIdentity, cursor: string): string | null {
  let envelope: unknown;
  try {
    envelope = JSON.parse(fromBase64Url(cursor));
  } catch {
    invalidCursor();
  }
  const e = envelope as Partial<Envelope> | null;
  if (
    e === null ||
    typeof e !== "object" ||
    Array.isArray(e) ||
    Object.keys(e).length !== 4 ||
    e.v !== CURSOR_VERSION ||
    e.fn !== list.fn ||
    e.key !== list.key ||
    !(e.inner === null || (typeof e.inner === "string" && e.inner !== ""))
  ) {
    invalidCursor();
  }
  return e.inner;
}

// Checks the cursor of `opts` before anything else of the list is done; the caller then pages with
// `paginateList`.
export function checkCursor(list: ListIdentity, opts: PaginationOptions): void {
  if (opts.cursor !== null) openCursor(list, opts.cursor);
  if (typeof opts.endCursor === "string") openCursor(list, opts.endCursor);
}

// One page of `list`: `run` pages with Convex's own cursor; the result carries the list's envelope.
export async function paginateList<T>(
  list: ListIdentity,
  opts: PaginationOptions,
  run: (opts: PaginationOptions) => Promise<PaginationResult<T>>,
): Promise<Page<T>> {
  const inner = opts.cursor === null ? null : openCursor(list, opts.cursor);
  if (opts.cursor !== null && inner === null) return emptyPage(list);
  // endCursor (a page's end pinned by a client, as usePaginatedQuery does) is one of the list's
  // cursors too; the end of an empty list pins nothing.
  const endCursor = typeof opts.endCursor === "string" ? openCursor(list, opts.endCursor) : null;
  let result: PaginationResult<T>;
  try {
    result = await run({ numItems: opts.numItems, cursor: inner, ...(endCursor === null ? {} : { endCursor }) });
  } catch (error) {
    // An envelope of ours around something Convex cannot page from (a forged inner cursor).
    if (inner !== null || endCursor !== null) invalidCursor();
    throw error;
  }
  return { page: result.page, isDone: result.isDone, continueCursor: encodeCursor(list, result.continueCursor) };
}

// What a list of an unknown or deleted parent returns: a cursor that stays at the end.
export function emptyPage<T>(list: ListIdentity): Page<T> {
  return { page: [], isDone: true, continueCursor: encodeCursor(list, null) };
}
