/**
 * The worker's reading of the PTY holder's frames. The holder runs inside a student's
 * container, so its bytes are untrusted: the decoder must find the same events however
 * the stream is split, and refuse what the holder never sends.
 */
import { describe, expect, it } from "vitest";
import {
  FRAME,
  FRAME_MAX,
  HolderFrameDecoder,
  HolderProtocolError,
  inputFrames,
  resizeFrame,
  type HolderEvent,
} from "../../runtime-worker/holder/holder-frames";

function frame(type: number, payload: Buffer) {
  const header = Buffer.alloc(5);
  header[0] = type;
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

function hello(offset: number, replayBytes: number) {
  const payload = Buffer.alloc(12);
  payload.writeBigUInt64BE(BigInt(offset), 0);
  payload.writeUInt32BE(replayBytes, 8);
  return frame(FRAME.HELLO, payload);
}

const exit = (code: number) => {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code, 0);
  return frame(FRAME.EXIT, payload);
};

/** What one decoder makes of `bytes` delivered in the given pieces, output joined. */
function decode(bytes: Buffer, cuts: number[]) {
  const decoder = new HolderFrameDecoder();
  const events: HolderEvent[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    events.push(...decoder.push(bytes.subarray(from, cut)));
    from = cut;
  }
  const output = Buffer.concat(events.flatMap((event) => (event.kind === "output" ? [event.data] : []))).toString("utf8");
  return { kinds: events.filter((event) => event.kind !== "output").map((event) => JSON.stringify(event)), output };
}

describe("the holder's frames", () => {
  const stream = Buffer.concat([hello(4096, 5), frame(FRAME.OUTPUT, Buffer.from("hello")), frame(FRAME.OUTPUT, Buffer.from(" world")), exit(3)]);

  it("decode to the same events at every split point", () => {
    const whole = decode(stream, []);
    expect(whole.kinds).toEqual([JSON.stringify({ kind: "hello", offset: 4096, replayBytes: 5 }), JSON.stringify({ kind: "exit", code: 3 })]);
    expect(whole.output).toBe("hello world");
    for (let cut = 1; cut < stream.length; cut++) expect(decode(stream, [cut])).toEqual(whole);
    expect(
      decode(
        stream,
        Array.from({ length: stream.length - 1 }, (_, index) => index + 1),
      ),
    ).toEqual(whole);
  });

  it("refuse a stream that does not start with the holder's hello", () => {
    expect(() => new HolderFrameDecoder().push(frame(FRAME.OUTPUT, Buffer.from("x")))).toThrow(HolderProtocolError);
    expect(() => new HolderFrameDecoder().push(frame(FRAME.HELLO, Buffer.alloc(3)))).toThrow(HolderProtocolError);
  });

  it("refuse a frame larger than the holder ever sends, before it arrives", () => {
    const decoder = new HolderFrameDecoder();
    decoder.push(hello(0, 0));
    const header = Buffer.from([FRAME.OUTPUT, 0xff, 0xff, 0xff, 0xff]);
    expect(() => decoder.push(header)).toThrow(/at most/);
  });

  it("refuse an impossible replay and frame types the holder never sends", () => {
    expect(() => new HolderFrameDecoder().push(hello(0, 10 * 1024 * 1024))).toThrow(HolderProtocolError);
    const decoder = new HolderFrameDecoder();
    decoder.push(hello(0, 0));
    expect(() => decoder.push(frame(FRAME.INPUT, Buffer.from("x")))).toThrow(/unexpected frame type/);
  });

  it("input is cut into frames the holder accepts; a resize is one frame", () => {
    const big = Buffer.alloc(FRAME_MAX * 2 + 10, 0x61);
    const frames = inputFrames(big);
    let at = 0;
    const sizes: number[] = [];
    while (at < frames.length) {
      expect(frames[at]).toBe(FRAME.INPUT);
      const length = frames.readUInt32BE(at + 1);
      sizes.push(length);
      at += 5 + length;
    }
    expect(sizes).toEqual([FRAME_MAX, FRAME_MAX, 10]);
    expect([...resizeFrame(300, 100)]).toEqual([FRAME.RESIZE, 0, 0, 0, 4, 1, 44, 0, 100]);
  });
});
