/**
 * What the panel accepts from the socket. The server is trusted, but a panel must not
 * crash on a message from a newer or older server (or a bug): each reader returns the
 * message in the shape the panel uses, or null to ignore it.
 */
import { z } from "zod";
import { MAX_TERMINALS_PER_ENVIRONMENT, TerminalErrorCode } from "../../protocol/browser-messages";
import { TerminalId } from "../../protocol/ids";

const Offset = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** socket.io hands binary over as an ArrayBuffer in browsers (a Buffer in Node). */
const Bytes = z
  .custom<ArrayBuffer | ArrayBufferView>((value) => value instanceof ArrayBuffer || ArrayBuffer.isView(value))
  .transform((value) => (value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength)));

/** The valid, distinct ids of a list, in order; a bad entry is skipped, not fatal. */
const TerminalList = z
  .array(z.unknown())
  .max(64)
  .transform((ids) => {
    const valid = ids.filter((id): id is string => TerminalId.safeParse(id).success);
    return [...new Set(valid)].slice(0, MAX_TERMINALS_PER_ENVIRONMENT);
  });

/** A code this panel does not know (a newer server) reads as none: the words still show. */
const Code = TerminalErrorCode.optional().catch(undefined);
/** A long screen's pieces: how many came before the message carrying the last one. */
const Pieces = { screenId: z.string().min(1).max(64).optional(), screenParts: z.number().int().min(1).max(10_000).optional() };

const Output = z.object({ environmentId: z.string(), terminalId: TerminalId, data: Bytes, offset: Offset });
const Repaint = z.object({ environmentId: z.string(), terminalId: TerminalId, screen: z.string(), offset: Offset, ...Pieces });
const ScreenPart = z.object({
  environmentId: z.string(),
  terminalId: TerminalId,
  screenId: z.string().min(1).max(64),
  index: z.number().int().min(0).max(10_000),
  data: z.string(),
});
/** Older servers sent exits without a terminal id: that was the only terminal, "main". */
const Exit = z.object({ environmentId: z.string(), terminalId: TerminalId.default("main") });
const Tabs = z.object({ environmentId: z.string(), terminals: TerminalList });
const Control = z.object({ environmentId: z.string(), controller: z.string().min(1).max(200).nullable() });
/** Longer text than a banner can show is cut, not dropped. */
const Text = (max: number) => z.string().transform((text) => text.slice(0, max));
/** `id` is optional: an older server sent none (then the message cannot be told apart from a repeat). */
const Broadcast = z.object({
  id: z.string().min(1).max(100).optional(),
  courseId: z.string(),
  from: Text(200),
  message: z
    .string()
    .min(1)
    .transform((text) => text.slice(0, 10_000)),
  at: Text(64),
});
const Notice = z.object({ environmentId: z.string(), kind: z.enum(["warning", "stopped", "info"]), message: z.string() });
const ServerError = z.object({ event: z.string(), error: z.string(), code: Code });

const AttachReply = z.union([
  z.object({
    ok: z.literal(true),
    screen: z.string(),
    offset: Offset,
    mode: z.enum(["owner", "watch"]),
    // Optional so a server without tabs still works: then nothing is known about other tabs.
    terminals: TerminalList.optional(),
    controller: z.string().min(1).max(200).nullable().optional(),
    ...Pieces,
  }),
  // A viewer asking for a tab the student closed is told which ones are open.
  z.object({ ok: z.literal(false), error: z.string(), code: Code, terminals: TerminalList.optional() }),
]);
const Reply = z.union([z.object({ ok: z.literal(true) }), z.object({ ok: z.literal(false), error: z.string(), code: Code })]);

function reader<S extends z.ZodType>(schema: S) {
  return (payload: unknown): z.output<S> | null => {
    const parsed = schema.safeParse(payload);
    return parsed.success ? parsed.data : null;
  };
}

export const readOutput = reader(Output);
export const readRepaint = reader(Repaint);
export const readScreenPart = reader(ScreenPart);
export const readExit = reader(Exit);
export const readTabs = reader(Tabs);
export const readResume = reader(z.object({ environmentId: z.string() }));
export const readControl = reader(Control);
export const readBroadcast = reader(Broadcast);
export const readNotice = reader(Notice);
export const readServerError = reader(ServerError);
export const readAttachReply = reader(AttachReply);
export const readReply = reader(Reply);

export type AttachResult = z.output<typeof AttachReply>;
export type ReceivedBroadcast = z.output<typeof Broadcast>;
export type ReceivedNotice = z.output<typeof Notice>;
