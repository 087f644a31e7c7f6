// All 49 (from, to) pairs of the status machine, through the real updateStatus mutation.
import { describe, expect, test } from "vitest";
import { api } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import {
  ACTIVE_STATUSES,
  LAUNCHED_STATUSES,
  RETRYABLE_STATUSES,
  STATUSES,
  TERMINAL_STATUSES,
  TRANSITIONS,
  canTransition,
  type WorkOrderStatus,
} from "../lib/statusMachine";
import { dump, expectCode, newBackend, type Backend } from "../test.setup";

// The shortest allowed path from draft to each status, to put a work order there.
const PATH: Record<WorkOrderStatus, WorkOrderStatus[]> = {
  draft: [],
  submitted: ["submitted"],
  accepted: ["submitted", "accepted"],
  running: ["submitted", "accepted", "running"],
  succeeded: ["submitted", "accepted", "running", "succeeded"],
  failed: ["submitted", "failed"],
  canceled: ["canceled"],
};

async function workOrderIn(t: Backend, sessionId: Id<"chat_sessions">, status: WorkOrderStatus, n: number) {
  let w = await t.mutation(api.workOrders.create, { sessionId, workflowId: `wf-${status}-${n}` });
  for (const next of PATH[status]) {
    w = await t.mutation(api.workOrders.updateStatus, { workOrderId: w._id, status: next });
  }
  expect(w.status).toBe(status);
  return w;
}

describe("the transition table", () => {
  test("matches docs/architecture.md", () => {
    expect(TERMINAL_STATUSES).toEqual(["succeeded", "failed", "canceled"]);
    expect(ACTIVE_STATUSES).toEqual(["draft", "submitted", "accepted", "running"]);
    for (const s of ACTIVE_STATUSES) expect(TRANSITIONS[s]).toContain("canceled");
    expect(TRANSITIONS.submitted).toContain("failed");
    expect(TRANSITIONS.accepted).toContain("failed");
  });

  test("each status set agrees with the table", () => {
    // Written as literals (tests/test_parity.py parses them); here they are held to the table.
    expect(TERMINAL_STATUSES).toEqual(STATUSES.filter((s) => TRANSITIONS[s].length === 0));
    expect(ACTIVE_STATUSES).toEqual(STATUSES.filter((s) => TRANSITIONS[s].length > 0));
    // Launched: reached by launching (submitted) and not yet terminal.
    const reachable = (from: WorkOrderStatus): Set<WorkOrderStatus> => {
      const seen = new Set<WorkOrderStatus>([from]);
      for (const s of seen) for (const next of TRANSITIONS[s]) seen.add(next);
      return seen;
    };
    expect(LAUNCHED_STATUSES).toEqual(STATUSES.filter((s) => reachable("submitted").has(s) && TRANSITIONS[s].length > 0));
    // Retryable: the terminal statuses other than success.
    expect(RETRYABLE_STATUSES).toEqual(TERMINAL_STATUSES.filter((s) => s !== "succeeded"));
  });

  const pairs = STATUSES.flatMap((from) => STATUSES.map((to) => [from, to] as const));
  test("has 49 pairs", () => expect(pairs).toHaveLength(49));

  for (const [from, to] of pairs) {
    const allowed = canTransition(from, to);
    const label = from === to ? "no-op" : allowed ? "allowed" : "INVALID_TRANSITION";
    test(`${from} -> ${to}: ${label}`, async () => {
      const t = newBackend();
      const s = await t.mutation(api.chatSessions.create, { userId: "alice", title: "SM" });
      const w = await workOrderIn(t, s._id, from, 0);
      if (from === to) {
        expect(await t.mutation(api.workOrders.updateStatus, { workOrderId: w._id, status: to })).toEqual(w);
      } else if (allowed) {
        const moved = await t.mutation(api.workOrders.updateStatus, { workOrderId: w._id, status: to, expectedStatus: from });
        expect(moved.status).toBe(to);
        expect(moved.updatedAt).toBeGreaterThanOrEqual(w.updatedAt);
      } else {
        const before = await dump(t);
        await expectCode(t.mutation(api.workOrders.updateStatus, { workOrderId: w._id, status: to }), "INVALID_TRANSITION");
        expect(await dump(t)).toEqual(before);
      }
    });
  }
});
