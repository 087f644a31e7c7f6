// The one TypeScript table of work-order transitions (docs/architecture.md). Its Python twin is
// TRANSITIONS in jangar_tui/models.py; tests/test_parity.py checks they are equal.
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

export const TERMINAL_STATUSES: readonly WorkOrderStatus[] = STATUSES.filter(
  (s) => TRANSITIONS[s].length === 0,
);

// Statuses in which a work order still has something to do (draft included).
export const ACTIVE_STATUSES: readonly WorkOrderStatus[] = STATUSES.filter(
  (s) => TRANSITIONS[s].length > 0,
);

// Statuses in which a workflow may be running: such a work order cannot be removed.
export const LAUNCHED_STATUSES: readonly WorkOrderStatus[] = ["submitted", "accepted", "running"];

export function canTransition(current: WorkOrderStatus, target: WorkOrderStatus): boolean {
  return current === target || TRANSITIONS[current].includes(target);
}

export function checkTransition(current: WorkOrderStatus, target: WorkOrderStatus): void {
  if (!canTransition(current, target)) {
    fail("INVALID_TRANSITION", `A work order cannot move from ${current} to ${target}.`);
  }
}
