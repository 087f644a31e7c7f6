// Field validators shared by the schema, the function arguments and the `returns` validators,
// so a document's shape is written once.
import { v } from "convex/values";
import { STATUSES } from "./statusMachine";

export const roleValidator = v.union(v.literal("user"), v.literal("assistant"), v.literal("system"));

export const statusValidator = v.union(...STATUSES.map((s) => v.literal(s)));

// The statuses a work order may be created in.
export const initialStatusValidator = v.union(v.literal("draft"), v.literal("submitted"));

// What a work-order event records (docs/architecture.md, the event log). The Python twin is EventKind.
export const EVENT_KINDS = [
  "command",
  "file_change",
  "agent_message",
  "reasoning",
  "error",
  "usage",
  "output",
  "setup",
  "git",
  "pr",
] as const;

export const eventKindValidator = v.union(...EVENT_KINDS.map((k) => v.literal(k)));

export const chatSessionFields = {
  userId: v.string(),
  title: v.string(),
  lastMessageAt: v.number(),
  createdAt: v.number(),
  updatedAt: v.number(),
  deletedAt: v.optional(v.number()),
};

export const chatMessageFields = {
  sessionId: v.id("chat_sessions"),
  role: roleValidator,
  content: v.string(),
  metadata: v.optional(v.any()),
  createdAt: v.number(),
  updatedAt: v.number(),
  deletedAt: v.optional(v.number()),
};

export const workOrderFields = {
  sessionId: v.id("chat_sessions"),
  workflowId: v.string(),
  githubIssueUrl: v.optional(v.string()),
  prompt: v.optional(v.string()),
  title: v.optional(v.string()),
  status: statusValidator,
  requestedBy: v.optional(v.string()),
  targetRepo: v.optional(v.string()),
  targetBranch: v.optional(v.string()),
  prUrl: v.optional(v.string()),
  // A follow-up: the ended work order whose branch, workspace and Codex thread this one continues.
  followUpOf: v.optional(v.id("work_orders")),
  createdAt: v.number(),
  updatedAt: v.number(),
  deletedAt: v.optional(v.number()),
};

// Stored beside the contract's columns, never shown: the session's owner, copied when the work
// order is created (sessions never change owner), the key of listByStatus for one user and a
// filter field of the search indexes.
export const workOrderStoredFields = { ...workOrderFields, ownerId: v.optional(v.string()) };

export const chatSessionDoc = v.object({
  _id: v.id("chat_sessions"),
  _creationTime: v.number(),
  ...chatSessionFields,
});

// Stored beside the contract's columns, never shown: the session's owner, copied when the message
// is appended (sessions never change owner), a filter field of the search index, so that a search
// reads only its user's candidates.
export const chatMessageStoredFields = { ...chatMessageFields, ownerId: v.optional(v.string()) };

export const chatMessageDoc = v.object({
  _id: v.id("chat_messages"),
  _creationTime: v.number(),
  ...chatMessageFields,
});

export const workOrderDoc = v.object({
  _id: v.id("work_orders"),
  _creationTime: v.number(),
  ...workOrderFields,
});

export const workOrderEventFields = {
  workOrderId: v.id("work_orders"),
  // 1, 2, 3, ... per work order, assigned by the backend in append order.
  seq: v.number(),
  kind: eventKindValidator,
  text: v.string(),
  metadata: v.optional(v.any()),
  createdAt: v.number(),
  updatedAt: v.number(),
  deletedAt: v.optional(v.number()),
};

export const workOrderEventDoc = v.object({
  _id: v.id("work_order_events"),
  _creationTime: v.number(),
  ...workOrderEventFields,
});

// One event as a client appends it: the backend adds the rest.
export const newEventValidator = v.object({
  kind: eventKindValidator,
  text: v.string(),
  metadata: v.optional(v.any()),
});
