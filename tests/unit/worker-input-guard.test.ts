/**
 * The worker reads each keystroke from the server with a hand-written guard instead of its zod
 * schema. The guard must be the schema: over valid and hostile messages alike it accepts exactly
 * what the schema accepts and returns what the schema returns; a message it refuses goes to the
 * schema, and the worker answers in the schema's words.
 */
import { describe, expect, it } from "vitest";
import { MAX_OUTPUT_ACKS, MAX_WORKER_INPUT, TerminalInput, guardTerminalInput } from "../../protocol/worker-messages";
import { WorkerRequests } from "../../protocol/worker-contract";
import { ANY_KIND, ENVIRONMENT, ENVIRONMENT_IDS, TERMINAL_IDS, expectBothVerdicts, expectGuardIsSchema } from "../support/hostile-fields";

const DATA: unknown[] = [
  "",
  "x",
  "\x03",
  "héllo",
  "😀",
  "\ud83d",
  "y".repeat(MAX_WORKER_INPUT),
  "y".repeat(MAX_WORKER_INPUT + 1),
  "😀".repeat(MAX_WORKER_INPUT / 2 + 1), // longer than the limit in UTF-16 units, within it in code points
  "😀".repeat(MAX_WORKER_INPUT),
  "😀".repeat(MAX_WORKER_INPUT) + "x",
  "\ud83d".repeat(MAX_WORKER_INPUT + 1),
  ...ANY_KIND,
];

const COUNTS: unknown[] = [0, -0, 7, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, -1, 0.5, "1", 1n, Number.NaN, Infinity, null];

const ack = (fields: Record<string, unknown> = {}) => ({ environmentId: ENVIRONMENT, terminalId: "main", offset: 10, ...fields });
const ACKS: unknown[] = [
  [],
  [ack()],
  [ack(), ack({ terminalId: "tab-2", offset: 0 })],
  [ack({ extra: "dropped" })],
  Array.from({ length: MAX_OUTPUT_ACKS }, () => ack()),
  Array.from({ length: MAX_OUTPUT_ACKS + 1 }, () => ack()),
  ...ENVIRONMENT_IDS.slice(0, 12).map((environmentId) => [ack({ environmentId })]),
  ...TERMINAL_IDS.slice(0, 12).map((terminalId) => [ack({ terminalId })]),
  ...COUNTS.map((offset) => [ack({ offset })]),
  [ack({ offset: undefined })],
  [ack(), null],
  [ack(), []],
  [ack(), "x"],
  new Array(2),
  [Object.assign(Object.create({ offset: 3 }), { environmentId: ENVIRONMENT, terminalId: "main" })],
  [Object.assign([], ack())],
  ...ANY_KIND,
];

const valid = { environmentId: ENVIRONMENT, terminalId: "main", data: "x" };
const without = (fields: Record<string, unknown>) => Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));

function hostileMessages(): unknown[] {
  const messages: unknown[] = [];
  for (const environmentId of ENVIRONMENT_IDS) messages.push(without({ ...valid, environmentId }));
  for (const terminalId of TERMINAL_IDS) messages.push(without({ ...valid, terminalId }));
  for (const data of DATA) messages.push(without({ ...valid, data }));
  for (const inputId of COUNTS) messages.push({ ...valid, inputId });
  for (const acks of ACKS) messages.push({ ...valid, inputId: 5, acks });
  messages.push({ ...valid, inputId: undefined, acks: undefined }, { ...valid, extra: "y".repeat(100_000) }, { ...valid, constructor: "x", hasOwnProperty: 1 });
  messages.push(...ANY_KIND, JSON.stringify(valid), Object.assign([], valid), Object.assign(new Date(0), valid), Object.assign(Object.create(null), valid));
  messages.push(Object.assign(Object.create({ acks: [ack()] }), valid), Object.assign(Object.create({ inputId: -1 }), valid));
  return messages;
}

describe("the worker's keystroke guard is the input schema", () => {
  const messages = hostileMessages();

  it("covers valid and hostile messages", () => {
    expectBothVerdicts(messages, TerminalInput, { accepted: 25, refused: 100 });
  });

  it("accepts exactly what the schema accepts, and returns what it returns", () => {
    expect(WorkerRequests.terminalInput.guard).toBe(guardTerminalInput); // the contract carries it: the worker's readRequest uses it
    expectGuardIsSchema(messages, TerminalInput, guardTerminalInput);
  });
});
