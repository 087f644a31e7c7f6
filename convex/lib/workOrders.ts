// Loading a work order for a call, with the NOT_FOUND / FORBIDDEN rules every module shares.
import type { Doc, Id } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { callerIdentity, requireUser } from "./auth";
import { fail } from "./errors";

// Refuses unless the caller owns the work order's session (no-op in trusted mode).
export async function requireOwner(ctx: QueryCtx, workOrder: Doc<"work_orders">): Promise<void> {
  if ((await callerIdentity(ctx)) === null) return;
  const session = await ctx.db.get(workOrder.sessionId);
  await requireUser(ctx, session?.userId ?? "", "this work order");
}

// The work order, deleted or not; NOT_FOUND when it never existed.
export async function loadWorkOrder(ctx: QueryCtx, workOrderId: Id<"work_orders">): Promise<Doc<"work_orders">> {
  const workOrder = await ctx.db.get(workOrderId);
  if (workOrder === null) fail("NOT_FOUND", "This work order does not exist.");
  await requireOwner(ctx, workOrder);
  return workOrder;
}

export async function loadLiveWorkOrder(ctx: QueryCtx, workOrderId: Id<"work_orders">): Promise<Doc<"work_orders">> {
  const workOrder = await loadWorkOrder(ctx, workOrderId);
  if (workOrder.deletedAt !== undefined) {
    fail("NOT_FOUND", `Work order ${workOrder.workflowId} was deleted; restore it first.`);
  }
  return workOrder;
}
