// Chat messages: the history of a session. Appending bumps the session in the same mutation.
import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import type { Doc, Id } from "./_generated/dataModel";
import { internalMutation, mutation, query, type QueryCtx } from "./_generated/server";
import { callerIdentity, requireUser } from "./lib/auth";
import { checkContent, checkMetadata, checkPageSize, checkWellFormed } from "./lib/checks";
import { fail } from "./lib/errors";
import { checkCursor, emptyPage, pageValidator, paginateList } from "./lib/pagination";
import { bumpSession, loadLiveSession } from "./lib/sessions";
import { chatMessageDoc, roleValidator } from "./lib/validators";

type ChatMessage = Omit<Doc<"chat_messages">, "ownerId">;

// A message as the contract shows it: `ownerId` is the search index's filter, not one of its columns.
function shown(message: Doc<"chat_messages">): ChatMessage {
  const { ownerId: _owner, ...columns } = message;
  return columns;
}

// The message, deleted or not; NOT_FOUND when it never existed. Checks the session's owner.
async function loadMessage(ctx: QueryCtx, messageId: Id<"chat_messages">): Promise<Doc<"chat_messages">> {
  const message = await ctx.db.get(messageId);
  if (message === null) fail("NOT_FOUND", "This message does not exist.");
  if ((await callerIdentity(ctx)) !== null) {
    const session = await ctx.db.get(message.sessionId);
    await requireUser(ctx, session?.userId ?? "", "this message");
  }
  return message;
}

export const append = mutation({
  args: {
    sessionId: v.id("chat_sessions"),
    role: roleValidator,
    content: v.string(),
    metadata: v.optional(v.any()),
  },
  returns: chatMessageDoc,
  handler: async (ctx, args) => {
    // Text that is not Unicode and metadata Convex cannot store are refused as the argument
    // validators refuse a wrong type: before anything is looked up.
    checkWellFormed(args);
    checkMetadata(args.metadata);
    const session = await loadLiveSession(ctx, args.sessionId);
    checkContent(args.content);
    // Never earlier than the session's last message, even when the clock has stepped back: a new
    // message lists after the older ones, and lastMessageAt never moves backwards.
    const now = Math.max(Date.now(), session.lastMessageAt);
    const id = await ctx.db.insert("chat_messages", {
      sessionId: session._id,
      ownerId: session.userId,
      role: args.role,
      content: args.content,
      metadata: args.metadata,
      createdAt: now,
      updatedAt: now,
    });
    await bumpSession(ctx, session, now);
    return shown((await ctx.db.get(id))!);
  },
});

// A growing reply: new content and/or metadata for a live message of a live session. Bumps the
// session like an append (the conversation moved), never moves createdAt.
export const update = mutation({
  args: {
    messageId: v.id("chat_messages"),
    content: v.optional(v.string()),
    metadata: v.optional(v.any()),
  },
  returns: chatMessageDoc,
  handler: async (ctx, args) => {
    // As in append: not Unicode, or metadata Convex cannot store, is refused before any lookup.
    checkWellFormed(args);
    checkMetadata(args.metadata);
    const message = await loadMessage(ctx, args.messageId);
    if (message.deletedAt !== undefined) fail("NOT_FOUND", "This message was deleted; restore it first.");
    const session = await loadLiveSession(ctx, message.sessionId);
    const patch: Partial<Doc<"chat_messages">> = {};
    if (args.content !== undefined) {
      checkContent(args.content);
      patch.content = args.content;
    }
    if (args.metadata !== undefined) patch.metadata = args.metadata;
    const now = Date.now();
    await ctx.db.patch(message._id, { ...patch, updatedAt: Math.max(message.updatedAt, now) });
    await bumpSession(ctx, session, now);
    return shown((await ctx.db.get(message._id))!);
  },
});

export const listBySession = query({
  args: { sessionId: v.id("chat_sessions"), paginationOpts: paginationOptsValidator },
  returns: pageValidator(chatMessageDoc),
  handler: async (ctx, args) => {
    const list = { fn: "chatMessages:listBySession", key: args.sessionId };
    checkPageSize(args.paginationOpts.numItems);
    checkCursor(list, args.paginationOpts);
    const session = await ctx.db.get(args.sessionId);
    if (session !== null) await requireUser(ctx, session.userId, "this chat session");
    else await callerIdentity(ctx);
    if (session === null || session.deletedAt !== undefined) return emptyPage<ChatMessage>(list);
    const page = await paginateList(list, args.paginationOpts, (opts) =>
      ctx.db
        .query("chat_messages")
        .withIndex("by_session_createdAt", (q) => q.eq("sessionId", session._id))
        .order("desc")
        .filter((q) => q.eq(q.field("deletedAt"), undefined))
        .paginate(opts),
    );
    return { ...page, page: page.page.map(shown) };
  },
});

// Messages written before `ownerId` existed get it from their session: run once after the deploy
// that added it (`npx convex run chatMessages:backfillOwners`), again while it says more. Until
// then search does not find them (its index reads only the user's own).
export const backfillOwners = internalMutation({
  args: { cursor: v.optional(v.union(v.string(), v.null())) },
  returns: v.object({ updated: v.number(), isDone: v.boolean(), continueCursor: v.string() }),
  handler: async (ctx, args) => {
    const page = await ctx.db.query("chat_messages").paginate({ numItems: 200, cursor: args.cursor ?? null });
    let updated = 0;
    for (const message of page.page) {
      if (message.ownerId !== undefined) continue;
      const session = await ctx.db.get(message.sessionId);
      if (session === null) continue;
      await ctx.db.patch(message._id, { ownerId: session.userId });
      updated += 1;
    }
    return { updated, isDone: page.isDone, continueCursor: page.continueCursor };
  },
});

export const remove = mutation({
  args: { messageId: v.id("chat_messages") },
  returns: v.null(),
  handler: async (ctx, args) => {
    const message = await loadMessage(ctx, args.messageId);
    if (message.deletedAt !== undefined) return null;
    const now = Date.now();
    // The session's lastMessageAt stays: it never moves backwards.
    await ctx.db.patch(message._id, { deletedAt: now, updatedAt: Math.max(message.updatedAt, now) });
    return null;
  },
});

export const restore = mutation({
  args: { messageId: v.id("chat_messages") },
  returns: chatMessageDoc,
  handler: async (ctx, args) => {
    const message = await loadMessage(ctx, args.messageId);
    if (message.deletedAt === undefined) return shown(message);
    await ctx.db.patch(message._id, { deletedAt: undefined, updatedAt: Math.max(message.updatedAt, Date.now()) });
    return shown((await ctx.db.get(message._id))!);
  },
});
