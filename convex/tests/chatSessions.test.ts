import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "../_generated/api";
import { expectCode, expectRefused, firstPage, newBackend } from "../test.setup";

// Recency needs distinct timestamps: only Date is faked, so promises and timers behave.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(1_000_000);
});
afterEach(() => vi.useRealTimers());

const tick = (ms = 1000) => vi.setSystemTime(Date.now() + ms);

describe("chatSessions", () => {
  test("create trims the title and sets server timestamps", async () => {
    const t = newBackend();
    const s = await t.mutation(api.chatSessions.create, { userId: "alice", title: "  Hello  " });
    expect(s).toMatchObject({ userId: "alice", title: "Hello", lastMessageAt: 1_000_000, createdAt: 1_000_000, updatedAt: 1_000_000 });
    expect(s.deletedAt).toBeUndefined();
    expect(await t.query(api.chatSessions.get, { sessionId: s._id })).toEqual(s);
  });

  test("create refuses bad titles and user ids and stores nothing", async () => {
    const t = newBackend();
    for (const title of ["", "   ", "x".repeat(201), "é".repeat(201)]) {
      await expectRefused(t, () => t.mutation(api.chatSessions.create, { userId: "alice", title }), "INVALID_ARGUMENT");
    }
    for (const userId of ["", "  ", "u".repeat(201)]) {
      await expectRefused(t, () => t.mutation(api.chatSessions.create, { userId, title: "ok" }), "INVALID_ARGUMENT");
    }
    // 200 code points that are 400 UTF-16 units: still a valid title.
    const emoji = await t.mutation(api.chatSessions.create, { userId: "alice", title: "😀".repeat(200) });
    expect([...emoji.title]).toHaveLength(200);
  });

  test("list is per user, newest lastMessageAt first, and an append moves a session to the top", async () => {
    const t = newBackend();
    const a = await t.mutation(api.chatSessions.create, { userId: "alice", title: "A" });
    tick();
    const b = await t.mutation(api.chatSessions.create, { userId: "alice", title: "B" });
    tick();
    await t.mutation(api.chatSessions.create, { userId: "bob", title: "Bob" });
    const ids = async () =>
      (await t.query(api.chatSessions.list, { userId: "alice", paginationOpts: firstPage() })).page.map((s) => s._id);
    expect(await ids()).toEqual([b._id, a._id]);
    tick();
    await t.mutation(api.chatMessages.append, { sessionId: a._id, role: "user", content: "bump" });
    expect(await ids()).toEqual([a._id, b._id]);
    tick();
    await t.mutation(api.chatSessions.updateLastMessage, { sessionId: b._id });
    expect(await ids()).toEqual([b._id, a._id]);
  });

  test("list paginates over more rows than a page without gaps or repeats", async () => {
    const t = newBackend();
    const created = [];
    for (let i = 0; i < 25; i++) {
      created.push((await t.mutation(api.chatSessions.create, { userId: "alice", title: `S${i}` }))._id);
      tick(1);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page: { page: { _id: string }[]; isDone: boolean; continueCursor: string } = await t.query(
        api.chatSessions.list,
        { userId: "alice", paginationOpts: { numItems: 10, cursor } },
      );
      seen.push(...page.page.map((s) => s._id));
      if (page.isDone) break;
      cursor = page.continueCursor;
    }
    expect(seen).toEqual(created.reverse());
  });

  test("list refuses page sizes outside 1..200", async () => {
    const t = newBackend();
    for (const numItems of [0, -1, 201, 2.5]) {
      await expectCode(t.query(api.chatSessions.list, { userId: "alice", paginationOpts: { numItems, cursor: null } }), "INVALID_ARGUMENT");
    }
    const ok = await t.query(api.chatSessions.list, { userId: "alice", paginationOpts: { numItems: 200, cursor: null } });
    expect(ok).toEqual({ page: [], isDone: true, continueCursor: expect.any(String) });
  });

  test("updateLastMessage never moves lastMessageAt backwards", async () => {
    const t = newBackend();
    const s = await t.mutation(api.chatSessions.create, { userId: "alice", title: "A" });
    tick(5000);
    const later = await t.mutation(api.chatSessions.updateLastMessage, { sessionId: s._id });
    expect(later.lastMessageAt).toBe(1_005_000);
    vi.setSystemTime(1_001_000); // the clock steps back (another server, NTP)
    const again = await t.mutation(api.chatSessions.updateLastMessage, { sessionId: s._id });
    expect(again.lastMessageAt).toBe(1_005_000);
  });

  test("rename trims, bumps updatedAt and refuses an empty title", async () => {
    const t = newBackend();
    const s = await t.mutation(api.chatSessions.create, { userId: "alice", title: "A" });
    tick();
    const renamed = await t.mutation(api.chatSessions.rename, { sessionId: s._id, title: " B " });
    expect(renamed).toMatchObject({ title: "B", updatedAt: 1_001_000, createdAt: 1_000_000, lastMessageAt: 1_000_000 });
    await expectRefused(t, () => t.mutation(api.chatSessions.rename, { sessionId: s._id, title: "\n" }), "INVALID_ARGUMENT");
  });

  test("remove soft-deletes, hides from get and list, refuses changes; restore brings it back", async () => {
    const t = newBackend();
    const s = await t.mutation(api.chatSessions.create, { userId: "alice", title: "A" });
    tick();
    expect(await t.mutation(api.chatSessions.remove, { sessionId: s._id })).toBeNull();
    const stored = await t.run((ctx) => ctx.db.get(s._id));
    expect(stored?.deletedAt).toBe(1_001_000);
    expect(await t.query(api.chatSessions.get, { sessionId: s._id })).toBeNull();
    expect((await t.query(api.chatSessions.list, { userId: "alice", paginationOpts: firstPage() })).page).toEqual([]);
    await expectRefused(t, () => t.mutation(api.chatSessions.rename, { sessionId: s._id, title: "B" }), "NOT_FOUND");
    await expectRefused(t, () => t.mutation(api.chatSessions.updateLastMessage, { sessionId: s._id }), "NOT_FOUND");
    // Removing again is a no-op that keeps the first deletion time.
    tick();
    expect(await t.mutation(api.chatSessions.remove, { sessionId: s._id })).toBeNull();
    expect((await t.run((ctx) => ctx.db.get(s._id)))?.deletedAt).toBe(1_001_000);
    const restored = await t.mutation(api.chatSessions.restore, { sessionId: s._id });
    expect(restored.deletedAt).toBeUndefined();
    expect(restored.title).toBe("A");
    expect(await t.query(api.chatSessions.get, { sessionId: s._id })).toEqual(restored);
    expect(await t.mutation(api.chatSessions.restore, { sessionId: s._id })).toEqual(restored);
  });

  test("remove refuses while a non-terminal work order is alive, draft included", async () => {
    const t = newBackend();
    const s = await t.mutation(api.chatSessions.create, { userId: "alice", title: "A" });
    const w = await t.mutation(api.workOrders.create, { sessionId: s._id, workflowId: "wf-1" });
    await expectRefused(t, () => t.mutation(api.chatSessions.remove, { sessionId: s._id }), "CONFLICT");
    await t.mutation(api.workOrders.updateStatus, { workOrderId: w._id, status: "canceled" });
    expect(await t.mutation(api.chatSessions.remove, { sessionId: s._id })).toBeNull();
  });

  test("a deleted draft does not block removal", async () => {
    const t = newBackend();
    const s = await t.mutation(api.chatSessions.create, { userId: "alice", title: "A" });
    const w = await t.mutation(api.workOrders.create, { sessionId: s._id, workflowId: "wf-1" });
    await t.mutation(api.workOrders.remove, { workOrderId: w._id });
    expect(await t.mutation(api.chatSessions.remove, { sessionId: s._id })).toBeNull();
  });

  test("unknown ids: get gives null, changes give NOT_FOUND, wrong tables INVALID_ARGUMENT", async () => {
    const t = newBackend();
    const s = await t.mutation(api.chatSessions.create, { userId: "alice", title: "A" });
    const m = await t.mutation(api.chatMessages.append, { sessionId: s._id, role: "user", content: "x" });
    const gone = await t.mutation(api.chatSessions.create, { userId: "alice", title: "gone" });
    await t.run((ctx) => ctx.db.delete(gone._id)); // a hard delete, only to get an unknown id
    expect(await t.query(api.chatSessions.get, { sessionId: gone._id })).toBeNull();
    for (const call of [
      () => t.mutation(api.chatSessions.rename, { sessionId: gone._id, title: "B" }),
      () => t.mutation(api.chatSessions.updateLastMessage, { sessionId: gone._id }),
      () => t.mutation(api.chatSessions.remove, { sessionId: gone._id }),
      () => t.mutation(api.chatSessions.restore, { sessionId: gone._id }),
    ]) {
      await expectRefused(t, call, "NOT_FOUND");
    }
    await expectCode(t.query(api.chatSessions.get, { sessionId: m._id as never }), "INVALID_ARGUMENT");
    await expectCode(t.query(api.chatSessions.get, { sessionId: "nope" as never }), "INVALID_ARGUMENT");
  });
});
