// A test-only stdio bridge: the real Convex schema and functions of convex/, run by convex-test,
// answering JSON lines so the Python adapter can be checked against the real validators.
//
//   -> {"id", "kind": "query" | "mutation", "name", "args"}   args in Convex's JSON encoding
//   <- {"id", "value"} | {"id", "error": {"data"?, "message"}}  `data` only for a ConvexError
//   -> {"id", "kind": "reset"}                                  a fresh, empty backend
//
// Run with vite-node (convex-test needs `import.meta.glob`): npx vite-node tests/convex_bridge/bridge.ts
import { createInterface } from "node:readline";
import { convexTest } from "convex-test";
import { makeFunctionReference } from "convex/server";
import { ConvexError, convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import schema from "../../convex/schema";

// Every module of the functions directory (same pattern as convex/test.setup.ts: no *.test.ts).
const modules = import.meta.glob("../../convex/**/!(*.*.*)*.*s");

type Request = { id: number; kind: "query" | "mutation" | "reset"; name?: string; args?: unknown };
type Reply = { id: number; value?: unknown; error?: { data?: unknown; message: string } };

let backend = convexTest(schema, modules);

// What a Convex client receives for a thrown error: ConvexError data, or the message only.
function describeError(error: unknown): Reply["error"] {
  if (error instanceof ConvexError) {
    // Functions serialize ConvexError data; clients parse it back.
    const data = typeof error.data === "string" ? safeParse(error.data) : error.data;
    return { data: convexToJson(data as Value), message: error.message };
  }
  return { message: error instanceof Error ? error.message : String(error) };
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function answer(request: Request): Promise<Reply> {
  if (request.kind === "reset") {
    backend = convexTest(schema, modules);
    return { id: request.id, value: null };
  }
  const name = request.name ?? "";
  try {
    // Inside the try: arguments a Convex client could not encode are its error, not the bridge's.
    const args = jsonToConvex(request.args as JSONValue) as Record<string, Value>;
    const value =
      request.kind === "query"
        ? await backend.query(makeFunctionReference<"query">(name), args)
        : await backend.mutation(makeFunctionReference<"mutation">(name), args);
    return { id: request.id, value: convexToJson((value ?? null) as Value) };
  } catch (error) {
    return { id: request.id, error: describeError(error) };
  }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
// One request at a time, in order, like a client's single connection.
for await (const line of lines) {
  if (!line.trim()) continue;
  const request = JSON.parse(line) as Request;
  process.stdout.write(JSON.stringify(await answer(request)) + "\n");
}
