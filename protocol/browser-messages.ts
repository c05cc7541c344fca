/**
 * The contract between a browser and the server's /terminal namespace. The browser is
 * untrusted: every payload is parsed, and every environment id is checked against the
 * signed-in user before anything reaches a worker.
 */
import { z } from "zod";
import { CELL_LIMIT_MESSAGE, EntityId, TerminalId, TerminalSize, withinCellLimit } from "./ids";

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

/** What a refusal means, for code to act on (the message is for people). */
export const TerminalErrorCode = z.enum([
  /** The message did not parse (bad field, size past the caps). */
  "invalid_request",
  /** Too many attaches, resizes, repaints or input bytes from this socket: retry later. */
  "rate_limited",
  /** The shell has not taken earlier input yet: hold this and send it again later. */
  "input_busy",
]);
export type TerminalErrorCode = z.infer<typeof TerminalErrorCode>;

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

/** Something the student should know about their environment (lifetime, idle stop, instructor). */
export type EnvironmentNotice = { environmentId: string; kind: "warning" | "stopped" | "info"; message: string };

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

/**
 * Attach's acknowledgement: the screen as it is now (so a reload repaints), or an error.
 * `mode`: "owner" types; "watch" (course staff) only sees, unless they took the keyboard.
 * `terminals`: the environment's open tabs; `controller`: who else holds the keyboard.
 */
export type AttachReply =
  | ({ ok: true; screen: string; offset: number; mode: "owner" | "watch"; terminals: string[]; controller: string | null } & ScreenPieces)
  // `terminals`: the tabs that are open, when the one asked for is not (a viewer then picks one).
  | { ok: false; error: string; code?: TerminalErrorCode; terminals?: string[] };

/**
 * Set when `screen` is only the last piece: `screenParts - 1` ScreenPart messages with this
 * `screenId` came before it, in order, on the same socket.
 */
export type ScreenPieces = { screenId?: string; screenParts?: number };

export type ScreenPart = { environmentId: string; terminalId: string; screenId: string; index: number; data: string };

/** The generic acknowledgement of a request that returns nothing. */
export type BrowserReply = { ok: true } | { ok: false; error: string; code?: TerminalErrorCode };

/** Output pushed to browsers: raw bytes (filtered for viewers, same length), written to xterm as they are. */
export type BrowserOutput = { environmentId: string; terminalId: string; data: Uint8Array; offset: number };

export type BrowserRepaint = { environmentId: string; terminalId: string; screen: string; offset: number } & ScreenPieces;

export type TerminalTabs = { environmentId: string; terminals: string[] };

export type TerminalResume = { environmentId: string };

/** `controller`: the display name of the staff member typing, or null when nobody is. */
export type ControlChange = { environmentId: string; controller: string | null };

/** `id`: the stored message, so a browser shows each once (recent ones are re-sent on every connect). */
export type CourseBroadcast = { id: string; courseId: string; from: string; message: string; at: string };

/** Sent when a message could not be accepted (no ack was asked for). */
export type BrowserError = { event: string; error: string; code?: TerminalErrorCode };

/**
 * An action on every environment of a course, as it goes: `done` succeeded, `failed` lists
 * the ones that did not (by student), `inFlight` run right now (at most the server's bound).
 */
export type BulkActionProgress = {
  id: string;
  courseId: string;
  kind: "extend" | "reset" | "stop" | "end";
  total: number;
  done: number;
  failed: Array<{ environmentId: string; name: string; error: string }>;
  inFlight: number;
  finished: boolean;
  /** Its server stopped before it finished (the rest were not done). */
  interrupted: boolean;
  startedAt: string;
  updatedAt: string;
};
