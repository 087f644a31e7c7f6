// JANGAR_REQUIRE_AUTH=true: every function needs a signed-in user and only touches their data.
// `env` is process.env, which the functions read at call time.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { api, internal } from "../_generated/api";
import { env } from "../_generated/server";
import { expectCode, expectRefused, firstPage, newBackend, type Backend } from "../test.setup";

const saved = env.JANGAR_REQUIRE_AUTH;
function restoreEnv() {
  if (saved === undefined) delete env.JANGAR_REQUIRE_AUTH;
  else env.JANGAR_REQUIRE_AUTH = saved;
}

// Users are named by their tokenIdentifier (issuer|subject), which convex-test derives like this.
const ISSUER = "https://auth.example.test";
const ALICE = `${ISSUER}|alice`;
const BOB = `${ISSUER}|bob`;
const as = (t: Backend, subject: string, issuer = ISSUER) => t.withIdentity({ subject, issuer });

// Data of two users, made in trusted mode through the functions themselves.
async function seed(t: Backend) {
  const s = await t.mutation(api.chatSessions.create, { userId: ALICE, title: "Alice's" });
  const m = await t.mutation(api.chatMessages.append, { sessionId: s._id, role: "user", content: "secret" });
  const w = await t.mutation(api.workOrders.create, { sessionId: s._id, workflowId: "wf-alice", requestedBy: ALICE });
  return { s, m, w };
}

describe("trusted mode (default)", () => {
  beforeEach(() => {
    delete env.JANGAR_REQUIRE_AUTH;
  });
  afterEach(restoreEnv);

  test("operators act for any user without signing in, and a signed-in identity changes nothing", async () => {
    const t = newBackend();
    const { s } = await seed(t);
    expect((await t.query(api.chatSessions.list, { userId: ALICE, paginationOpts: firstPage() })).page).toHaveLength(1);
    const bob = as(t, "bob");
    expect(await bob.query(api.chatSessions.get, { sessionId: s._id })).toMatchObject({ userId: ALICE });
    expect(await bob.mutation(api.chatSessions.rename, { sessionId: s._id, title: "Renamed by an operator" })).toMatchObject({
      title: "Renamed by an operator",
    });
  });

  test("JANGAR_REQUIRE_AUTH other than \"true\" keeps trusted mode", async () => {
    env.JANGAR_REQUIRE_AUTH = "false";
    const t = newBackend();
    await seed(t);
    expect((await t.query(api.workOrders.listByStatus, { status: "draft", paginationOpts: firstPage() })).page).toHaveLength(1);
  });
});

describe("auth required", () => {
  let t: Backend;
  let ids: Awaited<ReturnType<typeof seed>>;
  beforeEach(async () => {
    delete env.JANGAR_REQUIRE_AUTH;
    t = newBackend();
    ids = await seed(t);
    env.JANGAR_REQUIRE_AUTH = "true";
  });
  afterEach(restoreEnv);

  test("the owner can use every function", async () => {
    const alice = as(t, "alice");
    const { s, m, w } = ids;
    expect((await alice.query(api.chatSessions.list, { userId: ALICE, paginationOpts: firstPage() })).page).toHaveLength(1);
    expect(await alice.query(api.chatSessions.get, { sessionId: s._id })).toMatchObject({ _id: s._id });
    await alice.mutation(api.chatSessions.rename, { sessionId: s._id, title: "Mine" });
    await alice.mutation(api.chatSessions.updateLastMessage, { sessionId: s._id });
    await alice.mutation(api.chatMessages.append, { sessionId: s._id, role: "user", content: "more" });
    expect((await alice.query(api.chatMessages.listBySession, { sessionId: s._id, paginationOpts: firstPage() })).page).toHaveLength(2);
    await alice.mutation(api.chatMessages.remove, { messageId: m._id });
    await alice.mutation(api.chatMessages.restore, { messageId: m._id });
    // requestedBy defaults to the caller.
    const w2 = await alice.mutation(api.workOrders.create, { sessionId: s._id, workflowId: "wf-alice-2" });
    expect(w2.requestedBy).toBe(ALICE);
    await alice.mutation(api.workOrders.updateStatus, { workOrderId: w._id, status: "canceled" });
    await alice.mutation(api.workOrders.updateResult, { workOrderId: w._id, prUrl: "https://x.org/pr/1" });
    expect((await alice.query(api.workOrders.listBySession, { sessionId: s._id, paginationOpts: firstPage() })).page).toHaveLength(2);
    expect((await alice.query(api.workOrders.listByStatus, { status: "draft", paginationOpts: firstPage() })).page.map((x) => x._id)).toEqual([w2._id]);
    expect(await alice.query(api.workOrders.get, { workOrderId: w._id })).toMatchObject({ status: "canceled" });
    await alice.mutation(api.workOrders.remove, { workOrderId: w._id });
    await alice.mutation(api.workOrders.restore, { workOrderId: w._id });
    await alice.mutation(api.workOrders.updateStatus, { workOrderId: w2._id, status: "canceled" });
    expect(await alice.mutation(api.chatSessions.remove, { sessionId: s._id })).toBeNull();
    expect(await alice.mutation(api.chatSessions.restore, { sessionId: s._id })).toMatchObject({ _id: s._id });
  });

  test("another user is FORBIDDEN everywhere and changes nothing", async () => {
    const bob = as(t, "bob");
    const { s, m, w } = ids;
    const page = firstPage();
    const calls: (() => Promise<unknown>)[] = [
      () => bob.mutation(api.chatSessions.create, { userId: ALICE, title: "Impostor" }),
      () => bob.query(api.chatSessions.list, { userId: ALICE, paginationOpts: page }),
      () => bob.query(api.chatSessions.get, { sessionId: s._id }),
      () => bob.mutation(api.chatSessions.updateLastMessage, { sessionId: s._id }),
      () => bob.mutation(api.chatSessions.rename, { sessionId: s._id, title: "Mine now" }),
      () => bob.mutation(api.chatSessions.remove, { sessionId: s._id }),
      () => bob.mutation(api.chatSessions.restore, { sessionId: s._id }),
      () => bob.mutation(api.chatMessages.append, { sessionId: s._id, role: "user", content: "hi" }),
      () => bob.query(api.chatMessages.listBySession, { sessionId: s._id, paginationOpts: page }),
      () => bob.mutation(api.chatMessages.remove, { messageId: m._id }),
      () => bob.mutation(api.chatMessages.restore, { messageId: m._id }),
      () => bob.mutation(api.workOrders.create, { sessionId: s._id, workflowId: "wf-bob" }),
      () => bob.mutation(api.workOrders.updateStatus, { workOrderId: w._id, status: "canceled" }),
      () => bob.mutation(api.workOrders.updateResult, { workOrderId: w._id, prUrl: "https://x.org/1" }),
      () => bob.query(api.workOrders.listBySession, { sessionId: s._id, paginationOpts: page }),
      () => bob.query(api.workOrders.get, { workOrderId: w._id }),
      () => bob.mutation(api.workOrders.remove, { workOrderId: w._id }),
      () => bob.mutation(api.workOrders.restore, { workOrderId: w._id }),
      () => bob.query(api.search.all, { userId: ALICE, text: "secret" }),
    ];
    for (const call of calls) await expectRefused(t, call, "FORBIDDEN");
    // Bob's own session cannot carry work orders requested in Alice's name.
    const own = await bob.mutation(api.chatSessions.create, { userId: BOB, title: "Bob's" });
    await expectRefused(t, () => bob.mutation(api.workOrders.create, { sessionId: own._id, workflowId: "wf-b", requestedBy: ALICE }), "FORBIDDEN");
    // listByStatus shows only the caller's work orders.
    expect((await bob.query(api.workOrders.listByStatus, { status: "draft", paginationOpts: page })).page).toEqual([]);
  });

  test("search finds only the caller's own rows, and needs a signed-in user", async () => {
    const alice = as(t, "alice");
    expect((await alice.query(api.search.all, { userId: ALICE, text: "secret" })).messages.map((h) => h.messageId)).toEqual([
      ids.m._id,
    ]);
    const own = await as(t, "bob").mutation(api.chatSessions.create, { userId: BOB, title: "Bob's" });
    await as(t, "bob").mutation(api.chatMessages.append, { sessionId: own._id, role: "user", content: "secret too" });
    const ofBob = await as(t, "bob").query(api.search.all, { userId: BOB, text: "secret" });
    expect(ofBob.messages.map((h) => h.sessionId)).toEqual([own._id]);
    await expectCode(t.query(api.search.all, { userId: ALICE, text: "secret" }), "FORBIDDEN");
  });

  test("listByStatus goes by the session's owner, not by requestedBy", async () => {
    // Made in trusted mode, as an operator may: a work order on Alice's session "requested by" Bob.
    env.JANGAR_REQUIRE_AUTH = "false";
    const forged = await t.mutation(api.workOrders.create, { sessionId: ids.s._id, workflowId: "wf-forged", requestedBy: BOB });
    env.JANGAR_REQUIRE_AUTH = "true";
    const page = firstPage();
    const ofBob = await as(t, "bob").query(api.workOrders.listByStatus, { status: "draft", paginationOpts: page });
    expect(ofBob.page).toEqual([]);
    const ofAlice = await as(t, "alice").query(api.workOrders.listByStatus, { status: "draft", paginationOpts: page });
    expect(ofAlice.page.map((w) => w._id).sort()).toEqual([ids.w._id, forged._id].sort());
  });

  test("the same subject from another issuer is another user", async () => {
    const impostor = as(t, "alice", "https://other-issuer.example.test");
    await expectRefused(t, () => impostor.mutation(api.chatSessions.rename, { sessionId: ids.s._id, title: "Mine" }), "FORBIDDEN");
    await expectCode(impostor.query(api.chatSessions.get, { sessionId: ids.s._id }), "FORBIDDEN");
    await expectCode(impostor.query(api.chatSessions.list, { userId: ALICE, paginationOpts: firstPage() }), "FORBIDDEN");
    expect((await impostor.query(api.workOrders.listByStatus, { status: "draft", paginationOpts: firstPage() })).page).toEqual([]);
    // The bare subject is not a user id either.
    await expectCode(as(t, "alice").query(api.chatSessions.list, { userId: "alice", paginationOpts: firstPage() }), "FORBIDDEN");
  });

  test("nobody signed in is FORBIDDEN, also for unknown rows", async () => {
    const { s, w } = ids;
    await expectRefused(t, () => t.mutation(api.chatSessions.create, { userId: ALICE, title: "x" }), "FORBIDDEN");
    await expectCode(t.query(api.chatSessions.list, { userId: ALICE, paginationOpts: firstPage() }), "FORBIDDEN");
    await expectCode(t.query(api.chatSessions.get, { sessionId: s._id }), "FORBIDDEN");
    await expectCode(t.query(api.workOrders.listByStatus, { status: "draft", paginationOpts: firstPage() }), "FORBIDDEN");
    await t.run((ctx) => ctx.db.delete(w._id));
    await expectCode(t.query(api.workOrders.get, { workOrderId: w._id }), "FORBIDDEN");
    expect(await as(t, "alice").query(api.workOrders.get, { workOrderId: w._id })).toBeNull();
  });
});

describe("listByStatus for one user", () => {
  beforeEach(() => {
    delete env.JANGAR_REQUIRE_AUTH;
  });
  afterEach(restoreEnv);

  test("with auth on, a page of the caller's is full however many newer ones others have", async () => {
    const t = newBackend();
    const mine = await t.mutation(api.chatSessions.create, { userId: ALICE, title: "Alice's" });
    const theirs = await t.mutation(api.chatSessions.create, { userId: BOB, title: "Bob's" });
    for (let i = 0; i < 3; i++) await t.mutation(api.workOrders.create, { sessionId: mine._id, workflowId: `wf-a-${i}` });
    for (let i = 0; i < 6; i++) await t.mutation(api.workOrders.create, { sessionId: theirs._id, workflowId: `wf-b-${i}` });
    env.JANGAR_REQUIRE_AUTH = "true";
    const alice = as(t, "alice");
    const first = await alice.query(api.workOrders.listByStatus, { status: "draft", paginationOpts: { numItems: 2, cursor: null } });
    expect(first.page.map((w) => w.workflowId)).toEqual(["wf-a-2", "wf-a-1"]);
    expect(first.isDone).toBe(false);
    const next = await alice.query(api.workOrders.listByStatus, {
      status: "draft",
      paginationOpts: { numItems: 2, cursor: first.continueCursor },
    });
    expect(next.page.map((w) => w.workflowId)).toEqual(["wf-a-0"]);
    expect(next.isDone).toBe(true);
    // Naming oneself is the same list; naming another user is refused.
    const named = await alice.query(api.workOrders.listByStatus, { status: "draft", userId: ALICE, paginationOpts: firstPage() });
    expect(named.page).toHaveLength(3);
    await expectCode(alice.query(api.workOrders.listByStatus, { status: "draft", userId: BOB, paginationOpts: firstPage() }), "FORBIDDEN");
  });

  test("work orders stored before ownerId existed get it from backfillOwners", async () => {
    const t = newBackend();
    const s = await t.mutation(api.chatSessions.create, { userId: ALICE, title: "Old data" });
    await t.run(async (ctx) => {
      const now = Date.now();
      for (let i = 0; i < 3; i++) {
        await ctx.db.insert("work_orders", { sessionId: s._id, workflowId: `wf-old-${i}`, status: "draft", createdAt: now, updatedAt: now });
      }
    });
    const before = await t.query(api.workOrders.listByStatus, { status: "draft", userId: ALICE, paginationOpts: firstPage() });
    expect(before.page).toEqual([]);
    const result = await t.mutation(internal.workOrders.backfillOwners, {});
    expect(result).toMatchObject({ updated: 3, isDone: true });
    const after = await t.query(api.workOrders.listByStatus, { status: "draft", userId: ALICE, paginationOpts: firstPage() });
    expect(after.page).toHaveLength(3);
    expect(Object.keys(after.page[0])).not.toContain("ownerId");
    expect((await t.mutation(internal.workOrders.backfillOwners, {})).updated).toBe(0);
  });

  test("search reads only its user's candidates; messages stored before ownerId get it from backfillOwners", async () => {
    const t = newBackend();
    const s = await t.mutation(api.chatSessions.create, { userId: ALICE, title: "Old data" });
    const fresh = await t.mutation(api.chatMessages.append, { sessionId: s._id, role: "user", content: "needle today" });
    expect(Object.keys(fresh)).not.toContain("ownerId");
    await t.run(async (ctx) => {
      const now = Date.now();
      await ctx.db.insert("chat_messages", { sessionId: s._id, role: "user", content: "needle of old", createdAt: now, updatedAt: now });
    });
    const search = () => t.query(api.search.all, { userId: ALICE, text: "needle" });
    expect((await search()).messages.map((m) => m.excerpt)).toEqual(["needle today"]);
    expect(await t.mutation(internal.chatMessages.backfillOwners, {})).toMatchObject({ updated: 1, isDone: true });
    expect((await search()).messages.map((m) => m.excerpt).sort()).toEqual(["needle of old", "needle today"]);
    const listed = await t.query(api.chatMessages.listBySession, { sessionId: s._id, paginationOpts: firstPage() });
    expect(listed.page.flatMap((m) => Object.keys(m))).not.toContain("ownerId");
    expect((await t.mutation(internal.chatMessages.backfillOwners, {})).updated).toBe(0);
    // Bob's matches never reach Alice's candidates: the index filters by owner before it takes any.
    const b = await t.mutation(api.chatSessions.create, { userId: BOB, title: "Bob's" });
    await t.mutation(api.chatMessages.append, { sessionId: b._id, role: "user", content: "needle of bob" });
    const read = await t.run(async (ctx) =>
      ctx.db
        .query("chat_messages")
        .withSearchIndex("search_content", (q) => q.search("content", "needle").eq("ownerId", ALICE))
        .collect(),
    );
    expect(read.map((m) => m.content).sort()).toEqual(["needle of old", "needle today"]);
  });
});
