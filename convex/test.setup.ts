// Shared by the vitest files (not a Convex module: the CLI skips names with two dots).
import { convexTest } from "convex-test";
import { ConvexError } from "convex/values";
import { expect } from "vitest";
import schema from "./schema";

// Every module of the functions directory, for convex-test (it finds the root via _generated/).
export const modules = import.meta.glob("./**/!(*.*.*)*.*s");

export function newBackend() {
  return convexTest(schema, modules);
}

export type Backend = ReturnType<typeof newBackend>;

// The contract code of a thrown error: ConvexError data.code, or INVALID_ARGUMENT for an
// argument validator failure or a value the Convex client cannot encode (a field name starting
// with "$" or not ASCII: refused before it is sent), as every client maps them. Anything else is a
// bug: rethrown.
export function contractCode(error: unknown): string {
  if (error instanceof ConvexError) {
    const data = typeof error.data === "string" ? JSON.parse(error.data) : error.data;
    const { code, message } = data as { code: string; message: string };
    // Every refusal explains itself in a sentence.
    expect(message, `${code} without a message`).toMatch(/\w+ .*\w/);
    return code;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/Validator error|ArgumentValidationError|does not match validator/.test(message)) return "INVALID_ARGUMENT";
  if (/^Field name .* (exceeds maximum field name length|starts with a '\$'|has invalid character)/s.test(message)) {
    return "INVALID_ARGUMENT";
  }
  throw error;
}

export async function expectCode(call: Promise<unknown>, code: string): Promise<void> {
  let result: unknown;
  try {
    result = await call;
  } catch (error) {
    expect(contractCode(error)).toBe(code);
    return;
  }
  expect.fail(`expected ${code}, got ${JSON.stringify(result)}`);
}

// Every row of every table: a refused call must leave this unchanged.
export async function dump(t: Backend): Promise<Record<string, unknown[]>> {
  return t.run(async (ctx) => ({
    chat_sessions: await ctx.db.query("chat_sessions").collect(),
    chat_messages: await ctx.db.query("chat_messages").collect(),
    work_orders: await ctx.db.query("work_orders").collect(),
    work_order_events: await ctx.db.query("work_order_events").collect(),
  }));
}

// Runs `call`, expects it to fail with `code` and to have changed nothing.
export async function expectRefused(t: Backend, call: () => Promise<unknown>, code: string): Promise<void> {
  const before = await dump(t);
  await expectCode(call(), code);
  expect(await dump(t)).toEqual(before);
}

export const firstPage = (numItems = 200) => ({ numItems, cursor: null });
