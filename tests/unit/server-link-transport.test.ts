/**
 * The worker's link sends its frames with an all-zero masking key where nothing in between can
 * read them (loopback, TLS), and masked as RFC 6455 says anywhere else. Real socket.io on
 * loopback: the frames are read off the server's TCP socket, and the bytes still arrive intact.
 */
import { createServer } from "node:http";
import type { AddressInfo, Socket as NetSocket } from "node:net";
import { Server } from "socket.io";
import { io as connect } from "socket.io-client";
import { afterEach, expect, it } from "vitest";
import { WIRE_PARSER } from "../../protocol/wire-parser";
import { frameMaskingNeeded, serverLinkTransports, UnmaskedWebSocket } from "../../runtime-worker/server-link-transport";

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

it("leaves frames unmasked only where no intermediary can read them", () => {
  for (const url of ["http://127.0.0.1:3000", "http://127.1.2.3", "http://localhost:3000", "http://[::1]:3000", "https://shellroom.example", "wss://10.0.0.5"])
    expect(frameMaskingNeeded(url), url).toBe(false);
  for (const url of [
    "http://shellroom.example:3000",
    "http://10.0.0.5:3000",
    "ws://192.168.1.2",
    "http://[2001:db8::1]",
    "http://localhost.example.com",
    "http://128.0.0.1",
  ])
    expect(frameMaskingNeeded(url), url).toBe(true);
  expect(serverLinkTransports("http://10.0.0.5:3000")).toEqual(["websocket"]);
  expect(serverLinkTransports("http://127.0.0.1:3000")).toEqual([UnmaskedWebSocket]);
});

/** The masking keys of the websocket frames a client sends, read off the server's TCP socket after the upgrade. */
async function framesFrom(transports: ReturnType<typeof serverLinkTransports>) {
  const http = createServer();
  const server = new Server(http, { parser: WIRE_PARSER, transports: ["websocket"] });
  const keys: string[] = [];
  const received: Buffer[] = [];
  http.on("upgrade", (_request, socket: NetSocket) => {
    // Every frame a client sends (frames may share a TCP read, or span two): its masking key.
    let pending = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (pending.length < 2) return;
        const masked = (pending[1]! & 0x80) !== 0;
        const short = pending[1]! & 0x7f;
        const lengthBytes = short === 126 ? 2 : short === 127 ? 8 : 0;
        const keyAt = 2 + lengthBytes;
        if (pending.length < keyAt + 4) return;
        const length = short === 126 ? pending.readUInt16BE(2) : short === 127 ? Number(pending.readBigUInt64BE(2)) : short;
        const end = keyAt + (masked ? 4 : 0) + length;
        if (pending.length < end) return;
        keys.push(masked ? pending.subarray(keyAt, keyAt + 4).toString("hex") : "unmasked");
        pending = pending.subarray(end);
      }
    });
  });
  server.on("connection", (socket) => socket.on("output", (data: Uint8Array) => received.push(Buffer.from(data))));
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const client = connect(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { transports, parser: WIRE_PARSER, forceNew: true });
  closers.push(async () => {
    client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  await new Promise<void>((resolve) => client.once("connect", () => resolve()));
  const payload = Buffer.from(Array.from({ length: 3000 }, (_, index) => index % 251));
  for (let index = 0; index < 3; index++) client.emit("output", payload);
  await expect.poll(() => received.length, { timeout: 10_000 }).toBe(3);
  for (const bytes of received) expect(bytes.equals(payload)).toBe(true);
  return keys;
}

it("a loopback link sends zero keys, and the bytes arrive as sent", async () => {
  const keys = await framesFrom([UnmaskedWebSocket]);
  expect(keys.length).toBeGreaterThanOrEqual(3);
  expect(new Set(keys)).toEqual(new Set(["00000000"]));
});

it("the default transport masks with random keys (what a link across a network keeps)", async () => {
  const keys = await framesFrom(["websocket"]);
  expect(keys.length).toBeGreaterThanOrEqual(3);
  expect(keys.filter((key) => key !== "00000000").length).toBeGreaterThanOrEqual(3);
});
