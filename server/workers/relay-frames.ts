/**
 * The frames a stream travels in between two server replicas (replica-relay.ts): a type byte,
 * a 4-byte length and the payload. Framing, not a bare byte pipe, so that a stream that broke
 * off is told apart from one that ended (a closed connection alone says neither), and the
 * worker's reply and a failure's code ride on the same connection as the bytes. Bytes go out
 * with the connection's backpressure and come in as the reader asks for them.
 */
import { Readable, Transform, type Duplex, type TransformCallback } from "node:stream";
import { z } from "zod";
import { StreamError } from "../../protocol/byte-stream";

export const FrameType = {
  /** What the asking replica wants, signed: JSON `{ body, signature }`; always the first frame it sends. */
  request: 5,
  /** The outcome of opening the stream, or an upload's reply: JSON. */
  reply: 1,
  /** A piece of the stream's bytes. */
  data: 2,
  /** Every byte was sent. */
  end: 3,
  /** The stream broke off: JSON `{ code, error }`. */
  fail: 4,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export type Frame = { type: FrameType; payload: Buffer };

const HEADER_BYTES = 5;
/** Larger than any frame a sender makes (DATA_FRAME_BYTES, a request): a longer one is a broken or hostile peer. */
export const MAX_FRAME_BYTES = 1024 * 1024;
/** A larger chunk of a stream is sent as several frames. */
const DATA_FRAME_BYTES = 512 * 1024;
const Failed = z.object({ code: z.string().max(100), error: z.string().max(2000) });
const BROKE_OFF = "The relay between replicas broke off.";

export function encodeFrame(type: FrameType, payload: Buffer | Uint8Array = Buffer.alloc(0)): Buffer {
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(payload.byteLength, 1);
  return Buffer.concat([header, payload]);
}

export const jsonFrame = (type: FrameType, value: unknown) => encodeFrame(type, Buffer.from(JSON.stringify(value)));

/** Bytes in, frames out (object mode); an unknown type or an oversized frame fails the stream. */
export class FrameDecoder extends Transform {
  /** What arrived and is not a whole frame yet, kept as it came: joined once a frame is whole (linear, however it is split). */
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor() {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= HEADER_BYTES) {
      const header = this.peekBytes(HEADER_BYTES);
      const type = header.readUInt8(0) as FrameType;
      const length = header.readUInt32BE(1);
      if (!Object.values(FrameType).includes(type)) return done(new Error(`relay frame of unknown type ${type}`));
      if (length > MAX_FRAME_BYTES) return done(new Error(`relay frame of ${length} bytes is over the limit`));
      if (this.buffered < HEADER_BYTES + length) break;
      this.push({ type, payload: this.takeBytes(HEADER_BYTES + length).subarray(HEADER_BYTES) } satisfies Frame);
    }
    done();
  }

  override _flush(done: TransformCallback) {
    done(this.buffered ? new Error("relay connection ended inside a frame") : null);
  }

  private peekBytes(bytes: number): Buffer {
    if (this.chunks[0]!.length < bytes) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!;
  }

  private takeBytes(bytes: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = all.length > bytes ? [all.subarray(bytes)] : [];
    this.buffered -= bytes;
    return all.subarray(0, bytes);
  }
}

/** Frames off a socket, one at a time (with what came with the upgrade first). */
export class FrameReader {
  private readonly decoder = new FrameDecoder();
  private readonly iterator: AsyncIterator<Frame, undefined>;

  constructor(socket: Duplex, head: Buffer) {
    socket.on("error", () => undefined); // seen as the close that follows
    if (head.length) this.decoder.write(head);
    socket.pipe(this.decoder);
    // A broken connection or a malformed frame ends the frames; the reader treats it as broken off.
    this.decoder.on("error", () => socket.destroy());
    socket.once("close", () => {
      if (!this.decoder.writableEnded) this.decoder.end();
    });
    this.iterator = this.decoder[Symbol.asyncIterator]() as AsyncIterator<Frame, undefined>;
  }

  /** The next frame, or null once the connection ended or broke. */
  async next(): Promise<Frame | null> {
    try {
      const result = await this.iterator.next();
      return result.done ? null : result.value;
    } catch {
      return null;
    }
  }
}

/** The data frames as a Readable: ends at the end frame, errors on a fail frame or a broken connection; `cancel` when its reader drops it. */
export function readableOfFrames(frames: FrameReader, socket: Duplex, cancel: () => void): Readable {
  let finished = false;
  const bytes = new Readable({
    read: () => {
      void frames.next().then((frame) => {
        if (finished) return;
        if (frame?.type === FrameType.data) {
          bytes.push(frame.payload);
          return;
        }
        finished = true;
        if (frame?.type === FrameType.end) {
          bytes.push(null);
          return;
        }
        const failed = frame?.type === FrameType.fail ? Failed.safeParse(parseJsonFrame(frame.payload)) : null;
        bytes.destroy(failed?.success ? new StreamError(failed.data.code, failed.data.error) : new StreamError("worker_unavailable", BROKE_OFF));
      });
    },
    destroy: (error, done) => {
      if (!finished) cancel();
      finished = true;
      done(error);
    },
  });
  socket.once("close", () => {
    if (!finished) bytes.destroy(new StreamError("worker_unavailable", BROKE_OFF));
  });
  return bytes;
}

/**
 * Sends `bytes` as data frames, then an end frame, or a fail frame with its code when `bytes`
 * fails. `endConnection`: the connection ends after it (nothing else will be sent on it).
 * A connection that closes first stops the sending, and `bytes` is destroyed.
 */
export async function sendAsFrames(bytes: Readable, socket: Duplex, { endConnection }: { endConnection: boolean }) {
  // A reset by the peer is seen as the close that follows it.
  socket.on("error", () => undefined);
  const sink = frameSink(socket);
  let last: Buffer;
  try {
    for await (const chunk of bytes) {
      const data = chunk as Buffer;
      for (let at = 0; at < data.length; at += DATA_FRAME_BYTES) await sink(encodeFrame(FrameType.data, data.subarray(at, at + DATA_FRAME_BYTES)));
    }
    last = encodeFrame(FrameType.end);
  } catch (error) {
    const code = error instanceof StreamError ? error.code : "failed";
    last = jsonFrame(FrameType.fail, { code, error: (error as Error).message.slice(0, 2000) });
  }
  if (socket.destroyed) return;
  if (endConnection) socket.end(last);
  else socket.write(last);
}

/** Writes with the socket's backpressure: resolves once it may take more; rejects once it closed. */
function frameSink(socket: Duplex) {
  return (frame: Buffer) =>
    new Promise<void>((resolve, reject) => {
      if (socket.destroyed) return reject(new Error("the relay connection closed"));
      if (socket.write(frame)) return resolve();
      const onDrain = () => {
        socket.off("close", onClose);
        resolve();
      };
      const onClose = () => {
        socket.off("drain", onDrain);
        reject(new Error("the relay connection closed"));
      };
      socket.once("drain", onDrain);
      socket.once("close", onClose);
    });
}

/** A JSON frame's value; undefined when it is not JSON. */
export function parseJsonFrame(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined;
  }
}
