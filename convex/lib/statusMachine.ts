// The one TypeScript table of work-order transitions (docs/architecture.md) and the status sets.
// Their Python twins are in jangar_tui/models.py; tests/test_parity.py checks they are equal, and
// convex/tests/statusMachine.test.ts that each set agrees with the table.
import { fail } from "./errors";

export const STATUSES = [
  "draft",
  "submitted",
  "accepted",
  "running",
  "succeeded",
  "failed",
  "canceled",
] as const;

export type WorkOrderStatus = (typeof STATUSES)[number];

// status -> statuses it may move to. Terminal statuses move nowhere.
export const TRANSITIONS: Record<WorkOrderStatus, readonly WorkOrderStatus[]> = {
  draft: ["submitted", "canceled"],
  submitted: ["accepted", "failed", "canceled"],
  accepted: ["running", "failed", "canceled"],
  running: ["succeeded", "failed", "canceled"],
  succeeded: [],
  failed: [],
  canceled: [],
};

// The work order moves nowhere any more.
export const TERMINAL_STATUSES: readonly WorkOrderStatus[] = ["succeeded", "failed", "canceled"];

// The work order still has something to do (draft included): its session cannot be removed.
export const ACTIVE_STATUSES: readonly WorkOrderStatus[] = ["draft", "submitted", "accepted", "running"];

// A workflow may be running for it: it cannot be removed, and the reconciler watches it.
export const LAUNCHED_STATUSES: readonly WorkOrderStatus[] = ["submitted", "accepted", "running"];

// A retry makes a new draft from it.
export const RETRYABLE_STATUSES: readonly WorkOrderStatus[] = ["failed", "canceled"];

export function canTransition(current: WorkOrderStatus, target: WorkOrderStatus): boolean {
  return current === target || TRANSITIONS[current].includes(target);
}

export function checkTransition(current: WorkOrderStatus, target: WorkOrderStatus): void {
  if (!canTransition(current, target)) {
    fail("INVALID_TRANSITION", `A work order cannot move from ${current} to ${target}.`);
  }
}
