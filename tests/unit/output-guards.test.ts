/**
 * Terminal output is read by hand-written guards instead of its zod schemas, on both hops (every
 * echo and every chunk of output is one): the worker's output on the server, the server's push in
 * the page. Each guard must be its schema: over valid and hostile messages alike it accepts exactly
 * what the schema accepts and returns what the schema returns (the bytes as a view of the same
 * memory); a message it refuses goes to the schema, which reports it.
 */
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { ServerPushes } from "../../protocol/browser-contract";
import { WorkerMessages } from "../../protocol/worker-contract";
import { MAX_TAKEN_INPUTS, TerminalOutput } from "../../protocol/worker-messages";
import { ANY_KIND, ENVIRONMENT, ENVIRONMENT_IDS, TERMINAL_IDS, expectBothVerdicts, expectGuardIsSchema } from "../support/hostile-fields";

const backing = new ArrayBuffer(64);
const DATA: unknown[] = [
  Buffer.from("hello"),
  Buffer.alloc(0),
  new Uint8Array([1, 2, 3]),
  new Uint8Array(backing, 8, 16), // a view into a larger buffer, as read off the wire
  new Uint16Array(4),
  new DataView(backing, 4, 8),
  new ArrayBuffer(5),
  new ArrayBuffer(0),
  "hello",
  [104, 105],
  { 0: 104, length: 1 },
  ...ANY_KIND,
];

const COUNTS: unknown[] = [
  0,
  -0,
  1,
  4096,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 1,
  2 ** 60,
  -1,
  0.5,
  1e-9,
  "1",
  1n,
  Number.NaN,
  Infinity,
  -Infinity,
  null,
];

const TAKEN: unknown[] = [
  [],
  [1, 2, 3],
  [0],
  Array.from({ length: MAX_TAKEN_INPUTS }, (_, index) => index),
  Array.from({ length: MAX_TAKEN_INPUTS + 1 }, (_, index) => index),
  [1, -1],
  [1, 1.5],
  [Number.MAX_SAFE_INTEGER + 1],
  ["1"],
  [null],
  [undefined],
  new Array(3), // holes
  [1, , 3], // eslint-disable-line no-sparse-arrays
  Object.assign([1, 2], { extra: "x" }),
  new Set([1]),
  { 0: 1, length: 1 },
  ...ANY_KIND,
];

/** A message with these fields; `undefined` leaves a field out. */
function message(fields: Record<string, unknown>) {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

const valid = { environmentId: ENVIRONMENT, terminalId: "main", data: Buffer.from("x"), offset: 10 };

function hostileMessages(withTaken: boolean): unknown[] {
  const messages: unknown[] = [];
  for (const environmentId of ENVIRONMENT_IDS) messages.push(message({ ...valid, environmentId }));
  for (const terminalId of TERMINAL_IDS) messages.push(message({ ...valid, terminalId }));
  for (const data of DATA) messages.push(message({ ...valid, data }));
  for (const offset of COUNTS) messages.push(message({ ...valid, offset }));
  // `taken` is the worker's field; the page's reader drops it as any unknown field.
  for (const taken of withTaken ? TAKEN : TAKEN.slice(0, 3)) messages.push({ ...valid, taken });
  if (withTaken) for (const count of COUNTS) messages.push({ ...valid, taken: [count] });
  const few = (values: unknown[]) => values.filter((value) => typeof value !== "string" || value.length < 200).slice(0, 8);
  for (const environmentId of few(ENVIRONMENT_IDS))
    for (const data of few(DATA)) for (const offset of few(COUNTS)) messages.push(message({ ...valid, environmentId, data, offset }));
  // Not an object at all, or not a plain one.
  messages.push(...ANY_KIND, "terminal:output", JSON.stringify({ ...valid, data: "x" }));
  messages.push(
    Object.assign([], valid),
    Object.assign(new Date(0), valid),
    Object.assign(Buffer.from("x"), { environmentId: ENVIRONMENT, terminalId: "main", data: Buffer.from("x") }),
    new Map(Object.entries(valid)),
    new (class Output {
      environmentId = ENVIRONMENT;
      terminalId = "main";
      data = Buffer.from("x");
      offset = 1;
    })(),
  );
  // Extra fields (dropped by both), some named like prototype keys; an own field set to undefined.
  messages.push(
    { ...valid, extra: "y".repeat(100_000), acks: [{ environmentId: ENVIRONMENT, terminalId: "main", offset: 1 }] },
    { ...valid, constructor: "x", toString: "x", hasOwnProperty: 1, valueOf: null },
    { ...valid, taken: undefined },
    { ...valid, offset: undefined },
    { ...valid, data: undefined },
  );
  // Prototype keys: inherited fields count for both; a null prototype is still an object.
  messages.push(
    Object.assign(Object.create({ environmentId: ENVIRONMENT, terminalId: "main" }), { data: Buffer.from("x"), offset: 1 }),
    Object.assign(Object.create({ taken: [1, -1] }), valid),
    Object.assign(Object.create({ taken: [1, 2] }), valid),
    Object.assign(Object.create(null), valid),
    JSON.parse(`{"environmentId": "${ENVIRONMENT}", "terminalId": "main", "offset": 1, "__proto__": {"data": "x"}}`),
  );
  return messages;
}

type Guarded = { data: Uint8Array };
// Each guard as its contract carries it: every reader of the contract (readMessage) uses it.
const guards: Array<[string, z.ZodType, (payload: unknown) => Guarded | null, boolean]> = [
  ["the server's guard of the worker's output", TerminalOutput, WorkerMessages.terminalOutput.guard!, true],
  ["the page's guard of the output push", ServerPushes.output.message, ServerPushes.output.guard!, false],
];

describe.each(guards)("%s is its schema", (_name, schema, guard, withTaken) => {
  const messages = hostileMessages(withTaken);

  it("covers valid and hostile messages", () => {
    expectBothVerdicts(messages, schema, { accepted: 20, refused: 150 });
  });

  it("accepts exactly what the schema accepts, and returns what it returns", () => {
    for (const { said, guarded, parsed } of expectGuardIsSchema(messages, schema, guard)) {
      // The bytes: a Uint8Array over the same memory as the schema's view, not a copy.
      expect(guarded.data.constructor, said).toBe(Uint8Array);
      expect([guarded.data.buffer, guarded.data.byteOffset, guarded.data.byteLength], said).toEqual([
        parsed.data.buffer,
        parsed.data.byteOffset,
        parsed.data.byteLength,
      ]);
    }
  });
});
