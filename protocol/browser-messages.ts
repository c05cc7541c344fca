/**
 * The browser <-> server hop's names, limits and request schemas (the /terminal namespace). The
 * browser is untrusted: every payload is parsed, and every environment id is checked against the
 * signed-in user before anything reaches a worker. Replies and pushes: browser-contract.ts.
 */
import { z } from "zod";
import { CELL_LIMIT_MESSAGE, codePoints, EntityId, TerminalId, TerminalSize, isEntityId, isTerminalId, withinCellLimit } from "./ids";

export const TERMINAL_NAMESPACE = "/terminal";

/** Tabs an environment may have open at once (each is a shell). */
export const MAX_TERMINALS_PER_ENVIRONMENT = 8;

/**
 * Flow control: output bytes a browser may have received but not yet rendered (acked).
 * Past this the server stops sending to that browser alone; once it has caught up it
 * gets a fresh repaint of the screen instead of the backlog.
 */
export const BROWSER_OUTPUT_WINDOW = 512 * 1024;

/**
 * Input flow control, per socket and terminal: bytes the server has passed to the worker
 * and the worker has not yet handed to the shell. Past this the server refuses input with
 * "input_busy" (the browser holds it and sends it once earlier input was taken), so a shell
 * that does not read never makes the server or the worker queue a flood.
 */
export const BROWSER_INPUT_WINDOW = 128 * 1024;

/** A message of input is at most this long (a paste goes in pieces). */
export const MAX_INPUT_MESSAGE = 64 * 1024;

/**
 * A screen (attach reply, repaint) longer than this travels in pieces: `terminal:screen-part`
 * messages, then the reply carrying the last piece. Escape sequences are mostly ASCII, but JSON
 * writes ESC as six characters: 32 Ki characters stay far under any message limit.
 */
export const SCREEN_PART_CHARS = 32 * 1024;

/**
 * Input made only of Ctrl-C, Ctrl-D, Ctrl-Z or Ctrl-\ passes every input window and rate
 * limit (it is tiny): a student can always interrupt a shell they flooded.
 */
export const isInterrupt = (data: string) => /^[\x03\x04\x1a\x1c]{1,16}$/.test(data);

export const BrowserToServer = {
  attach: "terminal:attach",
  input: "terminal:input",
  resize: "terminal:resize",
  /** Rendered up to `offset` (sent after xterm has parsed the bytes). */
  ack: "terminal:ack",
  /** The owner ends one tab's shell. */
  close: "terminal:close",
  /** Staff watching an environment take (or give back) the keyboard. */
  control: "terminal:control",
  /** Staff open a course's live room: they get `room:changed` nudges. */
  joinRoom: "room:join",
} as const;

export const ServerToBrowser = {
  output: "terminal:output",
  /** The screen as it is now, replacing what is shown (after the browser fell behind). */
  repaint: "terminal:repaint",
  /** One piece of a long screen; the attach reply or repaint that follows carries the last. */
  screenPart: "terminal:screen-part",
  exit: "terminal:exit",
  /** The environment's worker came back (after a crash or an upgrade): attach again to the same shells. */
  resume: "terminal:resume",
  error: "terminal:error",
  notice: "environment:notice",
  /** The environment's open tabs changed. */
  tabs: "terminal:tabs",
  /** Someone other than the owner holds (or released) the keyboard of an environment. */
  control: "environment:control",
  /** A message from the course's staff to everyone in it. */
  broadcast: "course:broadcast",
  /** Something in a course's live room changed: refetch. */
  roomChanged: "room:changed",
  /** Progress of an action on everyone in a course (extend, reset, stop all; end the workshop). */
  bulkProgress: "room:bulk-progress",
} as const;

export const AttachRequest = z
  .object({
    environmentId: EntityId,
    terminalId: TerminalId.default("main"),
    ...TerminalSize.shape,
  })
  .refine(withinCellLimit, CELL_LIMIT_MESSAGE);
export type AttachRequest = z.input<typeof AttachRequest>;

export const BrowserInput = z.object({
  environmentId: EntityId,
  terminalId: TerminalId.default("main"),
  data: z.string().min(1).max(MAX_INPUT_MESSAGE),
});
export type BrowserInput = z.input<typeof BrowserInput>;

/**
 * BrowserInput's schema written out by hand, for the hottest message there is (every keystroke):
 * it accepts exactly what the schema accepts and returns what the schema returns (unknown fields
 * dropped, `terminalId` defaulted; lengths in code points, as zod counts them), or null where the
 * schema would refuse. The caller parses a
 * refused one with the schema to say why, so the refusal and its words are the schema's.
 * `tests/unit/browser-input-guard.test.ts` runs both over valid and hostile messages.
 */
export function guardBrowserInput(payload: unknown): z.output<typeof BrowserInput> | null {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return null;
  // Plain reads, as the schema's: an inherited field counts, an undefined terminalId is "main".
  const { environmentId, terminalId = "main", data } = payload as { environmentId?: unknown; terminalId?: unknown; data?: unknown };
  if (!isEntityId(environmentId) || !isTerminalId(terminalId)) return null;
  if (typeof data !== "string" || data.length < 1 || (data.length > MAX_INPUT_MESSAGE && codePoints(data) > MAX_INPUT_MESSAGE)) return null;
  return { environmentId, terminalId, data };
}

export const BrowserResize = z
  .object({
    environmentId: EntityId,
    terminalId: TerminalId.default("main"),
    ...TerminalSize.shape,
  })
  .refine(withinCellLimit, CELL_LIMIT_MESSAGE);

export const BrowserAck = z.object({
  environmentId: EntityId,
  terminalId: TerminalId.default("main"),
  offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});
export type BrowserAck = z.input<typeof BrowserAck>;

export const CloseTerminalRequest = z.object({ environmentId: EntityId, terminalId: TerminalId });

export const ControlRequest = z.object({ environmentId: EntityId, take: z.boolean() });

export const JoinRoomRequest = z.object({ courseId: EntityId });
