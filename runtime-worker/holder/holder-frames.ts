/**
 * The PTY holder's frames (holder.h), for the worker speaking to a holder through its
 * relay: a type byte, a big-endian u32 length, the payload. The holder is inside the
 * student's container, so what it sends is untrusted: every length is bounded, and
 * anything that is not a frame the holder sends ends the attach.
 */
export const FRAME = { INPUT: 1, RESIZE: 2, OUTPUT: 3, EXIT: 4, HELLO: 5 } as const;
/** The holder's own bound on a payload. */
export const FRAME_MAX = 32 * 1024;
/** The holder keeps 256 KiB of output; a larger replay is not our holder. */
export const MAX_REPLAY = 256 * 1024;

const HEADER = 5;

function frame(type: number, payload: Buffer) {
  const out = Buffer.allocUnsafe(HEADER + payload.length);
  out[0] = type;
  out.writeUInt32BE(payload.length, 1);
  payload.copy(out, HEADER);
  return out;
}

/** Input for the shell, as frames of at most FRAME_MAX bytes. */
export function inputFrames(data: Buffer): Buffer {
  const frames: Buffer[] = [];
  for (let at = 0; at < data.length; at += FRAME_MAX) frames.push(frame(FRAME.INPUT, data.subarray(at, at + FRAME_MAX)));
  return Buffer.concat(frames);
}

export function resizeFrame(cols: number, rows: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt16BE(cols, 0);
  payload.writeUInt16BE(rows, 2);
  return frame(FRAME.RESIZE, payload);
}

export type HolderEvent = { kind: "hello"; offset: number; replayBytes: number } | { kind: "output"; data: Buffer } | { kind: "exit"; code: number };

export class HolderProtocolError extends Error {
  override name = "HolderProtocolError";
}

/**
 * Turns the holder's byte stream into events, in order. The first frame must be HELLO;
 * after it only OUTPUT and EXIT may come. Throws HolderProtocolError on anything else.
 */
export class HolderFrameDecoder {
  private buffered: Buffer = Buffer.alloc(0);
  private greeted = false;

  push(chunk: Buffer): HolderEvent[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const events: HolderEvent[] = [];
    while (this.buffered.length >= HEADER) {
      const type = this.buffered[0]!;
      const length = this.buffered.readUInt32BE(1);
      if (length > FRAME_MAX) throw new HolderProtocolError(`a frame of ${length} bytes (at most ${FRAME_MAX})`);
      if (this.buffered.length < HEADER + length) break;
      const payload = this.buffered.subarray(HEADER, HEADER + length);
      this.buffered = this.buffered.subarray(HEADER + length);
      events.push(this.event(type, payload));
    }
    return events;
  }

  private event(type: number, payload: Buffer): HolderEvent {
    if (!this.greeted) {
      if (type !== FRAME.HELLO || payload.length !== 12) throw new HolderProtocolError(`expected the holder's hello, got frame type ${type}`);
      this.greeted = true;
      const offset = Number(payload.readBigUInt64BE(0));
      const replayBytes = payload.readUInt32BE(8);
      if (!Number.isSafeInteger(offset) || replayBytes > MAX_REPLAY) throw new HolderProtocolError("an impossible hello");
      return { kind: "hello", offset, replayBytes };
    }
    if (type === FRAME.OUTPUT) return { kind: "output", data: Buffer.from(payload) };
    if (type === FRAME.EXIT && payload.length === 4) return { kind: "exit", code: payload.readUInt32BE(0) & 0xff };
    throw new HolderProtocolError(`unexpected frame type ${type}`);
  }
}
