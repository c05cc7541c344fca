/**
 * The frames a stream travels in between two server replicas (replica-relay.ts): a type byte,
 * a 4-byte length and the payload. Framing, not a bare byte pipe, so that a stream that broke
 * off is told apart from one that ended (a closed connection alone says neither), and the
 * worker's reply and a failure's code ride on the same connection as the bytes.
 */
import { Transform, type TransformCallback } from "node:stream";

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
/** Larger than any chunk a stream sends (protocol/byte-stream.ts): a longer frame is a broken or hostile peer. */
export const MAX_FRAME_BYTES = 1024 * 1024;

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
