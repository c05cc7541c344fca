/**
 * Field values for the tests that hold a hand-written guard to its zod schema
 * (tests/unit/browser-input-guard.test.ts, tests/unit/worker-output-guard.test.ts): valid ids,
 * ids at and past their limits, and every kind of value a MessagePack peer can send.
 */
import { expect } from "vitest";
import type { z } from "zod";
import { MAX_ENTITY_ID, MAX_TERMINAL_ID } from "../../protocol/ids";

export const ENVIRONMENT = "cm1abcdefghijklmnop";

/** Values of every kind a MessagePack peer (or a test) can put in a field. */
export const ANY_KIND: unknown[] = [
  undefined,
  null,
  true,
  0,
  -1,
  1.5,
  Number.NaN,
  Infinity,
  10n,
  "",
  {},
  [],
  ["main"],
  Buffer.from("x"),
  new Uint8Array([120]),
  new Date(0),
  new Map([["a", 1]]),
  () => "x",
  Symbol("x"),
  new String("main"),
];

export const ENVIRONMENT_IDS: unknown[] = [
  ENVIRONMENT,
  "a",
  "A-z_0-9",
  "a".repeat(MAX_ENTITY_ID),
  "a".repeat(MAX_ENTITY_ID + 1),
  "a".repeat(1_000_000),
  "has space",
  "slash/../x",
  "line\n",
  "\nline",
  "café",
  "ａ", // fullwidth a
  "😀".repeat(MAX_ENTITY_ID / 2),
  "a" + "😀".repeat(MAX_ENTITY_ID - 1),
  "__proto__",
  "constructor",
  ...ANY_KIND,
];

export const TERMINAL_IDS: unknown[] = [
  "main",
  "tab-2",
  "0",
  "a".repeat(MAX_TERMINAL_ID),
  "a".repeat(MAX_TERMINAL_ID + 1),
  "Main",
  "tab_2",
  "tab 2",
  "tab\n",
  "x".repeat(100_000),
  "😀".repeat(MAX_TERMINAL_ID),
  ...ANY_KIND,
];

/** A message as a failing assertion names it (long strings cut). */
export const describeValue = (value: unknown) => {
  try {
    return JSON.stringify(value, (_key, inner: unknown) =>
      typeof inner === "string" && inner.length > 80 ? `${inner.slice(0, 20)}... (${inner.length})` : typeof inner === "bigint" ? `${inner}n` : inner,
    );
  } catch {
    return String(value);
  }
};

/** The messages are a test of both verdicts: at least `accepted` the schema accepts and `refused` it refuses. */
export function expectBothVerdicts(messages: unknown[], schema: z.ZodType, least: { accepted: number; refused: number }) {
  const accepted = messages.filter((value) => schema.safeParse(value).success).length;
  expect(accepted).toBeGreaterThan(least.accepted);
  expect(messages.length - accepted).toBeGreaterThan(least.refused);
}

/**
 * Holds a hand-written guard to its schema over `messages`: the same verdict on each, and where
 * both accept, an equal result with the same fields set. `strict`: equal as toStrictEqual says,
 * with the very same keys (undefined ones too). Returns the accepted messages' two results, for
 * checks of their own.
 */
export function expectGuardIsSchema<T extends object>(
  messages: unknown[],
  schema: z.ZodType,
  guard: (payload: unknown) => T | null,
  { strict = false } = {},
): Array<{ said: string; guarded: T; parsed: T }> {
  const definedKeys = (object: object) =>
    Object.entries(object)
      .filter(([, field]) => field !== undefined)
      .map(([key]) => key);
  const accepted: Array<{ said: string; guarded: T; parsed: T }> = [];
  for (const value of messages) {
    const parsed = schema.safeParse(value);
    const guarded = guard(value);
    const said = describeValue(value);
    expect(guarded !== null, said).toBe(parsed.success);
    if (!parsed.success || guarded === null) continue;
    const data = parsed.data as T & object;
    if (strict) {
      expect(guarded, said).toStrictEqual(data);
      expect(Object.keys(guarded), said).toEqual(Object.keys(data));
    } else {
      expect(guarded, said).toEqual(data);
      expect(definedKeys(guarded), said).toEqual(definedKeys(data));
    }
    accepted.push({ said, guarded, parsed: data });
  }
  return accepted;
}
