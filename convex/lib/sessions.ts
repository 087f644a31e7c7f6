// Loading a chat session for a call, with the NOT_FOUND / FORBIDDEN rules every module shares.
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { requireUser } from "./auth";
import { fail } from "./errors";

// The session, whether deleted or not; NOT_FOUND when it never existed. Checks ownership.
export async function loadSession(ctx: QueryCtx, sessionId: Id<"chat_sessions">): Promise<Doc<"chat_sessions">> {
  const session = await ctx.db.get(sessionId);
  if (session === null) fail("NOT_FOUND", "This chat session does not exist.");
  await requireUser(ctx, session.userId, "this chat session");
  return session;
}

// A session that is not deleted, for calls that change it or add to it.
export async function loadLiveSession(ctx: QueryCtx, sessionId: Id<"chat_sessions">): Promise<Doc<"chat_sessions">> {
  const session = await loadSession(ctx, sessionId);
  if (session.deletedAt !== undefined) {
    fail("NOT_FOUND", "This chat session was deleted; restore it first.");
  }
  return session;
}

// Moves lastMessageAt to now, never backwards.
export async function bumpSession(ctx: MutationCtx, session: Doc<"chat_sessions">, now: number): Promise<void> {
  await ctx.db.patch(session._id, {
    lastMessageAt: Math.max(session.lastMessageAt, now),
    updatedAt: Math.max(session.updatedAt, now),
  });
}
