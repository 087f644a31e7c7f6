import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "../_generated/api";
import { CONTENT_MAX_BYTES, METADATA_MAX_BYTES } from "../lib/limits";
import { expectCode, expectRefused, firstPage, newBackend, type Backend } from "../test.setup";

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(2_000_000);
});
afterEach(() => vi.useRealTimers());

async function session(t: Backend, userId = "alice") {
  return t.mutation(api.chatSessions.create, { userId, title: "Chat" });
}

describe("chatMessages", () => {
  test("a message appended while the clock is behind lists after the older ones", async () => {
    const t = newBackend();
    const s = await session(t);
    vi.setSystemTime(2_000_900);
    const first = await t.mutation(api.chatMessages.append, { sessionId: s._id, role: "user", content: "first" });
    vi.setSystemTime(2_000_100); // the clock steps back
    const second = await t.mutation(api.chatMessages.append, { sessionId: s._id, role: "user", content: "second" });
    expect(second.createdAt).toBe(first.createdAt);
    const page = await t.query(api.chatMessages.listBySession, { sessionId: s._id, paginationOpts: firstPage() });
    expect(page.page.map((m) => m.content)).toEqual(["second", "first"]);
    expect(await t.query(api.chatSessions.get, { sessionId: s._id })).toMatchObject({ lastMessageAt: 2_000_900 });
  });

  test("append stores the message and bumps lastMessageAt and updatedAt in the same mutation", async () => {
    const t = newBackend();
    const s = await session(t);
    vi.setSystemTime(2_000_500);
    const m = await t.mutation(api.chatMessages.append, {
      sessionId: s._id,
      role: "assistant",
      content: "hi",
      metadata: { model: "codex", n: 1, nested: [true, null] },
    });
    expect(m).toMatchObject({ sessionId: s._id, role: "assistant", content: "hi", createdAt: 2_000_500, updatedAt: 2_000_500 });
    expect(m.metadata).toEqual({ model: "codex", n: 1, nested: [true, null] });
    const bumped = await t.query(api.chatSessions.get, { sessionId: s._id });
    expect(bumped).toMatchObject({ lastMessageAt: 2_000_500, updatedAt: 2_000_500, createdAt: 2_000_000 });
  });

  test("append never moves lastMessageAt backwards", async () => {
    const t = newBackend();
    const s = await session(t);
    vi.setSystemTime(2_009_000);
    await t.mutation(api.chatMessages.append, { sessionId: s._id, role: "user", content: "late" });
    vi.setSystemTime(2_001_000);
    await t.mutation(api.chatMessages.append, { sessionId: s._id, role: "user", content: "clock went back" });
    expect((await t.query(api.chatSessions.get, { sessionId: s._id }))?.lastMessageAt).toBe(2_009_000);
  });

  test("append refuses bad roles, empty or oversized content and oversized metadata", async () => {
    const t = newBackend();
    const s = await session(t);
    const base = { sessionId: s._id, role: "user" as const };
    await expectRefused(t, () => t.mutation(api.chatMessages.append, { ...base, role: "bot" as never, content: "x" }), "INVALID_ARGUMENT");
    await expectRefused(t, () => t.mutation(api.chatMessages.append, { ...base, content: "" }), "INVALID_ARGUMENT");
    await expectRefused(t, () => t.mutation(api.chatMessages.append, { ...base, content: 5 as never }), "INVALID_ARGUMENT");
    // Bytes, not characters: 3-byte characters exceed the limit at a third of the length.
    const tooBig = "€".repeat(Math.floor(CONTENT_MAX_BYTES / 3) + 1);
    await expectRefused(t, () => t.mutation(api.chatMessages.append, { ...base, content: tooBig }), "INVALID_ARGUMENT");
    const atLimit = "a".repeat(CONTENT_MAX_BYTES);
    expect((await t.mutation(api.chatMessages.append, { ...base, content: atLimit })).content).toHaveLength(CONTENT_MAX_BYTES);
    const bigMeta = { blob: "m".repeat(METADATA_MAX_BYTES) };
    await expectRefused(t, () => t.mutation(api.chatMessages.append, { ...base, content: "x", metadata: bigMeta }), "INVALID_ARGUMENT");
    const fitsMeta = { b: "m".repeat(METADATA_MAX_BYTES - 8) }; // {"b":"…"} is 8 bytes of JSON around it
    expect((await t.mutation(api.chatMessages.append, { ...base, content: "x", metadata: fitsMeta })).metadata).toEqual(fitsMeta);
  });

  test("append to a deleted or unknown session is NOT_FOUND and changes nothing", async () => {
    const t = newBackend();
    const s = await session(t);
    await t.mutation(api.chatSessions.remove, { sessionId: s._id });
    await expectRefused(t, () => t.mutation(api.chatMessages.append, { sessionId: s._id, role: "user", content: "x" }), "NOT_FOUND");
    const gone = await session(t);
    await t.run((ctx) => ctx.db.delete(gone._id));
    await expectRefused(t, () => t.mutation(api.chatMessages.append, { sessionId: gone._id, role: "user", content: "x" }), "NOT_FOUND");
  });

  test("listBySession is newest first, paginates, and is empty for deleted or unknown sessions", async () => {
    const t = newBackend();
    const s = await session(t);
    const other = await session(t, "bob");
    await t.mutation(api.chatMessages.append, { sessionId: other._id, role: "user", content: "elsewhere" });
    for (let i = 0; i < 12; i++) {
      vi.setSystemTime(2_000_000 + i * 10);
      await t.mutation(api.chatMessages.append, { sessionId: s._id, role: "user", content: `m${i}` });
    }
    const p1 = await t.query(api.chatMessages.listBySession, { sessionId: s._id, paginationOpts: { numItems: 5, cursor: null } });
    expect(p1.page.map((m) => m.content)).toEqual(["m11", "m10", "m9", "m8", "m7"]);
    expect(p1.isDone).toBe(false);
    const p2 = await t.query(api.chatMessages.listBySession, { sessionId: s._id, paginationOpts: { numItems: 5, cursor: p1.continueCursor } });
    const p3 = await t.query(api.chatMessages.listBySession, { sessionId: s._id, paginationOpts: { numItems: 5, cursor: p2.continueCursor } });
    expect([...p2.page, ...p3.page].map((m) => m.content)).toEqual(["m6", "m5", "m4", "m3", "m2", "m1", "m0"]);
    expect(p3.isDone).toBe(true);
    await t.mutation(api.chatSessions.remove, { sessionId: s._id });
    expect(await t.query(api.chatMessages.listBySession, { sessionId: s._id, paginationOpts: firstPage() })).toEqual({
      page: [],
      isDone: true,
      continueCursor: expect.any(String),
    });
    await t.run((ctx) => ctx.db.delete(s._id));
    expect((await t.query(api.chatMessages.listBySession, { sessionId: s._id, paginationOpts: firstPage() })).page).toEqual([]);
    await expectCode(t.query(api.chatMessages.listBySession, { sessionId: s._id, paginationOpts: { numItems: 0, cursor: null } }), "INVALID_ARGUMENT");
  });

  test("remove hides one message, keeps lastMessageAt, is idempotent; restore brings it back", async () => {
    const t = newBackend();
    const s = await session(t);
    vi.setSystemTime(2_000_100);
    const m1 = await t.mutation(api.chatMessages.append, { sessionId: s._id, role: "user", content: "one" });
    vi.setSystemTime(2_000_200);
    const m2 = await t.mutation(api.chatMessages.append, { sessionId: s._id, role: "user", content: "two" });
    vi.setSystemTime(2_000_300);
    expect(await t.mutation(api.chatMessages.remove, { messageId: m2._id })).toBeNull();
    expect(await t.mutation(api.chatMessages.remove, { messageId: m2._id })).toBeNull();
    expect((await t.run((ctx) => ctx.db.get(m2._id)))?.deletedAt).toBe(2_000_300);
    const list = await t.query(api.chatMessages.listBySession, { sessionId: s._id, paginationOpts: firstPage() });
    expect(list.page.map((m) => m._id)).toEqual([m1._id]);
    expect((await t.query(api.chatSessions.get, { sessionId: s._id }))?.lastMessageAt).toBe(2_000_200);
    const restored = await t.mutation(api.chatMessages.restore, { messageId: m2._id });
    expect(restored).toMatchObject({ _id: m2._id, content: "two", createdAt: 2_000_200 });
    expect(restored.deletedAt).toBeUndefined();
    expect(await t.mutation(api.chatMessages.restore, { messageId: m1._id })).toEqual(m1);
    const again = await t.query(api.chatMessages.listBySession, { sessionId: s._id, paginationOpts: firstPage() });
    expect(again.page.map((m) => m._id)).toEqual([m2._id, m1._id]);
  });

  test("remove and restore of an unknown message are NOT_FOUND; other tables' ids INVALID_ARGUMENT", async () => {
    const t = newBackend();
    const s = await session(t);
    const m = await t.mutation(api.chatMessages.append, { sessionId: s._id, role: "user", content: "x" });
    await t.run((ctx) => ctx.db.delete(m._id));
    await expectRefused(t, () => t.mutation(api.chatMessages.remove, { messageId: m._id }), "NOT_FOUND");
    await expectRefused(t, () => t.mutation(api.chatMessages.restore, { messageId: m._id }), "NOT_FOUND");
    await expectRefused(t, () => t.mutation(api.chatMessages.remove, { messageId: s._id as never }), "INVALID_ARGUMENT");
  });
});
