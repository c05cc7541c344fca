/**
 * The frames streams cross replicas in (server/workers/relay-frames.ts): read back as written
 * however the connection splits them, and a broken or hostile peer's bytes (an unknown type, a
 * frame over the limit, a connection that ends inside a frame) fail the stream.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { FrameDecoder, FrameType, MAX_FRAME_BYTES, encodeFrame, jsonFrame, type Frame } from "../../server/workers/relay-frames";

async function decode(pieces: Buffer[]): Promise<Frame[]> {
  const decoder = new FrameDecoder();
  const frames: Frame[] = [];
  const read = (async () => {
    for await (const frame of decoder) frames.push(frame as Frame);
  })();
  for (const piece of pieces) decoder.write(piece);
  decoder.end();
  await read;
  return frames;
}

/** `bytes` cut at `every` bytes. */
const split = (bytes: Buffer, every: number) => Array.from({ length: Math.ceil(bytes.length / every) }, (_, i) => bytes.subarray(i * every, (i + 1) * every));

describe("relay frames", () => {
  const data = randomBytes(70_000);
  const written = Buffer.concat([
    jsonFrame(FrameType.reply, { ok: true }),
    encodeFrame(FrameType.data, data),
    encodeFrame(FrameType.data, Buffer.alloc(0)),
    encodeFrame(FrameType.end),
  ]);

  it.each([1, 3, 5, 4096, written.length])("are read back as written when the connection delivers %i bytes at a time", async (every) => {
    const frames = await decode(split(written, every));
    expect(frames.map((frame) => frame.type)).toEqual([FrameType.reply, FrameType.data, FrameType.data, FrameType.end]);
    expect(JSON.parse(frames[0]!.payload.toString())).toEqual({ ok: true });
    expect(Buffer.compare(frames[1]!.payload, data)).toBe(0);
    expect(frames[2]!.payload.length).toBe(0);
  });

  it("fail the stream on a frame of unknown type", async () => {
    const bogus = encodeFrame(FrameType.data, Buffer.from("x"));
    bogus.writeUInt8(9, 0);
    await expect(decode([bogus])).rejects.toThrow(/unknown type 9/);
  });

  it("fail the stream on a frame longer than the limit, before its bytes arrive", async () => {
    const header = Buffer.alloc(5);
    header.writeUInt8(FrameType.data, 0);
    header.writeUInt32BE(MAX_FRAME_BYTES + 1, 1);
    await expect(decode([header])).rejects.toThrow(/over the limit/);
  });

  it("fail the stream when the connection ends inside a frame", async () => {
    await expect(decode([encodeFrame(FrameType.data, Buffer.from("hello")).subarray(0, 7)])).rejects.toThrow(/ended inside a frame/);
  });
});
