// Work orders: a request to a background worker, launched as a Temporal workflow whose id is
// chosen here. Status changes follow the one transition table in lib/statusMachine.ts.
import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import type { Doc, Id } from "./_generated/dataModel";
import { internalMutation, mutation, query, type QueryCtx } from "./_generated/server";
import { callerIdentity, requireUser } from "./lib/auth";
import {
  checkPageSize,
  checkPrompt,
  checkTargetBranch,
  checkTargetRepo,
  checkTitle,
  checkUrl,
  checkUserId,
  checkWellFormed,
  checkWorkflowId,
} from "./lib/checks";
import { fail } from "./lib/errors";
import { FOLLOW_UP_CHAIN_MAX } from "./lib/limits";
import { checkCursor, emptyPage, pageValidator, paginateList } from "./lib/pagination";
import { loadLiveSession } from "./lib/sessions";
import { loadLiveWorkOrder, loadWorkOrder, requireOwner } from "./lib/workOrders";
import { LAUNCHED_STATUSES, TERMINAL_STATUSES, checkTransition } from "./lib/statusMachine";
import { initialStatusValidator, statusValidator, workOrderDoc } from "./lib/validators";

type WorkOrder = Omit<Doc<"work_orders">, "ownerId">;

// A work order as the contract shows it: `ownerId` is the index's key, not one of its columns.
function shown(workOrder: Doc<"work_orders">): WorkOrder {
  const { ownerId: _owner, ...columns } = workOrder;
  return columns;
}

function shownPage<P extends { page: Doc<"work_orders">[] }>(result: P): Omit<P, "page"> & { page: WorkOrder[] } {
  return { ...result, page: result.page.map(shown) };
}

export const create = mutation({
  args: {
    sessionId: v.id("chat_sessions"),
    workflowId: v.string(),
    title: v.optional(v.string()),
    prompt: v.optional(v.string()),
    githubIssueUrl: v.optional(v.string()),
    requestedBy: v.optional(v.string()),
    targetRepo: v.optional(v.string()),
    targetBranch: v.optional(v.string()),
    status: v.optional(initialStatusValidator),
    followUpOf: v.optional(v.id("work_orders")),
  },
  returns: workOrderDoc,
  handler: async (ctx, args) => {
    checkWellFormed(args);
    const session = await loadLiveSession(ctx, args.sessionId);
    const caller = await callerIdentity(ctx);
    if (args.requestedBy !== undefined) {
      checkUserId(args.requestedBy, "requestedBy");
      await requireUser(ctx, args.requestedBy, "work orders requested by another user");
    }
    checkWorkflowId(args.workflowId);
    const title = args.title === undefined ? undefined : checkTitle(args.title, "work order title");
    checkPrompt(args.prompt);
    checkUrl(args.githubIssueUrl, "githubIssueUrl");
    checkTargetRepo(args.targetRepo);
    checkTargetBranch(args.targetBranch);
    // Deleted work orders keep their workflowId: a workflow may still exist under it.
    const existing = await ctx.db
      .query("work_orders")
      .withIndex("by_workflowId", (q) => q.eq("workflowId", args.workflowId))
      .first();
    if (existing !== null) {
      fail("CONFLICT", `The workflow id ${args.workflowId} is already used by another work order; pick a new one.`);
    }
    if (args.followUpOf !== undefined) {
      await checkFollowedUp(ctx, args.followUpOf, session._id);
      if (args.status === "submitted") {
        await checkWorktreeFree(ctx, undefined, await chainRoot(ctx, args.followUpOf), session.userId);
      }
    }
    const now = Date.now();
    // Unset optional fields are undefined, which Convex leaves out of the document.
    const id = await ctx.db.insert("work_orders", {
      sessionId: session._id,
      ownerId: session.userId,
      workflowId: args.workflowId,
      title,
      prompt: args.prompt,
      githubIssueUrl: args.githubIssueUrl,
      // With auth on, the work order is requested by the caller.
      requestedBy: args.requestedBy ?? caller ?? undefined,
      targetRepo: args.targetRepo,
      targetBranch: args.targetBranch,
      followUpOf: args.followUpOf,
      status: args.status ?? "draft",
      createdAt: now,
      updatedAt: now,
    });
    return shown((await ctx.db.get(id))!);
  },
});

export const updateStatus = mutation({
  args: {
    workOrderId: v.id("work_orders"),
    status: statusValidator,
    expectedStatus: v.optional(statusValidator),
  },
  returns: workOrderDoc,
  handler: async (ctx, args) => {
    const workOrder = await loadLiveWorkOrder(ctx, args.workOrderId);
    if (args.expectedStatus !== undefined && args.expectedStatus !== workOrder.status) {
      fail(
        "CONFLICT",
        `Work order ${workOrder.workflowId} is ${workOrder.status}, not ${args.expectedStatus}; reload and try again.`,
      );
    }
    if (args.status === workOrder.status) return shown(workOrder);
    checkTransition(workOrder.status, args.status);
    if (args.status === "submitted" && workOrder.followUpOf !== undefined) {
      const session = await ctx.db.get(workOrder.sessionId);
      const owner = workOrder.ownerId ?? session?.userId;
      if (owner !== undefined) await checkWorktreeFree(ctx, workOrder._id, await chainRoot(ctx, workOrder._id), owner);
    }
    await ctx.db.patch(workOrder._id, { status: args.status, updatedAt: Math.max(workOrder.updatedAt, Date.now()) });
    return shown((await ctx.db.get(workOrder._id))!);
  },
});

export const updateResult = mutation({
  args: { workOrderId: v.id("work_orders"), prUrl: v.optional(v.string()) },
  returns: workOrderDoc,
  handler: async (ctx, args) => {
    checkWellFormed(args);
    const workOrder = await loadLiveWorkOrder(ctx, args.workOrderId);
    checkUrl(args.prUrl, "prUrl");
    await ctx.db.patch(workOrder._id, { prUrl: args.prUrl, updatedAt: Math.max(workOrder.updatedAt, Date.now()) });
    return shown((await ctx.db.get(workOrder._id))!);
  },
});

export const listBySession = query({
  args: { sessionId: v.id("chat_sessions"), paginationOpts: paginationOptsValidator },
  returns: pageValidator(workOrderDoc),
  handler: async (ctx, args) => {
    const list = { fn: "workOrders:listBySession", key: args.sessionId };
    checkPageSize(args.paginationOpts.numItems);
    checkCursor(list, args.paginationOpts);
    const session = await ctx.db.get(args.sessionId);
    if (session !== null) await requireUser(ctx, session.userId, "this chat session");
    else await callerIdentity(ctx);
    if (session === null || session.deletedAt !== undefined) return emptyPage<WorkOrder>(list);
    return shownPage(
      await paginateList(list, args.paginationOpts, (opts) =>
        ctx.db
          .query("work_orders")
          .withIndex("by_session_createdAt", (q) => q.eq("sessionId", session._id))
          .order("desc")
          .filter((q) => q.eq(q.field("deletedAt"), undefined))
          .paginate(opts),
      ),
    );
  },
});

export const listByStatus = query({
  args: { status: statusValidator, userId: v.optional(v.string()), paginationOpts: paginationOptsValidator },
  returns: pageValidator(workOrderDoc),
  handler: async (ctx, args) => {
    checkWellFormed(args);
    if (args.userId !== undefined) {
      checkUserId(args.userId, "userId");
      await requireUser(ctx, args.userId, "another user's work orders");
    }
    // One user's (the one named, else with auth on the caller) come from the (owner, status,
    // updatedAt) index range, so a page is full whenever more of theirs exist; without either,
    // every user's (the reconciler's view) from (status, updatedAt).
    const owner = args.userId ?? (await callerIdentity(ctx)) ?? undefined;
    const list = { fn: "workOrders:listByStatus", key: owner === undefined ? args.status : `${args.status}:${owner}` };
    checkPageSize(args.paginationOpts.numItems);
    checkCursor(list, args.paginationOpts);
    return shownPage(
      await paginateList(list, args.paginationOpts, (opts) =>
        (owner === undefined
          ? ctx.db.query("work_orders").withIndex("by_status_updatedAt", (q) => q.eq("status", args.status))
          : ctx.db
              .query("work_orders")
              .withIndex("by_owner_status_updatedAt", (q) => q.eq("ownerId", owner).eq("status", args.status))
        )
          .order("desc")
          .filter((q) => q.eq(q.field("deletedAt"), undefined))
          .paginate(opts),
      ),
    );
  },
});

// Work orders written before `ownerId` existed get it from their session: run once after the
// deploy that added it (`npx convex run workOrders:backfillOwners`), again while it says more.
export const backfillOwners = internalMutation({
  args: { cursor: v.optional(v.union(v.string(), v.null())) },
  returns: v.object({ updated: v.number(), isDone: v.boolean(), continueCursor: v.string() }),
  handler: async (ctx, args) => {
    const page = await ctx.db.query("work_orders").paginate({ numItems: 200, cursor: args.cursor ?? null });
    let updated = 0;
    for (const workOrder of page.page) {
      if (workOrder.ownerId !== undefined) continue;
      const session = await ctx.db.get(workOrder.sessionId);
      if (session === null) continue;
      await ctx.db.patch(workOrder._id, { ownerId: session.userId });
      updated += 1;
    }
    return { updated, isDone: page.isDone, continueCursor: page.continueCursor };
  },
});

export const get = query({
  args: { workOrderId: v.id("work_orders") },
  returns: v.union(workOrderDoc, v.null()),
  handler: async (ctx, args) => {
    const workOrder = await ctx.db.get(args.workOrderId);
    if (workOrder === null) {
      await callerIdentity(ctx);
      return null;
    }
    await requireOwner(ctx, workOrder);
    return workOrder.deletedAt === undefined ? shown(workOrder) : null;
  },
});

export const remove = mutation({
  args: { workOrderId: v.id("work_orders") },
  returns: v.null(),
  handler: async (ctx, args) => {
    const workOrder = await loadWorkOrder(ctx, args.workOrderId);
    if (workOrder.deletedAt !== undefined) return null;
    if (LAUNCHED_STATUSES.includes(workOrder.status)) {
      fail(
        "CONFLICT",
        `Work order ${workOrder.workflowId} is ${workOrder.status}; cancel it before deleting it.`,
      );
    }
    const now = Date.now();
    await ctx.db.patch(workOrder._id, { deletedAt: now, updatedAt: Math.max(workOrder.updatedAt, now) });
    return null;
  },
});

export const restore = mutation({
  args: { workOrderId: v.id("work_orders") },
  returns: workOrderDoc,
  handler: async (ctx, args) => {
    const workOrder = await loadWorkOrder(ctx, args.workOrderId);
    if (workOrder.deletedAt === undefined) return shown(workOrder);
    await ctx.db.patch(workOrder._id, { deletedAt: undefined, updatedAt: Math.max(workOrder.updatedAt, Date.now()) });
    return shown((await ctx.db.get(workOrder._id))!);
  },
});

// The first work order of a follow-up chain, whose worktree the chain works in (a deleted link ends
// the chain, as orchestration/follow_up.py's workspace_owner does).
async function chainRoot(ctx: QueryCtx, workOrderId: Id<"work_orders">): Promise<Id<"work_orders">> {
  let current = workOrderId;
  for (let i = 0; i < FOLLOW_UP_CHAIN_MAX; i++) {
    const row = await ctx.db.get(current);
    const previousId = row !== null && row.deletedAt === undefined ? row.followUpOf : undefined;
    const previous = previousId === undefined ? null : await ctx.db.get(previousId);
    if (previous === null || previous.deletedAt !== undefined) break;
    current = previous._id;
  }
  return current;
}

// One run at a time in a worktree: CONFLICT while another work order of the chain that starts at
// `root` is launched (submitted, accepted or running). Checked in the mutation that launches, a
// transaction, so of two follow-ups launched at once one is refused. Reads the owner's launched
// work orders: one index range per status.
async function checkWorktreeFree(
  ctx: QueryCtx,
  launching: Id<"work_orders"> | undefined,
  root: Id<"work_orders">,
  owner: string,
) {
  for (const status of LAUNCHED_STATUSES) {
    const launched = await ctx.db
      .query("work_orders")
      .withIndex("by_owner_status_updatedAt", (q) => q.eq("ownerId", owner).eq("status", status))
      .collect();
    for (const other of launched) {
      if (other._id === launching || other.deletedAt !== undefined) continue;
      if ((await chainRoot(ctx, other._id)) === root) {
        fail(
          "CONFLICT",
          `Work order ${other._id} (${other.title ?? other.workflowId}) is ${other.status} in the same worktree, and ` +
            "one run at a time works in a worktree: try again once it has ended, or cancel it.",
        );
      }
    }
  }
}

// A follow-up continues an ended work order of the same session (terminal states are final, so the
// note becomes a new work order linked to the first).
async function checkFollowedUp(ctx: QueryCtx, followUpOf: Id<"work_orders">, sessionId: Id<"chat_sessions">) {
  const original = await loadLiveWorkOrder(ctx, followUpOf);
  if (original.sessionId !== sessionId) {
    fail("INVALID_ARGUMENT", `A follow-up belongs to the session of the work order it follows (${original.workflowId}).`);
  }
  if (!TERMINAL_STATUSES.includes(original.status)) {
    fail(
      "INVALID_TRANSITION",
      `Only an ended work order can be followed up; ${original.workflowId} is ${original.status}.`,
    );
  }
}
