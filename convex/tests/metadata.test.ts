// Metadata a JSON scenario cannot write (tests/contract/metadata.json has the rest): production
// Convex stores NaN, infinities, bigint and bytes, the contract does not.
import { describe, expect, test } from "vitest";
import type { Value } from "convex/values";
import { api } from "../_generated/api";
import { METADATA_MAX_DEPTH } from "../lib/limits";
import { expectRefused, firstPage, newBackend } from "../test.setup";

function deep(levels: number): Value {
  let value: Value = 0;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

describe("metadata", () => {
  const refused: Record<string, Value> = {
    NaN: { x: NaN },
    Infinity: { x: Infinity },
    "-Infinity": [-Infinity],
    bigint: { x: 5n },
    bytes: { x: new Uint8Array([0, 1]).buffer },
    "too deep": deep(METADATA_MAX_DEPTH + 1),
    "a field starting with _": { _x: 1 },
    "an empty field name": { "": 1 },
  };
  for (const [what, metadata] of Object.entries(refused)) {
    test(`${what} is INVALID_ARGUMENT and stores nothing`, async () => {
      const t = newBackend();
      const s = await t.mutation(api.chatSessions.create, { userId: "alice", title: "Metadata" });
      await expectRefused(
        t,
        () => t.mutation(api.chatMessages.append, { sessionId: s._id, role: "assistant", content: "m", metadata }),
        "INVALID_ARGUMENT",
      );
      expect((await t.query(api.chatMessages.listBySession, { sessionId: s._id, paginationOpts: firstPage() })).page).toEqual([]);
    });
  }

  test("the deepest allowed nesting, and -0, are stored", async () => {
    const t = newBackend();
    const s = await t.mutation(api.chatSessions.create, { userId: "alice", title: "Metadata" });
    const metadata = { deep: deep(METADATA_MAX_DEPTH - 1), zero: -0 };
    const m = await t.mutation(api.chatMessages.append, { sessionId: s._id, role: "assistant", content: "m", metadata });
    expect(m.metadata).toEqual(metadata);
  });
});
