// Who may call what. By default a deployment trusts its operators (the admin key is the
// guard). With JANGAR_REQUIRE_AUTH=true in the deployment's environment, every function needs
// a signed-in user and only touches that user's sessions and what hangs off them.
//
// A user is named by the identity's `tokenIdentifier` (issuer and subject together), never by the
// bare `subject`: two identity providers may hand out the same subject to different people. With
// auth on, a session's `userId` (and a work order's `requestedBy`) is that tokenIdentifier.
import type { Auth } from "convex/server";
import { env } from "../_generated/server";
import { fail } from "./errors";

export function authRequired(): boolean {
  // `env` is the deployment's environment (process.env), read at call time.
  return env.JANGAR_REQUIRE_AUTH === "true";
}

// The caller's tokenIdentifier when auth is required (FORBIDDEN when nobody is signed in),
// null in trusted mode.
export async function callerIdentity(ctx: { auth: Auth }): Promise<string | null> {
  if (!authRequired()) return null;
  const identity = await ctx.auth.getUserIdentity();
  if (identity === null) fail("FORBIDDEN", "Sign in first: this deployment requires an authenticated user.");
  return identity.tokenIdentifier;
}

// Refuses unless the caller is `userId` (a user id given as an argument or stored on a session).
export async function requireUser(ctx: { auth: Auth }, userId: string, what = "this user's data"): Promise<void> {
  const caller = await callerIdentity(ctx);
  if (caller !== null && caller !== userId) {
    fail("FORBIDDEN", `You are signed in as another user and cannot access ${what}.`);
  }
}
