/**
 * How socket.io frames messages on both hops: MessagePack instead of JSON. socket.io's default
 * parser sends a message that carries bytes (terminal output) as two websocket frames, a JSON
 * header and the binary attachment; MessagePack puts the bytes inline, so every message is one
 * frame, one write and one parse. Both ends of a hop must use the same parser.
 *
 * One guard on the way out: notepack (the parser's MessagePack) encodes a Uint8Array that is not
 * a Node Buffer as its whole underlying ArrayBuffer, not the view's bytes. Output read off the
 * wire is such a view into a larger receive buffer, so re-sending it as it is would send bytes
 * that were never the terminal's. Every view is made exact before it is encoded.
 */
import msgpackParser from "socket.io-msgpack-parser";

/** The exact bytes of a view: a Buffer over the same memory in Node, a copy of just those bytes elsewhere. */
function exactBytes(view: ArrayBufferView): Uint8Array | ArrayBuffer {
  const NodeBuffer = (
    globalThis as { Buffer?: { isBuffer(value: unknown): boolean; from(buffer: ArrayBufferLike, offset: number, length: number): Uint8Array } }
  ).Buffer;
  if (NodeBuffer) return NodeBuffer.isBuffer(view) ? (view as Uint8Array) : NodeBuffer.from(view.buffer, view.byteOffset, view.byteLength);
  return view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer;
}

/**
 * A packet's data with every byte view made exact (plain objects and arrays are walked; nothing
 * else is touched). On the hot path most packets hold no inexact view: they come back as they are,
 * with nothing copied.
 */
export function exactViews(value: unknown, depth = 0): unknown {
  if (depth > 32 || value === null || typeof value !== "object") return value;
  if (ArrayBuffer.isView(value)) return exactBytes(value);
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, index) => {
      const exact = exactViews(item, depth + 1);
      if (exact !== item) (copy ??= value.slice())[index] = exact;
    });
    return copy ?? value;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const exact = exactViews(item, depth + 1);
    if (exact !== item) (copy ??= { ...value })[key] = exact;
  }
  return copy ?? value;
}

class ExactEncoder extends msgpackParser.Encoder {
  override encode(packet: { type: number; nsp: string; data?: unknown; id?: number }) {
    const data = exactViews(packet.data);
    return super.encode(data === packet.data ? packet : { ...packet, data });
  }
}

export const WIRE_PARSER = { ...msgpackParser, Encoder: ExactEncoder };
