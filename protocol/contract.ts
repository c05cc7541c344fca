/**
 * The shape of a contract on either socket hop (browser <-> server, server <-> worker): every
 * request names its event, the schema of what is sent and the schema of what comes back; every
 * push names its event and its schema. Each side parses what it receives with these, so a
 * mismatched peer (older, newer, buggy or hostile) yields a coded error or a logged drop,
 * never a crash or a silent hang.
 */
import { z } from "zod";

/**
 * The schema written out by hand, for the hottest messages (every keystroke, every chunk of
 * output): it accepts exactly what the schema accepts and returns what it returns, or null where
 * the schema would refuse. Readers try it first; what it refuses goes to the schema, so a refusal
 * is reported in the schema's words. A unit test holds each guard to its schema over hostile messages.
 */
export type Guard<Schema extends z.ZodType> = (raw: unknown) => z.output<Schema> | null;

/** A request answered through the socket's acknowledgement. */
export interface RequestContract<Request extends z.ZodType = z.ZodType, Reply extends z.ZodType = z.ZodType> {
  readonly event: string;
  readonly request: Request;
  readonly reply: Reply;
  readonly guard?: Guard<Request>;
}

/** A message with no answer (a push, or a request sent without acknowledgement). */
export interface MessageContract<Message extends z.ZodType = z.ZodType> {
  readonly event: string;
  readonly message: Message;
  readonly guard?: Guard<Message>;
}

export const request = <Request extends z.ZodType, Reply extends z.ZodType>(event: string, requestSchema: Request, reply: Reply, guard?: Guard<Request>) =>
  ({ event, request: requestSchema, reply, ...(guard && { guard }) }) as const satisfies RequestContract<Request, Reply>;

export const message = <Message extends z.ZodType>(event: string, schema: Message, guard?: Guard<Message>) =>
  ({ event, message: schema, ...(guard && { guard }) }) as const satisfies MessageContract<Message>;

/** What is sent (before defaults): the sender's side of a request. */
export type RequestOf<C extends RequestContract> = z.input<C["request"]>;
/** What the receiver's handler gets (after defaults). */
export type ParsedRequestOf<C extends RequestContract> = z.output<C["request"]>;
/** A reply as read by the one who asked. */
export type ReplyOf<C extends RequestContract> = z.output<C["reply"]>;
/** A reply as the answering side writes it. */
export type ReplyInputOf<C extends RequestContract> = z.input<C["reply"]>;
/** The fields of a successful reply, without `ok` (what a handler returns). */
export type SuccessOf<C extends RequestContract> = Omit<Extract<z.input<C["reply"]>, { ok: true }>, "ok">;
export type MessageOf<C extends MessageContract> = z.output<C["message"]>;
export type MessageInputOf<C extends MessageContract> = z.input<C["message"]>;

/** The error text of a reply: for people (the code is for programs), bounded. */
const ErrorText = z.string().transform((text) => text.slice(0, 2000));

/**
 * Every hop's code enum includes this: the reply came back but did not match its schema
 * (a peer of another version, or a bug). It is made by the reader, never sent.
 */
export const MALFORMED_REPLY = "malformed_reply";

/**
 * A failed reply with its code. An unknown code (a newer peer) reads as `fallback`: the
 * words still show, and no caller acts on a code it does not know.
 */
export const failure = <Codes extends z.ZodEnum>(codes: Codes, fallback: z.output<Codes>) =>
  z.object({ ok: z.literal(false), code: codes.catch(fallback), error: ErrorText });

/** A reply: `{ ok: true, ...fields }` or the hop's coded failure. */
export const replyOf = <Shape extends z.ZodRawShape, Failure extends z.ZodObject>(shape: Shape, fail: Failure) =>
  z.discriminatedUnion("ok", [z.object({ ok: z.literal(true), ...shape }), fail]);

/** Tells a malformed message's event and what was wrong with it (the caller logs it). */
export type MalformedReport = (event: string, issues: string) => void;

const describe = (error: z.ZodError) =>
  error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join(".") || "message"}: ${issue.message}`)
    .join("; ");

/**
 * Reads a reply against its contract. One that does not parse becomes the hop's coded
 * failure `malformed_reply`, reported with its event, so the caller's ordinary error path
 * handles it. `undefined` (no acknowledgement came) is malformed too.
 */
export function readReply<C extends RequestContract>(contract: C, raw: unknown, report: MalformedReport): ReplyOf<C> {
  const parsed = contract.reply.safeParse(raw);
  if (parsed.success) return parsed.data as ReplyOf<C>;
  report(contract.event, describe(parsed.error));
  // Every hop's failure accepts this code (a unit test holds each contract to it).
  return { ok: false, code: MALFORMED_REPLY, error: `The answer to ${contract.event} could not be read.` } as ReplyOf<C>;
}

/** Reads a pushed message; null (reported with its event) when it does not parse. */
export function readMessage<C extends MessageContract>(contract: C, raw: unknown, report: MalformedReport): MessageOf<C> | null {
  const guarded = contract.guard?.(raw);
  if (guarded) return guarded as MessageOf<C>;
  const parsed = contract.message.safeParse(raw);
  if (parsed.success) return parsed.data as MessageOf<C>;
  report(contract.event, describe(parsed.error));
  return null;
}

/** Reads a request's payload; the issues in words when it does not parse (the receiver answers with them). */
export function readRequest<C extends RequestContract>(contract: C, raw: unknown): { ok: true; data: ParsedRequestOf<C> } | { ok: false; issues: string } {
  const guarded = contract.guard?.(raw);
  if (guarded) return { ok: true, data: guarded as ParsedRequestOf<C> };
  const parsed = contract.request.safeParse(raw);
  return parsed.success ? { ok: true, data: parsed.data as ParsedRequestOf<C> } : { ok: false, issues: describe(parsed.error) };
}

/**
 * Malformed messages are logged, but a flood of them (a peer stuck in a loop) must not flood
 * the log: at most one line per event per `everyMs`, with how many were dropped since.
 */
export function throttledReport(log: (fields: { event: string; issues: string; dropped: number }) => void, everyMs = 60_000): MalformedReport {
  const last = new Map<string, { at: number; dropped: number }>();
  return (event, issues) => {
    const now = Date.now();
    const seen = last.get(event);
    if (seen && now - seen.at < everyMs) {
      seen.dropped += 1;
      return;
    }
    if (last.size > 200) last.clear();
    last.set(event, { at: now, dropped: 0 });
    log({ event, issues, dropped: seen?.dropped ?? 0 });
  };
}
