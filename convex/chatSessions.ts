// Chat sessions: one conversation of one user. Soft-deleted, never hard-deleted.
import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import { mutation, query } from "./_generated/server";
import { requireUser } from "./lib/auth";
import { checkPageSize, checkTitle, checkUserId, checkWellFormed } from "./lib/checks";
import { fail } from "./lib/errors";
import { checkCursor, pageValidator, paginateList } from "./lib/pagination";
import { bumpSession, loadLiveSession, loadSession } from "./lib/sessions";
import { ACTIVE_STATUSES } from "./lib/statusMachine";
import { chatSessionDoc } from "./lib/validators";

export const create = mutation({
  args: { userId: v.string(), title: v.string() },
  returns: chatSessionDoc,
  handler: async (ctx, args) => {
    checkWellFormed(args);
    checkUserId(args.userId);
    await requireUser(ctx, args.userId, "another user's sessions");
    const title = checkTitle(args.title);
    const now = Date.now();
    const id = await ctx.db.insert("chat_sessions", {
      userId: args.userId,
      title,
      lastMessageAt: now,
      createdAt: now,
      updatedAt: now,
    });
    return (await ctx.db.get(id))!;
  },
});

export const list = query({
  args: { userId: v.string(), paginationOpts: paginationOptsValidator },
  returns: pageValidator(chatSessionDoc),
  handler: async (ctx, args) => {
    checkWellFormed(args);
    const list = { fn: "chatSessions:list", key: args.userId };
    checkPageSize(args.paginationOpts.numItems);
    checkCursor(list, args.paginationOpts);
    await requireUser(ctx, args.userId, "another user's sessions");
    return paginateList(list, args.paginationOpts, (opts) =>
      ctx.db
        .query("chat_sessions")
        .withIndex("by_user_lastMessageAt", (q) => q.eq("userId", args.userId))
        .order("desc")
        .filter((q) => q.eq(q.field("deletedAt"), undefined))
        .paginate(opts),
    );
  },
});

export const get = query({
  args: { sessionId: v.id("chat_sessions") },
  returns: v.union(chatSessionDoc, v.null()),
  handler: async (ctx, args) => {
    const session = await ctx.db.get(args.sessionId);
    if (session === null) return null;
    await requireUser(ctx, session.userId, "this chat session");
    return session.deletedAt === undefined ? session : null;
  },
});

export const updateLastMessage = mutation({
  args: { sessionId: v.id("chat_sessions") },
  returns: chatSessionDoc,
  handler: async (ctx, args) => {
    const session = await loadLiveSession(ctx, args.sessionId);
    await bumpSession(ctx, session, Date.now());
    return (await ctx.db.get(session._id))!;
  },
});

export const rename = mutation({
  args: { sessionId: v.id("chat_sessions"), title: v.string() },
  returns: chatSessionDoc,
  handler: async (ctx, args) => {
    checkWellFormed(args);
    const session = await loadLiveSession(ctx, args.sessionId);
    const title = checkTitle(args.title);
    await ctx.db.patch(session._id, { title, updatedAt: Math.max(session.updatedAt, Date.now()) });
    return (await ctx.db.get(session._id))!;
  },
});

export const remove = mutation({
  args: { sessionId: v.id("chat_sessions") },
  returns: v.null(),
  handler: async (ctx, args) => {
    const session = await loadSession(ctx, args.sessionId);
    if (session.deletedAt !== undefined) return null;
    // Bounded by the session's own work orders (index range), not the whole table.
    const active = await ctx.db
      .query("work_orders")
      .withIndex("by_session_createdAt", (q) => q.eq("sessionId", session._id))
      .filter((q) =>
        q.and(
          q.eq(q.field("deletedAt"), undefined),
          q.or(...ACTIVE_STATUSES.map((status) => q.eq(q.field("status"), status))),
        ),
      )
      .first();
    if (active !== null) {
      fail(
        "CONFLICT",
        `This session has an unfinished work order (${active.workflowId}, ${active.status}); cancel or delete it first.`,
      );
    }
    const now = Date.now();
    await ctx.db.patch(session._id, { deletedAt: now, updatedAt: Math.max(session.updatedAt, now) });
    return null;
  },
});

export const restore = mutation({
  args: { sessionId: v.id("chat_sessions") },
  returns: chatSessionDoc,
  handler: async (ctx, args) => {
    const session = await loadSession(ctx, args.sessionId);
    if (session.deletedAt === undefined) return session;
    await ctx.db.patch(session._id, { deletedAt: undefined, updatedAt: Math.max(session.updatedAt, Date.now()) });
    return (await ctx.db.get(session._id))!;
  },
});
