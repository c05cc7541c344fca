/**
 * One socket's end of byte streams (byte-stream.ts), the same code on the server's socket to a
 * worker and on the worker's socket to the server: it receives chunks into the streams this
 * side opened, and sends chunks of the streams it pumps. A chunk for a stream this side did not
 * open is refused (`unknown_stream`), so a peer can feed only what it was asked for.
 */
import { readMessage, readRequest, type MalformedReport } from "./contract";
import { pumpStream, StreamError, StreamMessages, StreamReceivers, type ChunkReply, type StreamReceiver } from "./byte-stream";
import type { Readable } from "node:stream";

/** What both socket.io sockets (server side and client side) offer. */
export interface StreamSocket {
  on(event: string, listener: (...args: never[]) => void): unknown;
  emit(event: string, ...args: unknown[]): unknown;
  timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> };
  readonly connected: boolean;
}

/** How long one chunk may wait for the peer to take it (a slow reader is normal; a dead one is not). */
const CHUNK_ACK_MS = 120_000;

export class StreamLink {
  private readonly receivers = new StreamReceivers();
  /** Aborted when the socket drops: every stream this side pumps stops (a new one per connection). */
  private dropped = new AbortController();

  constructor(
    private readonly socket: StreamSocket,
    report: MalformedReport,
  ) {
    const onChunk = (payload: unknown, ack?: (reply: ChunkReply) => void) => {
      const reply = typeof ack === "function" ? ack : () => undefined;
      const chunk = readRequest(StreamMessages.chunk, payload);
      if (!chunk.ok) {
        report(StreamMessages.chunk.event, chunk.issues);
        return reply({ ok: false, code: "failed", error: `invalid ${StreamMessages.chunk.event}: ${chunk.issues}` });
      }
      void this.receivers.chunk(chunk.data).then(reply);
    };
    const onEnd = (payload: unknown) => {
      const end = readMessage(StreamMessages.end, payload, report);
      if (end) this.receivers.end(end);
    };
    socket.on(StreamMessages.chunk.event, onChunk as (...args: never[]) => void);
    socket.on(StreamMessages.end.event, onEnd as (...args: never[]) => void);
    // `on`, not `once`: the worker's socket reconnects, and each drop ends what was under way.
    socket.on("disconnect", () => {
      this.dropped.abort();
      this.dropped = new AbortController();
      this.receivers.failAll(new StreamError("worker_unavailable", "the connection dropped"));
    });
  }

  /** Opens a stream to receive (before asking the peer for it). */
  receive(streamId: string): StreamReceiver {
    return this.receivers.open(streamId);
  }

  /** Sends `source` as the stream `streamId`; rejects with a StreamError when it could not all arrive. */
  send(streamId: string, source: Readable): Promise<void> {
    if (!this.socket.connected) {
      source.destroy();
      return Promise.reject(new StreamError("worker_unavailable", "the connection is down"));
    }
    return pumpStream(
      streamId,
      source,
      {
        chunk: async (seq, data) => {
          const reply = StreamMessages.chunk.reply.safeParse(
            await this.socket.timeout(CHUNK_ACK_MS).emitWithAck(StreamMessages.chunk.event, { streamId, seq, data }),
          );
          return reply.success ? reply.data : { ok: false, code: "malformed_reply", error: "the answer to a chunk could not be read" };
        },
        end: (end) => this.socket.emit(StreamMessages.end.event, end),
      },
      this.dropped.signal,
    );
  }

  /** Streams being received on this link (metrics, tests). */
  get receiving() {
    return this.receivers.size;
  }
}
