/**
 * The browser <-> server hop as contracts: each request a browser sends with its reply schema,
 * and each message the server pushes. The server parses requests (a bad one is refused
 * `invalid_request`); the browser reads replies and pushes with these: a reply that does not
 * parse becomes the coded failure `malformed_reply`, a push that does not parse is dropped,
 * both logged with their event. Readers are lenient where an older or newer server differs
 * (optional fields, unknown codes, long text cut), strict where a wrong value would do harm.
 */
import { z } from "zod";
import { MALFORMED_REPLY, failure, message, replyOf, request, type MessageInputOf, type MessageOf, type ReplyInputOf, type ReplyOf } from "./contract";
import { Bytes, TerminalId, codePoints, isCount, isTerminalId } from "./ids";
import {
  guardBrowserInput,
  AttachRequest,
  BrowserAck,
  BrowserInput,
  BrowserResize,
  BrowserToServer,
  CloseTerminalRequest,
  ControlRequest,
  JoinRoomRequest,
  MAX_TERMINALS_PER_ENVIRONMENT,
  ServerToBrowser,
} from "./browser-messages";

/** What a refusal means, for code to act on (the message is for people). */
export const TerminalErrorCode = z.enum([
  /** The message did not parse (bad field, size past the caps). */
  "invalid_request",
  /** Too many attaches, resizes, repaints or input bytes from this socket: retry later. */
  "rate_limited",
  /** The shell has not taken earlier input yet: hold this and send it again later. */
  "input_busy",
  /** This user may not do this to this environment (not theirs, not staff, watching without the keyboard). */
  "forbidden",
  /** The socket has not attached to the terminal it names. */
  "not_attached",
  /** The environment is not running: start it again. */
  "not_running",
  /** The terminal asked for is not open (a watcher is told which are). */
  "terminal_closed",
  /** The environment has as many terminals as it may: close one first. */
  "too_many_terminals",
  /** The machine running the environment did not answer. */
  "worker_unavailable",
  /** Anything else: the words say what. */
  "failed",
  /** Made by the browser's reader: the server's reply did not match its schema. */
  MALFORMED_REPLY,
]);
export type TerminalErrorCode = z.infer<typeof TerminalErrorCode>;

/** Why the server refused a socket connection (socket.io's connect_error carries it as `data.code`). */
export const ConnectRefusal = z.enum(["unauthenticated", "cross_origin"]);
export type ConnectRefusal = z.infer<typeof ConnectRefusal>;

/** The refusal code of a connect_error, or null for a network failure (reconnect). */
export function connectRefusalOf(error: unknown): ConnectRefusal | null {
  const code = (error as { data?: { code?: unknown } } | null)?.data?.code;
  const parsed = ConnectRefusal.safeParse(code);
  return parsed.success ? parsed.data : null;
}

const Failure = failure(TerminalErrorCode, "failed");
const Offset = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const MAX_ENVIRONMENT_REF = 64;
const EnvironmentRef = { environmentId: z.string().min(1).max(MAX_ENVIRONMENT_REF) };

/** The valid, distinct ids of a list, in order; a bad entry is skipped, not fatal. */
const TerminalList = z
  .array(z.unknown())
  .max(64)
  .transform((ids) => {
    const valid = ids.filter((id): id is string => TerminalId.safeParse(id).success);
    return [...new Set(valid)].slice(0, MAX_TERMINALS_PER_ENVIRONMENT);
  });

/** Longer text than a banner can show is cut, not dropped. */
const Text = (max: number) => z.string().transform((text) => text.slice(0, max));
/** A long screen's pieces: how many came before the message carrying the last one. */
const Pieces = { screenId: z.string().min(1).max(64).optional(), screenParts: z.number().int().min(1).max(10_000).optional() };
const Controller = z.string().min(1).max(200).nullable();

/**
 * Attach's reply: the screen as it is now (so a reload repaints), or a refusal. `mode`: "owner"
 * types; "watch" (course staff) only sees unless they took the keyboard. `terminals`: the open
 * tabs (optional: an older server did not list them); on a refusal, the tabs that are open when
 * the one asked for is not (a watcher then picks one). `controller`: who else holds the keyboard.
 */
const AttachReply = z.discriminatedUnion("ok", [
  z.object({
    ok: z.literal(true),
    screen: z.string(),
    offset: Offset,
    mode: z.enum(["owner", "watch"]),
    terminals: TerminalList.optional(),
    controller: Controller.optional(),
    ...Pieces,
  }),
  Failure.extend({ terminals: TerminalList.optional() }),
]);
/** The acknowledgement of a request that returns nothing. */
const Done = replyOf({}, Failure);

export const BrowserRequests = {
  attach: request(BrowserToServer.attach, AttachRequest, AttachReply),
  input: request(BrowserToServer.input, BrowserInput, Done, guardBrowserInput),
  /** Acknowledged only when the browser asks (a window being dragged does not wait). */
  resize: request(BrowserToServer.resize, BrowserResize, Done),
  close: request(BrowserToServer.close, CloseTerminalRequest, Done),
  control: request(BrowserToServer.control, ControlRequest, Done),
  joinRoom: request(BrowserToServer.joinRoom, JoinRoomRequest, Done),
} as const;

/** Acks carry no reply: they are frequent, and a bad one is dropped. */
export const BrowserMessages = {
  ack: message(BrowserToServer.ack, BrowserAck),
} as const;

const BulkKind = z.enum(["extend", "reset", "stop", "end"]);
const Timestamp = z.string().max(64);

/** The output push: raw bytes (filtered for viewers, same length), written to xterm as they are. */
const BrowserOutputMessage = z.object({ ...EnvironmentRef, terminalId: TerminalId, data: Bytes, offset: Offset });
/**
 * The output push's schema written out by hand, for the page's reader of every chunk of output:
 * it accepts exactly what the schema accepts and returns what the schema returns (the bytes as a
 * Uint8Array view), or null where the schema would refuse; the reader then parses with the schema,
 * which drops and reports it. `tests/unit/browser-output-guard.test.ts` runs both over valid and
 * hostile messages.
 */
export function guardBrowserOutput(payload: unknown): z.output<typeof BrowserOutputMessage> | null {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return null;
  const { environmentId, terminalId, data, offset } = payload as Record<string, unknown>;
  if (
    typeof environmentId !== "string" ||
    environmentId.length < 1 ||
    (environmentId.length > MAX_ENVIRONMENT_REF && codePoints(environmentId) > MAX_ENVIRONMENT_REF)
  )
    return null;
  if (!isTerminalId(terminalId)) return null;
  if (!(data instanceof ArrayBuffer) && !ArrayBuffer.isView(data)) return null;
  if (!isCount(offset)) return null;
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return { environmentId, terminalId, data: bytes, offset };
}

export const ServerPushes = {
  output: message(ServerToBrowser.output, BrowserOutputMessage, guardBrowserOutput),
  repaint: message(ServerToBrowser.repaint, z.object({ ...EnvironmentRef, terminalId: TerminalId, screen: z.string(), offset: Offset, ...Pieces })),
  /** One piece of a long screen: `index` from 0; the reply or repaint after the pieces carries the last. */
  screenPart: message(
    ServerToBrowser.screenPart,
    z.object({ ...EnvironmentRef, terminalId: TerminalId, screenId: z.string().min(1).max(64), index: z.number().int().min(0).max(10_000), data: z.string() }),
  ),
  /** Older servers sent exits without a terminal id: that was the only terminal, "main". */
  exit: message(ServerToBrowser.exit, z.object({ ...EnvironmentRef, terminalId: TerminalId.default("main") })),
  resume: message(ServerToBrowser.resume, z.object(EnvironmentRef)),
  /** A message refused where no acknowledgement was asked for. */
  error: message(ServerToBrowser.error, z.object({ event: z.string().max(64), error: Text(2000), code: TerminalErrorCode.catch("failed") })),
  /** Something the student should know about their environment (lifetime, idle stop, instructor). */
  notice: message(ServerToBrowser.notice, z.object({ ...EnvironmentRef, kind: z.enum(["warning", "stopped", "info"]), message: Text(2000) })),
  tabs: message(ServerToBrowser.tabs, z.object({ ...EnvironmentRef, terminals: TerminalList })),
  /** `controller`: the display name of the staff member typing, or null when nobody is. */
  control: message(ServerToBrowser.control, z.object({ ...EnvironmentRef, controller: Controller })),
  /** `id`: the stored message, so a browser shows each once (recent ones are re-sent on every connect; an older server sent none). */
  broadcast: message(
    ServerToBrowser.broadcast,
    z.object({
      id: z.string().min(1).max(100).optional(),
      courseId: z.string().max(64),
      from: Text(200),
      message: z
        .string()
        .min(1)
        .transform((text) => text.slice(0, 10_000)),
      at: Text(64),
    }),
  ),
  roomChanged: message(ServerToBrowser.roomChanged, z.object({ courseId: z.string().max(64) })),
  /**
   * An action on every environment of a course, as it goes: `done` succeeded, `failed` lists the
   * ones that did not (by student), `inFlight` run right now; `interrupted`: its server stopped first.
   */
  bulkProgress: message(
    ServerToBrowser.bulkProgress,
    z.object({
      id: z.string().min(1).max(100),
      courseId: z.string().max(64),
      kind: BulkKind,
      total: z.number().int().min(0),
      done: z.number().int().min(0),
      failed: z.array(z.object({ environmentId: z.string().max(64), name: Text(200), error: Text(2000) })).max(10_000),
      inFlight: z.number().int().min(0),
      finished: z.boolean(),
      interrupted: z.boolean(),
      startedAt: Timestamp,
      updatedAt: Timestamp,
    }),
  ),
} as const;

// Each side's view of the messages: the reader's (after defaults) and the writer's.
export type AttachReply = ReplyOf<typeof BrowserRequests.attach>;
export type AttachReplyInput = ReplyInputOf<typeof BrowserRequests.attach>;
export type BrowserReply = ReplyOf<typeof BrowserRequests.close>;
export type BrowserReplyInput = ReplyInputOf<typeof BrowserRequests.close>;
export type ScreenPieces = { screenId?: string; screenParts?: number };
export type BrowserOutput = MessageOf<typeof ServerPushes.output>;

export type BrowserRepaint = MessageOf<typeof ServerPushes.repaint>;
export type ScreenPart = MessageOf<typeof ServerPushes.screenPart>;
export type TerminalResume = MessageOf<typeof ServerPushes.resume>;
export type BrowserError = MessageInputOf<typeof ServerPushes.error>;
export type EnvironmentNotice = MessageOf<typeof ServerPushes.notice>;
export type TerminalTabs = MessageOf<typeof ServerPushes.tabs>;
export type ControlChange = MessageOf<typeof ServerPushes.control>;
export type CourseBroadcast = MessageInputOf<typeof ServerPushes.broadcast>;
export type ReceivedBroadcast = MessageOf<typeof ServerPushes.broadcast>;
export type BulkActionProgress = MessageOf<typeof ServerPushes.bulkProgress>;
