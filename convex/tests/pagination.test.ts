// Cursors are the list's own (lib/pagination.ts): beyond the contract scenarios, the forged ones a
// scenario cannot write (they name a session id made during the test).
import { describe, expect, test } from "vitest";
import { api } from "../_generated/api";
import { encodeCursor, openCursor } from "../lib/pagination";
import { expectCode, newBackend } from "../test.setup";

function envelope(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

describe("page cursors", () => {
  test("round-trip, and name their list", () => {
    const list = { fn: "chatSessions:list", key: "ünïcode user" };
    const cursor = encodeCursor(list, "inner");
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(openCursor(list, cursor)).toBe("inner");
    expect(openCursor(list, encodeCursor(list, null))).toBeNull();
    expect(() => openCursor({ ...list, key: "another user" }, cursor)).toThrow();
  });

  test("a forged envelope around something Convex cannot page from is INVALID_ARGUMENT, not an outage", async () => {
    const t = newBackend();
    const s = await t.mutation(api.chatSessions.create, { userId: "alice", title: "Forged" });
    await t.mutation(api.chatMessages.append, { sessionId: s._id, role: "user", content: "hi" });
    const fn = "chatMessages:listBySession";
    const forged = [
      envelope({ v: 1, fn, key: s._id, inner: "not a convex cursor" }),
      envelope({ v: 1, fn, key: s._id, inner: "" }),
      envelope({ v: 2, fn, key: s._id, inner: null }),
      envelope({ v: 1, fn, key: s._id, inner: null, extra: 1 }),
      envelope({ v: 1, fn, key: s._id }),
      envelope([1, fn, s._id, null]),
    ];
    for (const cursor of forged) {
      await expectCode(
        t.query(api.chatMessages.listBySession, { sessionId: s._id, paginationOpts: { numItems: 5, cursor } }),
        "INVALID_ARGUMENT",
      );
    }
    // The same envelope, honestly made, is the end of the list.
    const end = envelope({ v: 1, fn, key: s._id, inner: null });
    expect(await t.query(api.chatMessages.listBySession, { sessionId: s._id, paginationOpts: { numItems: 5, cursor: end } })).toEqual({
      page: [],
      isDone: true,
      continueCursor: end,
    });
  });
});
