// Runs every backend-neutral scenario of tests/contract/*.json against the Convex functions,
// exactly per tests/contract/README.md.
import { makeFunctionReference } from "convex/server";
import { describe, expect, test } from "vitest";
import * as chatMessages from "../chatMessages";
import * as chatSessions from "../chatSessions";
import * as search from "../search";
import * as workOrderEvents from "../workOrderEvents";
import * as workOrders from "../workOrders";
import { contractCode, dump, newBackend, type Backend } from "../test.setup";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Step = {
  call: string;
  args: Record<string, Json>;
  expect: { ok: Json } | { error: string };
  save?: string;
  repeat?: number;
};
type Scenario = { name: string; description: string; steps: Step[] };

const scenarios = import.meta.glob<Scenario>("../../tests/contract/*.json", { eager: true, import: "default" });

const exported: Record<string, Record<string, unknown>> = {
  chatSessions,
  chatMessages,
  workOrders,
  workOrderEvents,
  search,
};

// Whether a contract function is a query or a mutation, from the registered function itself.
function kindOf(name: string): "query" | "mutation" {
  const [module, fn] = name.split(":");
  const registered = exported[module]?.[fn] as { isQuery?: boolean; isMutation?: boolean } | undefined;
  if (registered?.isQuery) return "query";
  if (registered?.isMutation) return "mutation";
  throw new Error(`${name} is not a contract function`);
}

function lookup(saved: Record<string, unknown>, reference: string): unknown {
  const [name, ...path] = reference.split(".");
  if (!(name in saved)) throw new Error(`reference $${reference}: nothing saved as ${name}`);
  let value: unknown = saved[name];
  for (const part of path) {
    if (value === null || typeof value !== "object") throw new Error(`reference $${reference}: no ${part}`);
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

// Replaces "$name.path" references (and "{i}" in repeated steps' args) inside values.
function resolve(value: Json, saved: Record<string, unknown>, iteration?: number): unknown {
  if (typeof value === "string") {
    if (value.startsWith("$$")) return value.slice(1);
    if (value.startsWith("$")) return lookup(saved, value.slice(1));
    return iteration === undefined ? value : value.replaceAll("{i}", String(iteration));
  }
  if (Array.isArray(value)) return value.map((item) => resolve(item, saved, iteration));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, saved, iteration)]));
  }
  return value;
}

const OPERATORS = new Set(["$type", "$absent", "$gte", "$gt", "$lte", "$ne", "$len", "$any"]);

function isOperator(matcher: unknown): matcher is Record<string, unknown> {
  return (
    matcher !== null &&
    typeof matcher === "object" &&
    !Array.isArray(matcher) &&
    Object.keys(matcher).length > 0 &&
    Object.keys(matcher).every((k) => OPERATORS.has(k))
  );
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

// Returns the mismatches between `actual` and a resolved matcher (empty when it matches).
function mismatches(actual: unknown, matcher: unknown, where: string, present = true): string[] {
  if (isOperator(matcher)) {
    const errors: string[] = [];
    for (const [op, arg] of Object.entries(matcher)) {
      const bad = (what: string) => errors.push(`${where}: ${what}, got ${JSON.stringify(actual)}`);
      if (op === "$any") continue;
      if (op === "$absent") {
        const absent = !present || actual === null || actual === undefined;
        if (absent !== Boolean(arg)) bad(arg ? "expected absent" : "expected present");
        continue;
      }
      if (!present) {
        bad(`missing (expected ${op})`);
        continue;
      }
      if (op === "$type" && typeName(actual) !== arg) bad(`expected type ${arg}`);
      if (op === "$gte" && !(typeof actual === "number" && actual >= (arg as number))) bad(`expected >= ${arg}`);
      if (op === "$gt" && !(typeof actual === "number" && actual > (arg as number))) bad(`expected > ${arg}`);
      if (op === "$lte" && !(typeof actual === "number" && actual <= (arg as number))) bad(`expected <= ${arg}`);
      if (op === "$ne" && mismatches(actual, arg, where).length === 0) bad(`expected not ${JSON.stringify(arg)}`);
      if (op === "$len") {
        const length = typeof actual === "string" ? [...actual].length : Array.isArray(actual) ? actual.length : -1;
        if (length !== arg) bad(`expected length ${arg}`);
      }
    }
    return errors;
  }
  if (!present) return [`${where}: missing`];
  if (Array.isArray(matcher)) {
    if (!Array.isArray(actual) || actual.length !== matcher.length) {
      return [`${where}: expected an array of ${matcher.length}, got ${JSON.stringify(actual)}`];
    }
    return matcher.flatMap((m, i) => mismatches(actual[i], m, `${where}[${i}]`));
  }
  if (matcher !== null && typeof matcher === "object") {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual)) {
      return [`${where}: expected an object, got ${JSON.stringify(actual)}`];
    }
    const record = actual as Record<string, unknown>;
    return Object.entries(matcher).flatMap(([k, m]) =>
      mismatches(record[k], m, `${where}.${k}`, k in record && record[k] !== undefined),
    );
  }
  return actual === matcher ? [] : [`${where}: expected ${JSON.stringify(matcher)}, got ${JSON.stringify(actual)}`];
}

async function call(t: Backend, name: string, args: unknown): Promise<{ ok: unknown } | { error: string }> {
  const kind = kindOf(name);
  try {
    const ok =
      kind === "query"
        ? await t.query(makeFunctionReference<"query">(name), args as Record<string, unknown>)
        : await t.mutation(makeFunctionReference<"mutation">(name), args as Record<string, unknown>);
    return { ok };
  } catch (error) {
    return { error: contractCode(error) };
  }
}

async function runScenario(scenario: Scenario): Promise<number> {
  const t = newBackend();
  const saved: Record<string, unknown> = {};
  let calls = 0;
  for (const [index, step] of scenario.steps.entries()) {
    const label = `step ${index} (${step.call})`;
    const times = step.repeat ?? 1;
    for (let i = 0; i < times; i++) {
      const args = resolve(step.args, saved, step.repeat === undefined ? undefined : i);
      const before = "error" in step.expect ? await dump(t) : null;
      const outcome = await call(t, step.call, args);
      calls++;
      if ("error" in step.expect) {
        expect(outcome, label).toEqual({ error: step.expect.error });
        expect(await dump(t), `${label} changed data although refused`).toEqual(before);
      } else {
        expect("ok" in outcome ? [] : [`${label}: failed with ${(outcome as { error: string }).error}`]).toEqual([]);
        const result = (outcome as { ok: unknown }).ok;
        const expected = resolve(step.expect.ok, saved);
        expect(mismatches(result, expected, label), JSON.stringify(result)).toEqual([]);
        if (step.save !== undefined) saved[step.save] = result;
      }
    }
  }
  return calls;
}

const files = Object.entries(scenarios).sort(([a], [b]) => a.localeCompare(b));

describe("contract scenarios", () => {
  test("there are scenario files with at least 60 calls", () => {
    const total = files.reduce((n, [, s]) => n + s.steps.length, 0);
    expect(files.length).toBeGreaterThan(0);
    expect(total).toBeGreaterThanOrEqual(60);
  });

  test("the scenarios call every contract function", () => {
    const called = new Set(files.flatMap(([, s]) => s.steps.map((step) => step.call)));
    const defined = Object.entries(exported).flatMap(([module, fns]) =>
      Object.entries(fns)
        .filter(([, fn]) => (fn as { isPublic?: boolean }).isPublic)
        .map(([name]) => `${module}:${name}`),
    );
    // the seed's 19, workOrderEvents:append and :list, chatMessages:update, search:all
    expect(defined).toHaveLength(23);
    expect([...called].sort()).toEqual(defined.sort());
  });

  for (const [path, scenario] of files) {
    test(`${path.split("/").pop()}: ${scenario.name}`, async () => {
      const calls = await runScenario(scenario);
      expect(calls).toBeGreaterThanOrEqual(scenario.steps.length);
    });
  }
});

describe("the runner itself", () => {
  test("matchers accept what the README says and reject the rest", () => {
    const row = { a: 1, b: "xy", c: null, d: [1, 2], e: { f: true } };
    expect(mismatches(row, { a: 1, b: { $len: 2 }, c: { $absent: true }, g: { $absent: true } }, "r")).toEqual([]);
    expect(mismatches(row, { d: [1, 2], e: { f: true }, a: { $gte: 1, $lte: 1 }, z: { $any: true } }, "r")).toEqual([]);
    expect(mismatches(row, { a: { $type: "number" }, d: { $type: "array" }, c: { $type: "null" } }, "r")).toEqual([]);
    expect(mismatches(row, { a: 2 }, "r")).toHaveLength(1);
    expect(mismatches(row, { a: { $gt: 1 } }, "r")).toHaveLength(1);
    expect(mismatches(row, { a: { $ne: 1 } }, "r")).toHaveLength(1);
    expect(mismatches(row, { d: [1] }, "r")).toHaveLength(1);
    expect(mismatches(row, { a: { $absent: true } }, "r")).toHaveLength(1);
    expect(mismatches(row, { g: 1 }, "r")).toHaveLength(1);
    expect(mismatches(row, { b: { $type: "number" } }, "r")).toHaveLength(1);
  });

  test("references resolve paths, array indexes, $$ escapes and {i}", () => {
    const saved = { p: { page: [{ _id: "x1" }] }, s: { _id: "s9" } };
    expect(resolve({ a: "$p.page.0._id", b: "$$lit", c: ["$s._id", "n{i}"] }, saved, 3)).toEqual({
      a: "x1",
      b: "$lit",
      c: ["s9", "n3"],
    });
    expect(() => resolve("$missing.x", saved)).toThrow(/nothing saved/);
  });
});
