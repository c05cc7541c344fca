/**
 * The frames streams cross replicas in (server/workers/relay-frames.ts): read back as written
 * however the connection splits them, and a broken or hostile peer's bytes (an unknown type, a
 * frame over the limit, a connection that ends inside a frame) fail the stream. Over a real
 * loopback connection, a stream arrives whole, a failure arrives with its code, a connection
 * that drops is a break (never a clean end), and a reader that lets go stops the sender.
 */
import { createHash, randomBytes } from "node:crypto";
import net from "node:net";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import { StreamError } from "../../protocol/byte-stream";
import {
  FrameDecoder,
  FrameReader,
  FrameType,
  MAX_FRAME_BYTES,
  encodeFrame,
  jsonFrame,
  readableOfFrames,
  sendAsFrames,
  type Frame,
} from "../../server/workers/relay-frames";

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

describe("a stream in frames over a connection", () => {
  const opened: net.Socket[] = [];
  let server: net.Server | undefined;
  afterEach(() => {
    for (const socket of opened.splice(0)) socket.destroy();
    server?.close();
  });

  /** Both ends of a loopback TCP connection: the sender's and the receiver's. */
  async function connection(): Promise<{ sender: net.Socket; receiver: net.Socket }> {
    const accepted = new Promise<net.Socket>((resolve) => {
      server = net.createServer(resolve);
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const { port } = server!.address() as net.AddressInfo;
    const receiver = net.connect(port, "127.0.0.1");
    const sender = await accepted;
    opened.push(sender, receiver);
    return { sender, receiver };
  }

  const digest = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
  async function readAll(bytes: Readable) {
    const chunks: Buffer[] = [];
    for await (const chunk of bytes) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  it("arrives whole and ends, a chunk larger than a frame included", async () => {
    const { sender, receiver } = await connection();
    const data = [randomBytes(3 * 1024 * 1024), randomBytes(1000), randomBytes(700 * 1024)];
    const bytes = readableOfFrames(new FrameReader(receiver, Buffer.alloc(0)), receiver, () => receiver.destroy());
    void sendAsFrames(Readable.from(data), sender, { endConnection: true });
    expect(digest(await readAll(bytes))).toBe(digest(Buffer.concat(data)));
  });

  it("fails on the receiver with the sender's code when the sender's bytes fail", async () => {
    const { sender, receiver } = await connection();
    const source = new Readable({ read() {} });
    source.push(Buffer.from("partial"));
    const bytes = readableOfFrames(new FrameReader(receiver, Buffer.alloc(0)), receiver, () => receiver.destroy());
    void sendAsFrames(source, sender, { endConnection: true });
    source.destroy(new StreamError("no_workspace", "the workspace is gone"));
    await expect(readAll(bytes)).rejects.toMatchObject({ code: "no_workspace", message: "the workspace is gone" });
  });

  it("is a break, not an end, when the connection drops before the end frame", async () => {
    const { sender, receiver } = await connection();
    const bytes = readableOfFrames(new FrameReader(receiver, Buffer.alloc(0)), receiver, () => receiver.destroy());
    sender.write(encodeFrame(FrameType.data, Buffer.from("half of it")));
    sender.end();
    await expect(readAll(bytes)).rejects.toMatchObject({ code: "worker_unavailable" });
  });

  it("stops the sender, and destroys what it sends, when the reader lets go", async () => {
    const { sender, receiver } = await connection();
    const cancel = vi.fn(() => receiver.destroy());
    const bytes = readableOfFrames(new FrameReader(receiver, Buffer.alloc(0)), receiver, cancel);
    // Endless: only the reader letting go can end it.
    const source = new Readable({
      read() {
        this.push(randomBytes(64 * 1024));
      },
    });
    const sending = sendAsFrames(source, sender, { endConnection: true });
    for await (const _chunk of bytes) break;
    expect(cancel).toHaveBeenCalledOnce();
    await sending;
    expect(source.destroyed).toBe(true);
  });
});
