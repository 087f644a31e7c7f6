// The contract's tables (docs/architecture.md); every list is served from one of these indexes.
import { defineSchema, defineTable } from "convex/server";
import { chatMessageStoredFields, chatSessionFields, workOrderEventFields, workOrderStoredFields } from "./lib/validators";

export default defineSchema({
  // Search (convex/search.ts): one search index per searched field; deleted rows filtered out by
  // the index itself (deletedAt undefined), and another user's rows too (userId on sessions, the
  // copied ownerId on messages and work orders): a search reads only its user's candidates.
  chat_sessions: defineTable(chatSessionFields)
    .index("by_user_lastMessageAt", ["userId", "lastMessageAt"])
    .searchIndex("search_title", { searchField: "title", filterFields: ["userId", "deletedAt"] }),
  chat_messages: defineTable(chatMessageStoredFields)
    .index("by_session_createdAt", ["sessionId", "createdAt"])
    .searchIndex("search_content", { searchField: "content", filterFields: ["sessionId", "ownerId", "deletedAt"] }),
  work_orders: defineTable(workOrderStoredFields)
    .index("by_session_createdAt", ["sessionId", "createdAt"])
    .index("by_status_updatedAt", ["status", "updatedAt"])
    // One user's work orders in a status: listByStatus with a userId (or with auth on).
    .index("by_owner_status_updatedAt", ["ownerId", "status", "updatedAt"])
    // Refusing a duplicate workflowId without scanning the table needs it.
    .index("by_workflowId", ["workflowId"])
    .searchIndex("search_title", { searchField: "title", filterFields: ["ownerId", "deletedAt"] })
    .searchIndex("search_prompt", { searchField: "prompt", filterFields: ["ownerId", "deletedAt"] })
    .searchIndex("search_targetRepo", { searchField: "targetRepo", filterFields: ["ownerId", "deletedAt"] }),
  // The work-order event log: pages by sequence number.
  work_order_events: defineTable(workOrderEventFields).index("by_workOrder_seq", ["workOrderId", "seq"]),
});
