// Work orders: a request to a background worker, launched as a Temporal workflow whose id is
// chosen here. Status changes follow the one transition table in lib/statusMachine.ts.
import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import type { Doc, Id } from "./_generated/dataModel";
import { mutation, query, type QueryCtx } from "./_generated/server";
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
import { checkCursor, emptyPage, pageValidator, paginateList } from "./lib/pagination";
import { loadLiveSession } from "./lib/sessions";
import { loadLiveWorkOrder, loadWorkOrder, requireOwner } from "./lib/workOrders";
import { LAUNCHED_STATUSES, TERMINAL_STATUSES, checkTransition } from "./lib/statusMachine";
import { initialStatusValidator, statusValidator, workOrderDoc } from "./lib/validators";

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
    if (args.followUpOf !== undefined) await checkFollowedUp(ctx, args.followUpOf, session._id);
    const now = Date.now();
    // Unset optional fields are undefined, which Convex leaves out of the document.
    const id = await ctx.db.insert("work_orders", {
      sessionId: session._id,
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
    return (await ctx.db.get(id))!;
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
    if (args.status === workOrder.status) return workOrder;
    checkTransition(workOrder.status, args.status);
    await ctx.db.patch(workOrder._id, { status: args.status, updatedAt: Math.max(workOrder.updatedAt, Date.now()) });
    return (await ctx.db.get(workOrder._id))!;
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
    return (await ctx.db.get(workOrder._id))!;
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
    if (session === null || session.deletedAt !== undefined) return emptyPage<Doc<"work_orders">>(list);
    return paginateList(list, args.paginationOpts, (opts) =>
      ctx.db
        .query("work_orders")
        .withIndex("by_session_createdAt", (q) => q.eq("sessionId", session._id))
        .order("desc")
        .filter((q) => q.eq(q.field("deletedAt"), undefined))
        .paginate(opts),
    );
  },
});

export const listByStatus = query({
  args: { status: statusValidator, paginationOpts: paginationOptsValidator },
  returns: pageValidator(workOrderDoc),
  handler: async (ctx, args) => {
    const list = { fn: "workOrders:listByStatus", key: args.status };
    checkPageSize(args.paginationOpts.numItems);
    checkCursor(list, args.paginationOpts);
    const caller = await callerIdentity(ctx);
    const result = await paginateList(list, args.paginationOpts, (opts) =>
      ctx.db
        .query("work_orders")
        .withIndex("by_status_updatedAt", (q) => q.eq("status", args.status))
        .order("desc")
        .filter((q) => q.eq(q.field("deletedAt"), undefined))
        .paginate(opts),
    );
    if (caller === null) return result;
    // With auth on, only work orders on the caller's own sessions: ownership is the session's, as
    // everywhere else (requestedBy is a free field). A page may come back short, as a filtered one can.
    const owners = new Map<Id<"chat_sessions">, string | undefined>();
    const mine: Doc<"work_orders">[] = [];
    for (const workOrder of result.page) {
      if (!owners.has(workOrder.sessionId)) owners.set(workOrder.sessionId, (await ctx.db.get(workOrder.sessionId))?.userId);
      if (owners.get(workOrder.sessionId) === caller) mine.push(workOrder);
    }
    return { ...result, page: mine };
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
    return workOrder.deletedAt === undefined ? workOrder : null;
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
    if (workOrder.deletedAt === undefined) return workOrder;
    await ctx.db.patch(workOrder._id, { deletedAt: undefined, updatedAt: Math.max(workOrder.updatedAt, Date.now()) });
    return (await ctx.db.get(workOrder._id))!;
  },
});

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
