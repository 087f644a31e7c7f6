// The page shape of the contract: {page, isDone, continueCursor}, nothing Convex-specific.
import { v, type Validator } from "convex/values";
import type { PaginationResult } from "convex/server";

export function pageValidator<T>(item: Validator<T, "required", string>) {
  return v.object({ page: v.array(item), isDone: v.boolean(), continueCursor: v.string() });
}

export type Page<T> = { page: T[]; isDone: boolean; continueCursor: string };

export function toPage<T>(result: PaginationResult<T>): Page<T> {
  return { page: result.page, isDone: result.isDone, continueCursor: result.continueCursor };
}

// What a list of an unknown or deleted parent returns.
export function emptyPage<T>(): Page<T> {
  return { page: [], isDone: true, continueCursor: "" };
}
