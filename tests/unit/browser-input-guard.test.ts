/**
 * The keystroke message is read by a hand-written guard instead of its zod schema (it is the
 * hottest message there is). The guard must be the schema, not an approximation of it: over
 * valid and hostile messages alike it accepts exactly what the schema accepts, returns exactly
 * what the schema returns, and a message it refuses is still answered `invalid_request` in the
 * schema's words.
 */
import type { Socket } from "socket.io";
import { describe, expect, it } from "vitest";
import { BrowserRequests } from "../../protocol/browser-contract";
import { BrowserInput, MAX_INPUT_MESSAGE, guardBrowserInput } from "../../protocol/browser-messages";
import { socketScope } from "../../server/gateway/terminal-socket";
import type { Logger } from "../../common/logger";
import { ANY_KIND, ENVIRONMENT, ENVIRONMENT_IDS, TERMINAL_IDS, expectBothVerdicts, expectGuardIsSchema } from "../support/hostile-fields";

const DATA: unknown[] = [
  "x",
  "\r",
  "\x03",
  "\u0000",
  "héllo",
  "😀",
  "\ud83d", // half a surrogate pair: a string all the same
  "y".repeat(MAX_INPUT_MESSAGE),
  "y".repeat(MAX_INPUT_MESSAGE + 1),
  "😀".repeat(MAX_INPUT_MESSAGE / 2),
  "😀".repeat(MAX_INPUT_MESSAGE / 2 + 1),
  "z".repeat(10 * 1024 * 1024),
  // zod counts lengths in code points: a surrogate pair is one, a lone surrogate is one too.
  "😀".repeat(MAX_INPUT_MESSAGE),
  "😀".repeat(MAX_INPUT_MESSAGE) + "x",
  "x" + "😀".repeat(MAX_INPUT_MESSAGE / 2),
  "\ud83d".repeat(MAX_INPUT_MESSAGE),
  "\ud83d".repeat(MAX_INPUT_MESSAGE + 1),
  "\ude00".repeat(MAX_INPUT_MESSAGE + 1),
  "\ude00\ud83d".repeat(MAX_INPUT_MESSAGE / 2 + 1),
  "\ud83d" + "😀".repeat(MAX_INPUT_MESSAGE / 2),
  "😀".repeat(MAX_INPUT_MESSAGE / 2) + "\ud83d",
  ...ANY_KIND,
];

/** A message with these fields; `undefined` leaves a field out, "own-undefined" sets it to undefined. */
function message(environmentId: unknown, terminalId: unknown, data: unknown, extra: Record<string, unknown> = {}) {
  const fields: Record<string, unknown> = { ...extra };
  if (environmentId !== undefined) fields.environmentId = environmentId;
  if (terminalId !== undefined) fields.terminalId = terminalId;
  if (data !== undefined) fields.data = data;
  return fields;
}

/** Every message below: each field's values with the others valid, then every combination of a few. */
function hostileMessages(): unknown[] {
  const messages: unknown[] = [];
  for (const environmentId of ENVIRONMENT_IDS) messages.push(message(environmentId, "main", "x"));
  for (const terminalId of TERMINAL_IDS) messages.push(message(ENVIRONMENT, terminalId, "x"));
  for (const data of DATA) messages.push(message(ENVIRONMENT, "main", data));
  const few = (values: unknown[]) => values.filter((value) => typeof value !== "string" || value.length < 200).slice(0, 12);
  for (const environmentId of few(ENVIRONMENT_IDS))
    for (const terminalId of few(TERMINAL_IDS)) for (const data of few(DATA)) messages.push(message(environmentId, terminalId, data));
  // Not an object at all.
  messages.push(...ANY_KIND, "terminal:input", JSON.stringify(message(ENVIRONMENT, "main", "x")));
  // Extra fields (dropped by both), some named like prototype keys or the server's own.
  messages.push(
    message(ENVIRONMENT, "main", "x", { inputId: 7, extra: "y".repeat(100_000), nested: { deep: [1, 2, 3] } }),
    message(ENVIRONMENT, "main", "x", { constructor: "x", toString: "x", hasOwnProperty: 1, valueOf: null }),
    message(ENVIRONMENT, undefined, "x", { workerId: "w1", userId: "someone-else" }),
  );
  // An own field set to undefined: a default for terminalId, a refusal for the others.
  messages.push(
    { environmentId: ENVIRONMENT, terminalId: undefined, data: "x" },
    { environmentId: undefined, terminalId: "main", data: "x" },
    { environmentId: ENVIRONMENT, terminalId: "main", data: undefined },
  );
  // Prototype keys: `__proto__` as an own key (as JSON.parse makes it), and fields that are only inherited.
  messages.push(
    JSON.parse(`{"__proto__": {"environmentId": "${ENVIRONMENT}", "data": "x"}, "terminalId": "main"}`),
    JSON.parse(`{"environmentId": "${ENVIRONMENT}", "data": "x", "__proto__": {"terminalId": "Main"}}`),
    JSON.parse(`{"environmentId": "${ENVIRONMENT}", "data": "x", "__proto__": null}`),
    Object.assign(Object.create({ environmentId: ENVIRONMENT, terminalId: "tab-2", data: "inherited" }), {}),
    Object.assign(Object.create({ data: "inherited" }), { environmentId: ENVIRONMENT }),
    Object.assign(Object.create(null), { environmentId: ENVIRONMENT, terminalId: "main", data: "x" }),
    Object.assign(Object.create(null), { environmentId: ENVIRONMENT, data: "x" }),
    Object.assign(Object.create({ terminalId: 5 }), { environmentId: ENVIRONMENT, data: "x" }),
  );
  // Objects that are not plain: an array with the fields set on it, a class instance, a Buffer with them.
  messages.push(
    Object.assign([], { environmentId: ENVIRONMENT, terminalId: "main", data: "x" }),
    new (class Keystroke {
      environmentId = ENVIRONMENT;
      terminalId = "main";
      data = "x";
    })(),
    Object.assign(Buffer.from("x"), { environmentId: ENVIRONMENT, data: "x" }),
    Object.assign(new Date(0), { environmentId: ENVIRONMENT, data: "x" }),
  );
  return messages;
}

describe("the keystroke guard is the input schema", () => {
  const messages = hostileMessages();

  it("covers valid and hostile messages", () => {
    expectBothVerdicts(messages, BrowserInput, { accepted: 20, refused: 500 });
  });

  it("accepts exactly what the schema accepts, and returns what it returns", () => {
    expect(BrowserRequests.input.guard).toBe(guardBrowserInput); // the contract carries it: every reader of the contract uses it
    expectGuardIsSchema(messages, BrowserInput, guardBrowserInput, { strict: true });
  });

  it("a keystroke it refuses is answered invalid_request in the schema's words", () => {
    const { event } = BrowserRequests.input;
    const replies: unknown[] = [];
    const socket = { data: {}, emit: () => true } as unknown as Socket;
    const log = { warn: () => undefined } as unknown as Logger;
    const scope = socketScope(socket, log);
    for (const value of messages) {
      if (guardBrowserInput(value)) continue;
      // As the gateway reads a keystroke (server/gateway/terminal-control.ts): the contract's guard, then its schema.
      const read = scope.parse(BrowserRequests.input, value, (reply: unknown) => replies.push(reply));
      expect(read).toBeNull();
      const issues = BrowserInput.safeParse(value)
        .error!.issues.map((issue) => `${issue.path.join(".") || "message"} ${issue.message}`)
        .join("; ");
      expect(replies.pop()).toEqual({ ok: false, code: "invalid_request", error: `Malformed ${event}: ${issues}` });
    }
  });
});
