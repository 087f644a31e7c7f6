// The work-order event log: what a run did (commands, file changes, agent messages, usage, git
// and PR steps), appended by the worker in batches and read in pages by sequence number. Events
// follow their work order: hidden while it is deleted, refused for one that is deleted.
import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import type { Doc } from "./_generated/dataModel";
import { mutation, query } from "./_generated/server";
import { callerIdentity } from "./lib/auth";
import { checkEvents, checkPageSize, checkSeq, checkWellFormed } from "./lib/checks";
import { checkCursor, emptyPage, pageValidator, paginateList } from "./lib/pagination";
import { loadLiveWorkOrder, requireOwner } from "./lib/workOrders";
import { newEventValidator, workOrderEventDoc } from "./lib/validators";

export const append = mutation({
  args: { workOrderId: v.id("work_orders"), events: v.array(newEventValidator) },
  returns: v.object({ firstSeq: v.number(), lastSeq: v.number() }),
  handler: async (ctx, args) => {
    checkWellFormed(args);
    const workOrder = await loadLiveWorkOrder(ctx, args.workOrderId);
    checkEvents(args.events);
    // The newest event, deleted or not: sequence numbers are never reused.
    const last = await ctx.db
      .query("work_order_events")
      .withIndex("by_workOrder_seq", (q) => q.eq("workOrderId", workOrder._id))
      .order("desc")
      .first();
    const firstSeq = (last?.seq ?? 0) + 1;
    // Never earlier than the last event, so createdAt follows seq even if the clock steps back.
    const now = Math.max(Date.now(), last?.createdAt ?? 0);
    for (const [index, event] of args.events.entries()) {
      await ctx.db.insert("work_order_events", {
        workOrderId: workOrder._id,
        seq: firstSeq + index,
        kind: event.kind,
        text: event.text,
        metadata: event.metadata,
        createdAt: now,
        updatedAt: now,
      });
    }
    return { firstSeq, lastSeq: firstSeq + args.events.length - 1 };
  },
});

export const list = query({
  args: {
    workOrderId: v.id("work_orders"),
    paginationOpts: paginationOptsValidator,
    afterSeq: v.optional(v.number()),
  },
  returns: pageValidator(workOrderEventDoc),
  handler: async (ctx, args) => {
    checkPageSize(args.paginationOpts.numItems);
    checkSeq(args.afterSeq, "afterSeq");
    const afterSeq = args.afterSeq ?? 0;
    // The list is the work order's events after `afterSeq`: a cursor belongs to that range.
    const list = { fn: "workOrderEvents:list", key: `${args.workOrderId}:${afterSeq}` };
    checkCursor(list, args.paginationOpts);
    const workOrder = await ctx.db.get(args.workOrderId);
    if (workOrder !== null) await requireOwner(ctx, workOrder);
    else await callerIdentity(ctx);
    if (workOrder === null || workOrder.deletedAt !== undefined) return emptyPage<Doc<"work_order_events">>(list);
    return paginateList(list, args.paginationOpts, (opts) =>
      ctx.db
        .query("work_order_events")
        .withIndex("by_workOrder_seq", (q) => q.eq("workOrderId", workOrder._id).gt("seq", afterSeq))
        .order("desc")
        .filter((q) => q.eq(q.field("deletedAt"), undefined))
        .paginate(opts),
    );
  },
});
