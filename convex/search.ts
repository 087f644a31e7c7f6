// Search across a user's sessions (titles), messages (text) and work orders (title, prompt, repo),
// through the search indexes of schema.ts. Convex's index finds and ranks candidates; the rules of
// lib/search.ts decide what is a hit, as on every backend (tests/contract/README.md, "Search").
import { v } from "convex/values";
import type { Doc, Id } from "./_generated/dataModel";
import { query, type QueryCtx } from "./_generated/server";
import { requireUser } from "./lib/auth";
import { checkWellFormed } from "./lib/checks";
import { SEARCH_CANDIDATES } from "./lib/limits";
import { checkSearchLimit, excerpt, matchesTerms, searchTerms } from "./lib/search";
import { roleValidator, statusValidator } from "./lib/validators";

const searchHit = v.object({
  kind: v.union(v.literal("session"), v.literal("message"), v.literal("workOrder")),
  sessionId: v.id("chat_sessions"),
  sessionTitle: v.string(),
  messageId: v.optional(v.id("chat_messages")),
  workOrderId: v.optional(v.id("work_orders")),
  workOrderTitle: v.optional(v.string()),
  field: v.string(),
  excerpt: v.string(),
  at: v.number(),
  role: v.optional(roleValidator),
  status: v.optional(statusValidator),
});

type Hit = typeof searchHit.type;

const WORK_ORDER_FIELDS = ["title", "prompt", "targetRepo"] as const;

// Newest first by `at`, then by creation; at most `limit`.
function newest<T>(items: T[], at: (item: T) => number, created: (item: T) => number, limit: number): T[] {
  return items.sort((a, b) => at(b) - at(a) || created(b) - created(a)).slice(0, limit);
}

export const all = query({
  args: { userId: v.string(), text: v.string(), limit: v.optional(v.number()) },
  returns: v.object({ sessions: v.array(searchHit), messages: v.array(searchHit), workOrders: v.array(searchHit) }),
  handler: async (ctx, args) => {
    checkWellFormed(args);
    const limit = checkSearchLimit(args.limit);
    const terms = searchTerms(args.text);
    await requireUser(ctx, args.userId, "another user's sessions");
    if (terms.length === 0) return { sessions: [], messages: [], workOrders: [] };
    // Words only: nothing the operator typed is passed to the index but letters and digits.
    const text = terms.join(" ");
    const owned = ownedSessions(ctx, args.userId);
    return {
      sessions: await searchSessions(ctx, args.userId, text, terms, limit),
      messages: await searchMessages(ctx, args.userId, owned, text, terms, limit),
      workOrders: await searchWorkOrders(ctx, args.userId, owned, text, terms, limit),
    };
  },
});

// The live sessions of `userId` among those a candidate hangs off, each read once.
function ownedSessions(ctx: QueryCtx, userId: string): (id: Id<"chat_sessions">) => Promise<Doc<"chat_sessions"> | null> {
  const seen = new Map<Id<"chat_sessions">, Doc<"chat_sessions"> | null>();
  return async (id) => {
    if (!seen.has(id)) {
      const session = await ctx.db.get(id);
      seen.set(id, session !== null && session.userId === userId && session.deletedAt === undefined ? session : null);
    }
    return seen.get(id) ?? null;
  };
}

async function searchSessions(ctx: QueryCtx, userId: string, text: string, terms: string[], limit: number): Promise<Hit[]> {
  const candidates = await ctx.db
    .query("chat_sessions")
    .withSearchIndex("search_title", (q) => q.search("title", text).eq("userId", userId).eq("deletedAt", undefined))
    .take(SEARCH_CANDIDATES);
  const hits = candidates.filter((session) => matchesTerms(session.title, terms));
  return newest(hits, (s) => s.lastMessageAt, (s) => s._creationTime, limit).map((session) => ({
    kind: "session" as const,
    sessionId: session._id,
    sessionTitle: session.title,
    field: "title",
    excerpt: excerpt(session.title, terms),
    at: session.lastMessageAt,
  }));
}

async function searchMessages(
  ctx: QueryCtx,
  userId: string,
  owned: (id: Id<"chat_sessions">) => Promise<Doc<"chat_sessions"> | null>,
  text: string,
  terms: string[],
  limit: number,
): Promise<Hit[]> {
  const candidates = await ctx.db
    .query("chat_messages")
    .withSearchIndex("search_content", (q) => q.search("content", text).eq("ownerId", userId).eq("deletedAt", undefined))
    .take(SEARCH_CANDIDATES);
  const hits: { message: Doc<"chat_messages">; session: Doc<"chat_sessions"> }[] = [];
  for (const message of candidates) {
    if (!matchesTerms(message.content, terms)) continue;
    const session = await owned(message.sessionId);
    if (session !== null) hits.push({ message, session });
  }
  return newest(hits, (h) => h.message.createdAt, (h) => h.message._creationTime, limit).map(({ message, session }) => ({
    kind: "message" as const,
    sessionId: session._id,
    sessionTitle: session.title,
    messageId: message._id,
    field: "content",
    excerpt: excerpt(message.content, terms),
    at: message.createdAt,
    role: message.role,
  }));
}

async function searchWorkOrders(
  ctx: QueryCtx,
  userId: string,
  owned: (id: Id<"chat_sessions">) => Promise<Doc<"chat_sessions"> | null>,
  text: string,
  terms: string[],
  limit: number,
): Promise<Hit[]> {
  // One search index per field (an index searches one field); a work order found twice counts once.
  const found = new Map<Id<"work_orders">, Doc<"work_orders">>();
  for (const [field, index] of [
    ["title", "search_title"],
    ["prompt", "search_prompt"],
    ["targetRepo", "search_targetRepo"],
  ] as const) {
    const candidates = await ctx.db
      .query("work_orders")
      .withSearchIndex(index, (q) => q.search(field, text).eq("ownerId", userId).eq("deletedAt", undefined))
      .take(SEARCH_CANDIDATES);
    for (const workOrder of candidates) found.set(workOrder._id, workOrder);
  }
  const hits: { workOrder: Doc<"work_orders">; session: Doc<"chat_sessions">; field: (typeof WORK_ORDER_FIELDS)[number] }[] = [];
  for (const workOrder of found.values()) {
    const field = WORK_ORDER_FIELDS.find((name) => {
      const value = workOrder[name];
      return value !== undefined && matchesTerms(value, terms);
    });
    if (field === undefined) continue;
    const session = await owned(workOrder.sessionId);
    if (session !== null) hits.push({ workOrder, session, field });
  }
  return newest(hits, (h) => h.workOrder.updatedAt, (h) => h.workOrder._creationTime, limit).map(
    ({ workOrder, session, field }) => ({
      kind: "workOrder" as const,
      sessionId: session._id,
      sessionTitle: session.title,
      workOrderId: workOrder._id,
      workOrderTitle: workOrder.title,
      field,
      excerpt: excerpt(workOrder[field] ?? "", terms),
      at: workOrder.updatedAt,
      status: workOrder.status,
    }),
  );
}
