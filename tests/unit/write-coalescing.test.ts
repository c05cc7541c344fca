/**
 * What a connection is sent in one turn leaves the server in one write: a keystroke's answer
 * and its echo cost the kernel one write, not two, and arrive whole and in order. Real
 * socket.io on loopback; the server's TCP socket is watched for how many writes it makes.
 */
import { createServer } from "node:http";
import type { AddressInfo, Socket as NetSocket } from "node:net";
import { Server, type Socket } from "socket.io";
import { io as connect } from "socket.io-client";
import { afterEach, expect, it } from "vitest";
import { WIRE_PARSER } from "../../protocol/wire-parser";
import { coalesceClientWrites } from "../../protocol/write-coalescing";
import { coalesceServerWrites } from "../../server/gateway/write-coalescing";

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A server whose "input" handler answers and pushes `pushes` outputs in the same turn; counts the TCP writes of each answer. */
async function loopback(pushes: number) {
  const http = createServer();
  const server = new Server(http, { parser: WIRE_PARSER, transports: ["websocket"] });
  coalesceServerWrites(server);
  const writes: number[] = [];
  server.on("connection", (socket: Socket) => {
    const raw = (socket.conn as unknown as { transport: { socket: { _socket: NetSocket } } }).transport.socket._socket;
    let count = 0;
    for (const method of ["_write", "_writev"] as const) {
      const original = raw[method] as (...args: unknown[]) => void;
      raw[method] = ((...args: unknown[]) => {
        count += 1;
        return original.apply(raw, args);
      }) as never;
    }
    socket.on("input", (data: string, ack: (reply: unknown) => void) => {
      count = 0;
      ack({ ok: true });
      for (let index = 0; index < pushes; index++) socket.emit("output", { data: Buffer.from(`${data}${index}`), index });
      setImmediate(() => setImmediate(() => writes.push(count)));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const client = connect(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { transports: ["websocket"], parser: WIRE_PARSER, forceNew: true });
  closers.push(async () => {
    client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  await new Promise<void>((resolve) => client.once("connect", () => resolve()));
  return { client, writes };
}

it("a keystroke's answer and its echo leave the server in one write, whole and in order", async () => {
  const { client, writes } = await loopback(1);
  const seen: string[] = [];
  client.on("output", (message: { data: Uint8Array }) => seen.push(`output ${Buffer.from(message.data).toString()}`));
  for (const key of ["a", "b", "c"]) {
    client.emit("input", key, (reply: unknown) => seen.push(`reply ${JSON.stringify(reply)}`));
    await expect.poll(() => seen.at(-1), { timeout: 5000 }).toBe(`output ${key}0`);
  }
  expect(seen).toEqual(['reply {"ok":true}', "output a0", 'reply {"ok":true}', "output b0", 'reply {"ok":true}', "output c0"]);
  await expect.poll(() => writes.length, { timeout: 5000 }).toBe(3);
  expect(writes).toEqual([1, 1, 1]);
});

it("many messages of one turn still arrive, all of them, in order", async () => {
  const { client, writes } = await loopback(200);
  const indexes: number[] = [];
  client.on("output", (message: { index: number }) => indexes.push(message.index));
  await new Promise((resolve) => client.emit("input", "x", resolve));
  await expect.poll(() => indexes.length, { timeout: 5000 }).toBe(200);
  expect(indexes).toEqual([...Array(200).keys()]);
  await expect.poll(() => writes.length, { timeout: 5000 }).toBe(1);
  expect(writes[0]).toBe(1);
});

it("a worker's output of many terminals, sent in one turn, leaves it in one write, whole and in order", async () => {
  const http = createServer();
  const server = new Server(http, { parser: WIRE_PARSER, transports: ["websocket"] });
  const received: number[] = [];
  server.on("connection", (socket: Socket) => socket.on("output", (message: { index: number }) => received.push(message.index)));
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const client = connect(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { transports: ["websocket"], parser: WIRE_PARSER, forceNew: true });
  coalesceClientWrites(client.io);
  closers.push(async () => {
    client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  await new Promise<void>((resolve) => client.once("connect", () => resolve()));
  const raw = (client.io.engine as unknown as { transport: { ws: { _socket: NetSocket } } }).transport.ws._socket;
  let writes = 0;
  for (const method of ["_write", "_writev"] as const) {
    const original = raw[method] as (...args: unknown[]) => void;
    raw[method] = ((...args: unknown[]) => {
      writes += 1;
      return original.apply(raw, args);
    }) as never;
  }
  for (let index = 0; index < 100; index++) client.emit("output", { data: Buffer.alloc(100, index), index });
  await expect.poll(() => received.length, { timeout: 5000 }).toBe(100);
  expect(received).toEqual([...Array(100).keys()]);
  expect(writes).toBe(1);
});
