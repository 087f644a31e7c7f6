// The contract's tables (docs/architecture.md); every list is served from one of these indexes.
import { defineSchema, defineTable } from "convex/server";
import { chatMessageFields, chatSessionFields, workOrderEventFields, workOrderFields } from "./lib/validators";

export default defineSchema({
  chat_sessions: defineTable(chatSessionFields).index("by_user_lastMessageAt", ["userId", "lastMessageAt"]),
  chat_messages: defineTable(chatMessageFields).index("by_session_createdAt", ["sessionId", "createdAt"]),
  work_orders: defineTable(workOrderFields)
    .index("by_session_createdAt", ["sessionId", "createdAt"])
    .index("by_status_updatedAt", ["status", "updatedAt"])
    // Refusing a duplicate workflowId without scanning the table needs it.
    .index("by_workflowId", ["workflowId"]),
  // The work-order event log: pages by sequence number.
  work_order_events: defineTable(workOrderEventFields).index("by_workOrder_seq", ["workOrderId", "seq"]),
});
