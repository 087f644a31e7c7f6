// Contract errors: a ConvexError whose data is {code, message}, which every client maps to
// its own error type (JangarError in Python).
import { ConvexError } from "convex/values";

export type ErrorCode =
  | "NOT_FOUND"
  | "INVALID_ARGUMENT"
  | "INVALID_TRANSITION"
  | "CONFLICT"
  | "FORBIDDEN";

export type ErrorData = { code: ErrorCode; message: string };

export function fail(code: ErrorCode, message: string): never {
  throw new ConvexError<ErrorData>({ code, message });
}
