import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { PROMPT_MAX_BYTES } from "../lib/limits";
import { expectCode, expectRefused, firstPage, newBackend, type Backend } from "../test.setup";

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(3_000_000);
});
afterEach(() => vi.useRealTimers());

async function setup(t: Backend) {
  return t.mutation(api.chatSessions.create, { userId: "alice", title: "Work" });
}

function create(t: Backend, sessionId: Id<"chat_sessions">, extra: Record<string, unknown> = {}) {
  return t.mutation(api.workOrders.create, { sessionId, workflowId: `wf-${Math.random().toString(36).slice(2)}`, ...extra });
}

describe("workOrders:create", () => {
  test("stores every field, starts in draft, or in submitted when asked", async () => {
    const t = newBackend();
    const s = await setup(t);
    const w = await t.mutation(api.workOrders.create, {
      sessionId: s._id,
      workflowId: "jangar-wo-1",
      title: " Fix it ",
      prompt: "Please fix it.",
      githubIssueUrl: "https://github.com/acme/app/issues/1",
      requestedBy: "alice",
      targetRepo: "acme/app",
      targetBranch: "main",
    });
    expect(w).toMatchObject({
      sessionId: s._id,
      workflowId: "jangar-wo-1",
      title: "Fix it",
      prompt: "Please fix it.",
      githubIssueUrl: "https://github.com/acme/app/issues/1",
      requestedBy: "alice",
      targetRepo: "acme/app",
      targetBranch: "main",
      status: "draft",
      createdAt: 3_000_000,
      updatedAt: 3_000_000,
    });
    expect(w.prUrl).toBeUndefined();
    const sub = await t.mutation(api.workOrders.create, { sessionId: s._id, workflowId: "jangar-wo-2", status: "submitted" });
    expect(sub.status).toBe("submitted");
    expect(Object.keys(sub).sort()).toEqual(["_creationTime", "_id", "createdAt", "sessionId", "status", "updatedAt", "workflowId"]);
  });

  test("refuses every kind of bad field and stores nothing", async () => {
    const t = newBackend();
    const s = await setup(t);
    const bad: Record<string, unknown>[] = [
      { workflowId: "" },
      { workflowId: "a b" },
      { workflowId: "a/b" },
      { workflowId: "w".repeat(201) },
      { title: "  " },
      { title: "t".repeat(201) },
      { prompt: "€".repeat(Math.floor(PROMPT_MAX_BYTES / 3) + 1) },
      { githubIssueUrl: "ftp://x.org/1" },
      { githubIssueUrl: "javascript:alert(1)" },
      { githubIssueUrl: "https://" },
      { githubIssueUrl: "relative/path" },
      { githubIssueUrl: "https://x.org/a b" },
      { githubIssueUrl: `https://x.org/${"p".repeat(2048)}` },
      { requestedBy: "" },
      { requestedBy: " " },
      { targetRepo: "" },
      { targetRepo: "acme/my app" },
      { targetRepo: "o/" + "r".repeat(499) },
      { targetRepo: "acme/\u0007bell" },
      { targetBranch: "" },
      { targetBranch: "-x" },
      { targetBranch: "feat\tx" },
      { targetBranch: "b".repeat(201) },
      { status: "running" },
      { status: "nope" },
      { prompt: 3 },
    ];
    for (const extra of bad) {
      await expectRefused(
        t,
        () => t.mutation(api.workOrders.create, { sessionId: s._id, workflowId: "jangar-wo-x", ...extra } as never),
        "INVALID_ARGUMENT",
      );
    }
    const edge = await t.mutation(api.workOrders.create, {
      sessionId: s._id,
      workflowId: "w".repeat(200),
      prompt: "€".repeat(Math.floor(PROMPT_MAX_BYTES / 3)),
      targetRepo: "o/" + "r".repeat(498),
      targetBranch: "b-".repeat(100),
      githubIssueUrl: "http://localhost:8080/x?y=1#z",
    });
    expect(edge.workflowId).toHaveLength(200);
  });

  test("a workflowId can be used once, even after its work order was deleted", async () => {
    const t = newBackend();
    const s = await setup(t);
    const w = await t.mutation(api.workOrders.create, { sessionId: s._id, workflowId: "jangar-wo-dup" });
    await expectRefused(t, () => t.mutation(api.workOrders.create, { sessionId: s._id, workflowId: "jangar-wo-dup" }), "CONFLICT");
    await t.mutation(api.workOrders.remove, { workOrderId: w._id });
    await expectRefused(t, () => t.mutation(api.workOrders.create, { sessionId: s._id, workflowId: "jangar-wo-dup" }), "CONFLICT");
  });

  test("a deleted or unknown session is NOT_FOUND", async () => {
    const t = newBackend();
    const s = await setup(t);
    await t.mutation(api.chatSessions.remove, { sessionId: s._id });
    await expectRefused(t, () => create(t, s._id), "NOT_FOUND");
    await t.run((ctx) => ctx.db.delete(s._id));
    await expectRefused(t, () => create(t, s._id), "NOT_FOUND");
  });
});

describe("workOrders: status, result, lists, get, remove, restore", () => {
  test("updateStatus with expectedStatus: compare-and-set", async () => {
    const t = newBackend();
    const s = await setup(t);
    const w = await create(t, s._id);
    vi.setSystemTime(3_000_100);
    const sub = await t.mutation(api.workOrders.updateStatus, { workOrderId: w._id, status: "submitted", expectedStatus: "draft" });
    expect(sub).toMatchObject({ status: "submitted", updatedAt: 3_000_100 });
    await expectRefused(t, () => t.mutation(api.workOrders.updateStatus, { workOrderId: w._id, status: "accepted", expectedStatus: "draft" }), "CONFLICT");
    // A stale expectedStatus wins over an invalid transition: the caller must reload first.
    await expectRefused(t, () => t.mutation(api.workOrders.updateStatus, { workOrderId: w._id, status: "draft", expectedStatus: "running" }), "CONFLICT");
    vi.setSystemTime(3_000_200);
    const same = await t.mutation(api.workOrders.updateStatus, { workOrderId: w._id, status: "submitted", expectedStatus: "submitted" });
    expect(same).toEqual(sub);
  });

  test("updateResult sets and clears prUrl, validates it, and refuses deleted work orders", async () => {
    const t = newBackend();
    const s = await setup(t);
    const w = await create(t, s._id);
    vi.setSystemTime(3_000_400);
    const withPr = await t.mutation(api.workOrders.updateResult, { workOrderId: w._id, prUrl: "https://github.com/a/b/pull/2" });
    expect(withPr).toMatchObject({ prUrl: "https://github.com/a/b/pull/2", updatedAt: 3_000_400 });
    await expectRefused(t, () => t.mutation(api.workOrders.updateResult, { workOrderId: w._id, prUrl: "mailto:x@y.z" }), "INVALID_ARGUMENT");
    const cleared = await t.mutation(api.workOrders.updateResult, { workOrderId: w._id });
    expect(cleared.prUrl).toBeUndefined();
    await t.mutation(api.workOrders.remove, { workOrderId: w._id });
    await expectRefused(t, () => t.mutation(api.workOrders.updateResult, { workOrderId: w._id, prUrl: "https://x.org/1" }), "NOT_FOUND");
    await expectRefused(t, () => t.mutation(api.workOrders.updateStatus, { workOrderId: w._id, status: "submitted" }), "NOT_FOUND");
  });

  test("listBySession is by createdAt desc; listByStatus by updatedAt desc; both paginate and hide deleted rows", async () => {
    const t = newBackend();
    const s = await setup(t);
    const other = await t.mutation(api.chatSessions.create, { userId: "alice", title: "Other" });
    const elsewhere = await create(t, other._id);
    const ids: Id<"work_orders">[] = [];
    for (let i = 0; i < 7; i++) {
      vi.setSystemTime(3_000_000 + i * 10);
      ids.push((await create(t, s._id))._id);
    }
    const bySession = async (numItems: number, cursor: string | null) =>
      t.query(api.workOrders.listBySession, { sessionId: s._id, paginationOpts: { numItems, cursor } });
    const p1 = await bySession(4, null);
    const p2 = await bySession(4, p1.continueCursor);
    expect([...p1.page, ...p2.page].map((w) => w._id)).toEqual([...ids].reverse());
    expect([p1.isDone, p2.isDone]).toEqual([false, true]);
    // Submitting the oldest first, then the newest: the last updated comes first.
    vi.setSystemTime(3_001_000);
    await t.mutation(api.workOrders.updateStatus, { workOrderId: ids[0], status: "submitted" });
    vi.setSystemTime(3_002_000);
    await t.mutation(api.workOrders.updateStatus, { workOrderId: ids[6], status: "submitted" });
    vi.setSystemTime(3_003_000);
    await t.mutation(api.workOrders.updateStatus, { workOrderId: ids[3], status: "submitted" });
    const submitted = await t.query(api.workOrders.listByStatus, { status: "submitted", paginationOpts: firstPage() });
    expect(submitted.page.map((w) => w._id)).toEqual([ids[3], ids[6], ids[0]]);
    await t.mutation(api.workOrders.remove, { workOrderId: ids[5] });
    const drafts = await t.query(api.workOrders.listByStatus, { status: "draft", paginationOpts: firstPage() });
    expect(drafts.page.map((w) => w._id)).toEqual([ids[4], ids[2], ids[1], elsewhere._id]);
    expect((await bySession(50, null)).page.map((w) => w._id)).not.toContain(ids[5]);
    await expectCode(t.query(api.workOrders.listByStatus, { status: "draft", paginationOpts: { numItems: 201, cursor: null } }), "INVALID_ARGUMENT");
    await expectCode(t.query(api.workOrders.listBySession, { sessionId: s._id, paginationOpts: { numItems: 0, cursor: null } }), "INVALID_ARGUMENT");
  });

  test("listBySession of a deleted session is empty", async () => {
    const t = newBackend();
    const s = await setup(t);
    const w = await create(t, s._id);
    await t.mutation(api.workOrders.updateStatus, { workOrderId: w._id, status: "canceled" });
    await t.mutation(api.chatSessions.remove, { sessionId: s._id });
    expect((await t.query(api.workOrders.listBySession, { sessionId: s._id, paginationOpts: firstPage() })).page).toEqual([]);
  });

  test("remove refuses while submitted, accepted or running; get hides deleted; restore brings back", async () => {
    const t = newBackend();
    const s = await setup(t);
    const w = await create(t, s._id, { status: "submitted" });
    await expectRefused(t, () => t.mutation(api.workOrders.remove, { workOrderId: w._id }), "CONFLICT");
    await t.mutation(api.workOrders.updateStatus, { workOrderId: w._id, status: "accepted" });
    await expectRefused(t, () => t.mutation(api.workOrders.remove, { workOrderId: w._id }), "CONFLICT");
    await t.mutation(api.workOrders.updateStatus, { workOrderId: w._id, status: "running" });
    await expectRefused(t, () => t.mutation(api.workOrders.remove, { workOrderId: w._id }), "CONFLICT");
    await t.mutation(api.workOrders.updateStatus, { workOrderId: w._id, status: "failed" });
    vi.setSystemTime(3_000_900);
    expect(await t.mutation(api.workOrders.remove, { workOrderId: w._id })).toBeNull();
    expect((await t.run((ctx) => ctx.db.get(w._id)))?.deletedAt).toBe(3_000_900);
    expect(await t.query(api.workOrders.get, { workOrderId: w._id })).toBeNull();
    expect(await t.mutation(api.workOrders.remove, { workOrderId: w._id })).toBeNull();
    const back = await t.mutation(api.workOrders.restore, { workOrderId: w._id });
    expect(back).toMatchObject({ _id: w._id, status: "failed" });
    expect(back.deletedAt).toBeUndefined();
    expect(await t.query(api.workOrders.get, { workOrderId: w._id })).toEqual(back);
    expect(await t.mutation(api.workOrders.restore, { workOrderId: w._id })).toEqual(back);
  });

  test("unknown work orders: get null, the rest NOT_FOUND; ids of other tables INVALID_ARGUMENT", async () => {
    const t = newBackend();
    const s = await setup(t);
    const w = await create(t, s._id);
    await t.run((ctx) => ctx.db.delete(w._id));
    expect(await t.query(api.workOrders.get, { workOrderId: w._id })).toBeNull();
    for (const call of [
      () => t.mutation(api.workOrders.updateStatus, { workOrderId: w._id, status: "submitted" }),
      () => t.mutation(api.workOrders.updateResult, { workOrderId: w._id }),
      () => t.mutation(api.workOrders.remove, { workOrderId: w._id }),
      () => t.mutation(api.workOrders.restore, { workOrderId: w._id }),
    ]) {
      await expectRefused(t, call, "NOT_FOUND");
    }
    await expectCode(t.query(api.workOrders.get, { workOrderId: s._id as never }), "INVALID_ARGUMENT");
    await expectCode(t.query(api.workOrders.listByStatus, { status: "queued" as never, paginationOpts: firstPage() }), "INVALID_ARGUMENT");
  });
});

describe("launching follow-ups: one run at a time in a worktree", () => {
  test("of two follow-ups of one chain launched at once, one is submitted and the other refused", async () => {
    const t = newBackend();
    const s = await setup(t);
    const first = await create(t, s._id, { targetRepo: "acme/app", status: "submitted" });
    await t.mutation(api.workOrders.updateStatus, { workOrderId: first._id, status: "failed" });
    const a = await create(t, s._id, { prompt: "A", targetRepo: "acme/app", followUpOf: first._id });
    const b = await create(t, s._id, { prompt: "B", targetRepo: "acme/app", followUpOf: first._id });
    const launches = await Promise.allSettled(
      [a, b].map((w) => t.mutation(api.workOrders.updateStatus, { workOrderId: w._id, status: "submitted", expectedStatus: "draft" })),
    );
    expect(launches.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const [refused] = launches.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    await expectCode(Promise.reject(refused.reason), "CONFLICT");
    expect(String(refused.reason)).toContain("same worktree");
    const statuses = await Promise.all([a, b].map((w) => t.query(api.workOrders.get, { workOrderId: w._id })));
    expect(statuses.map((w) => w?.status).sort()).toEqual(["draft", "submitted"]);
  });

  test("a follow-up of a follow-up is in the chain; a deleted link ends it", async () => {
    const t = newBackend();
    const s = await setup(t);
    const first = await create(t, s._id, { targetRepo: "acme/app", status: "submitted" });
    await t.mutation(api.workOrders.updateStatus, { workOrderId: first._id, status: "canceled" });
    const second = await create(t, s._id, { prompt: "2", followUpOf: first._id, status: "submitted" });
    await t.mutation(api.workOrders.updateStatus, { workOrderId: second._id, status: "canceled" });
    const third = await create(t, s._id, { prompt: "3", followUpOf: second._id, status: "submitted" });
    // A draft following up the first is in the same worktree as the third, which runs.
    const sibling = await create(t, s._id, { prompt: "4", followUpOf: first._id });
    await expectRefused(t, () => t.mutation(api.workOrders.updateStatus, { workOrderId: sibling._id, status: "submitted" }), "CONFLICT");
    // The second deleted, the third's chain starts at the third: the sibling's is free.
    await t.mutation(api.workOrders.remove, { workOrderId: second._id });
    expect((await t.mutation(api.workOrders.updateStatus, { workOrderId: sibling._id, status: "submitted" })).status).toBe("submitted");
    expect(third.status).toBe("submitted");
  });
});
