/**
 * Byte streams over a socket.io link (workspace tarballs, image archives): the same on both
 * hops' ends, so a worker sends bytes to the server exactly as the server sends them to a
 * worker. A stream is opened by an ordinary request that carries a `streamId`; its bytes then
 * follow as `stream:chunk` requests, each acknowledged once the receiver has taken it, with at
 * most STREAM_WINDOW in flight (flow control: a slow reader slows the sender, nothing piles up
 * in memory), and one `stream:end` says how it ended. Chunks of one stream travel on one
 * connection, which keeps their order; the receiver checks it anyway.
 */
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { z } from "zod";
import { failure, message, replyOf, request } from "./contract";
import { Bytes } from "./ids";

export const StreamId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, "must be a stream id");

/** What one chunk carries at most: well under the link's message limit. */
export const STREAM_CHUNK_BYTES = 512 * 1024;
/** Chunks sent and not yet acknowledged: bounds what one stream holds in memory on each side. */
export const STREAM_WINDOW = 8;
/** A stream that hears nothing for this long has lost its peer. */
export const STREAM_IDLE_MS = 60_000;
/** A tunnel (a preview's websocket) may rest this long between bytes. */
export const TUNNEL_IDLE_MS = 10 * 60_000;

export const StreamErrorCode = z.enum(["cancelled", "unknown_stream", "out_of_order", "timeout", "worker_unavailable", "failed", "malformed_reply"]);
export type StreamErrorCode = z.infer<typeof StreamErrorCode>;

/** A stream that could not complete; `code` is a StreamErrorCode, or the peer's own code when it refused the stream. */
export class StreamError extends Error {
  override name = "StreamError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const ChunkFailure = failure(StreamErrorCode, "failed");

export const StreamMessages = {
  /** One piece of a stream's bytes; the reply is the receiver taking it (or saying stop). */
  chunk: request(
    "stream:chunk",
    z.object({
      streamId: StreamId,
      seq: z.number().int().nonnegative(),
      data: Bytes.refine((bytes) => bytes.byteLength <= STREAM_CHUNK_BYTES, "chunk too large"),
    }),
    replyOf({}, ChunkFailure),
  ),
  /** How the stream ended: all sent (`ok`), or why not. */
  end: message(
    "stream:end",
    z.discriminatedUnion("ok", [
      z.object({ streamId: StreamId, ok: z.literal(true), chunks: z.number().int().nonnegative() }),
      z.object({ streamId: StreamId, ok: z.literal(false), code: StreamErrorCode.catch("failed"), error: z.string().max(2000) }),
    ]),
  ),
} as const;

export type ChunkReply = z.input<typeof StreamMessages.chunk.reply>;
export type StreamEnd = z.input<typeof StreamMessages.end.message>;

/** A fresh stream id (unguessable, so a peer cannot feed a stream it was not asked for). */
export const newStreamId = () => randomUUID().replaceAll("-", "");

/** The sending side's link: how a chunk and the end reach the peer. */
export interface StreamSender {
  /** Resolves with the peer's reply; rejects when none comes (timeout, disconnect). */
  chunk(seq: number, data: Uint8Array): Promise<ChunkReply>;
  end(end: StreamEnd): void;
}

/**
 * Sends `source` as chunks, at most STREAM_WINDOW unacknowledged. Resolves when the peer has
 * taken every chunk and the end was sent; rejects with a StreamError (after telling the peer)
 * when the source fails, the peer says stop, or `signal` aborts. The source is destroyed on
 * every failure.
 */
export async function pumpStream(streamId: string, source: Readable, send: StreamSender, signal?: AbortSignal): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  let stopped: StreamError | undefined;
  const stop = (error: StreamError) => {
    stopped ??= error;
  };
  const onAbort = () => {
    stop(new StreamError("cancelled", "the stream was cancelled"));
    source.destroy();
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  let seq = 0;
  try {
    for await (const piece of source) {
      const bytes = typeof piece === "string" ? Buffer.from(piece) : (piece as Uint8Array);
      for (let at = 0; at < bytes.byteLength && !stopped; at += STREAM_CHUNK_BYTES) {
        const sent = send.chunk(seq++, bytes.subarray(at, at + STREAM_CHUNK_BYTES)).then(
          (reply) => {
            if (!reply.ok) stop(new StreamError(reply.code, reply.error));
          },
          (error: Error) => stop(new StreamError("timeout", `the peer did not take a chunk: ${error.message}`)),
        );
        const tracked = sent.finally(() => inFlight.delete(tracked));
        inFlight.add(tracked);
        if (inFlight.size >= STREAM_WINDOW) await Promise.race(inFlight);
      }
      if (stopped) break;
    }
    await Promise.all(inFlight);
  } catch (error) {
    stop(stopped ?? new StreamError("failed", `reading the source failed: ${(error as Error).message}`));
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  if (stopped) {
    source.destroy();
    // The peer that said stop needs no end; telling it anyway is harmless (it forgot the stream).
    send.end({ streamId, ok: false, code: StreamErrorCode.safeParse(stopped.code).data ?? "failed", error: stopped.message });
    throw stopped;
  }
  send.end({ streamId, ok: true, chunks: seq });
}

/**
 * The receiving side of one stream: a Readable whose reader sets the pace. A chunk is
 * acknowledged only once the Readable wants more, so a slow reader (an HTTP download to a
 * slow client) holds the sender back instead of filling memory.
 */
export class StreamReceiver {
  readonly readable: Readable;
  private expected = 0;
  private waiting: Array<() => void> = [];
  private idle: NodeJS.Timeout | undefined;
  private finished = false;

  constructor(
    private readonly onDone: () => void,
    private readonly idleMs = STREAM_IDLE_MS,
    highWaterMark = 2 * STREAM_CHUNK_BYTES,
  ) {
    this.readable = new Readable({
      highWaterMark,
      read: () => this.release(),
      destroy: (error, callback) => {
        this.close();
        callback(error);
      },
    });
    // A stream that fails after its reader left (or before one came) must not take the process
    // down as an unhandled 'error': readers that listen still get it.
    this.readable.on("error", () => undefined);
    this.touch();
  }

  /** Takes the next chunk; the reply is what the sender gets back. */
  accept(seq: number, data: Uint8Array): Promise<ChunkReply> {
    if (this.finished || this.readable.destroyed) return Promise.resolve({ ok: false, code: "cancelled", error: "the receiver stopped reading" });
    if (seq !== this.expected) {
      this.fail(new StreamError("out_of_order", `chunk ${seq} came where ${this.expected} was expected`));
      return Promise.resolve({ ok: false, code: "out_of_order", error: "chunks came out of order" });
    }
    this.expected += 1;
    this.touch();
    // Copied: the data may be a view into the socket's receive buffer.
    if (this.readable.push(Buffer.from(data))) return Promise.resolve({ ok: true });
    return new Promise((resolve) =>
      this.waiting.push(() => resolve(this.readable.destroyed ? { ok: false, code: "cancelled", error: "the receiver stopped reading" } : { ok: true })),
    );
  }

  /** The sender's end: the Readable ends, or fails with the sender's reason. */
  end(end: { ok: true; chunks: number } | { ok: false; code: StreamErrorCode; error: string }) {
    if (this.finished) return;
    if (!end.ok) return this.fail(new StreamError(end.code, end.error));
    if (end.chunks !== this.expected) return this.fail(new StreamError("out_of_order", `the stream ended after ${this.expected} of ${end.chunks} chunks`));
    this.readable.push(null);
    this.close();
  }

  /** The stream cannot go on (its link dropped, its peer went quiet). */
  fail(error: StreamError) {
    if (this.finished) return;
    this.readable.destroy(error);
    this.close();
  }

  private touch() {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.fail(new StreamError("timeout", `nothing came for ${Math.round(this.idleMs / 1000)} s`)), this.idleMs);
    this.idle.unref?.();
  }

  private release() {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resume of waiting) resume();
  }

  private close() {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.idle);
    this.release();
    this.onDone();
  }
}

/** The streams one link receives, by id; each link (socket) has its own. */
export class StreamReceivers {
  private readonly streams = new Map<string, StreamReceiver>();

  /** Registers a stream before it is asked for, so no chunk can come before its receiver. */
  open(streamId: string, idleMs?: number): StreamReceiver {
    const receiver = new StreamReceiver(() => this.streams.delete(streamId), idleMs);
    this.streams.set(streamId, receiver);
    return receiver;
  }

  chunk(raw: { streamId: string; seq: number; data: Uint8Array }): Promise<ChunkReply> {
    const receiver = this.streams.get(raw.streamId);
    if (!receiver) return Promise.resolve({ ok: false, code: "unknown_stream", error: "no such stream on this link" });
    return receiver.accept(raw.seq, raw.data);
  }

  end(raw: z.output<typeof StreamMessages.end.message>) {
    this.streams.get(raw.streamId)?.end(raw);
  }

  /** The link dropped: every stream on it fails. */
  failAll(error: StreamError) {
    for (const receiver of [...this.streams.values()]) receiver.fail(error);
  }

  get size() {
    return this.streams.size;
  }
}
