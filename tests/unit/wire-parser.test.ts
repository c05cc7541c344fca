/**
 * The wire's MessagePack encoder sends exactly the bytes of a view, never its whole backing
 * buffer: terminal output read off the wire is a view into a larger receive buffer, and sending
 * the rest of that buffer would hand a student bytes that were never their terminal's.
 */
import { describe, expect, it } from "vitest";
import { WIRE_PARSER, exactViews } from "../../protocol/wire-parser";

function roundTrip(data: unknown[]): unknown[] {
  const [frame] = new WIRE_PARSER.Encoder().encode({ type: 2, nsp: "/terminal", data }) as unknown as [Buffer];
  let decoded: { data: unknown[] } | undefined;
  const decoder = new WIRE_PARSER.Decoder();
  decoder.on("decoded", (packet: { data: unknown[] }) => (decoded = packet));
  decoder.add(frame);
  return decoded!.data;
}

const bytesOf = (value: unknown) => Buffer.from(value instanceof ArrayBuffer ? new Uint8Array(value) : (value as Uint8Array)).toString();

describe("the wire encoder", () => {
  const backing = Buffer.from("SECRET-of-another-terminal|the-bytes|more-SECRET");
  const start = backing.indexOf("the-bytes");

  it("sends only a view's bytes, whether the view is a Buffer or a plain Uint8Array, nested or not", () => {
    const plainView = new Uint8Array(backing.buffer, backing.byteOffset + start, 9);
    const bufferView = backing.subarray(start, start + 9);
    const [event, message] = roundTrip(["terminal:output", { environmentId: "e1", terminalId: "main", data: plainView, offset: 7, more: [bufferView] }]) as [
      string,
      { data: unknown; more: unknown[]; offset: number },
    ];
    expect(event).toBe("terminal:output");
    expect(bytesOf(message.data)).toBe("the-bytes");
    expect(bytesOf(message.more[0])).toBe("the-bytes");
    expect(message.offset).toBe(7);
  });

  it("leaves everything that is not a byte view as it is", () => {
    const value = { a: 1, b: "x", c: [true, null], d: new Date(0) };
    expect(exactViews(value)).toEqual(value);
    expect((exactViews(value) as { d: Date }).d).toBe(value.d);
  });

  it("without the guard, MessagePack would have sent the whole backing buffer (the bug it prevents)", async () => {
    const { default: parser } = await import("socket.io-msgpack-parser");
    const [frame] = new parser.Encoder().encode({ type: 2, nsp: "/", data: [new Uint8Array(backing.buffer, backing.byteOffset + start, 9)] }) as unknown as [
      Buffer,
    ];
    expect(Buffer.from(frame).includes("SECRET")).toBe(true);
    const [guarded] = new WIRE_PARSER.Encoder().encode({
      type: 2,
      nsp: "/",
      data: [new Uint8Array(backing.buffer, backing.byteOffset + start, 9)],
    }) as unknown as [Buffer];
    expect(Buffer.from(guarded).includes("SECRET")).toBe(false);
  });
});
