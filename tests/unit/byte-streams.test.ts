/**
 * Byte streams between the server and a worker (protocol/byte-stream.ts), on real socket.io
 * over loopback: the server's WorkerStreams against the worker's serveDownload/serveUpload.
 * Bytes arrive whole and in order, a slow reader holds the sender back, either side can stop
 * the other, and a forged or broken peer gets a coded refusal, never a crash.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { Server, type Socket as ServerSocket } from "socket.io";
import { io as connect, type Socket as ClientSocket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { z } from "zod";
import { STREAM_CHUNK_BYTES, STREAM_WINDOW, StreamError, StreamId, StreamMessages } from "../../protocol/byte-stream";
import { failure, readRequest, replyOf, request, type ParsedRequestOf, type RequestContract, type SuccessOf } from "../../protocol/contract";
import { WIRE_PARSER } from "../../protocol/wire-parser";
import { WorkerErrorCode } from "../../protocol/worker-contract";
import { workerStreams } from "../../runtime-worker/worker-streams";
import { WorkerLink, workerRoom } from "../../server/workers/worker-link";
import { WorkerStreams } from "../../server/workers/worker-streams";
import { createLogger } from "../../common/logger";
import { until, untilSteady } from "../support/until";

const Failure = failure(WorkerErrorCode, "failed");
const Download = request("test:download", z.object({ streamId: StreamId, size: z.number().int(), failAt: z.number().int().optional() }), replyOf({}, Failure));
const Refused = request("test:refused", z.object({ streamId: StreamId }), replyOf({}, Failure));
const Upload = request(
  "test:upload",
  z.object({ streamId: StreamId, readAtMost: z.number().int().optional() }),
  replyOf({ bytes: z.number(), sha: z.string() }, Failure),
);

const WORKER_ID = "stream-test-worker";
const log = createLogger();
log.level = "silent";
let server: Server;
let streams: WorkerStreams;
let client: ClientSocket;
let serverSocket: ServerSocket;
/** What the worker's download sources did: bytes made, and whether they were destroyed. */
const sources: Array<{ produced: number; destroyed: boolean; expected: () => string }> = [];

/** Bytes made on demand, like a tar of a workspace: it is read only as fast as it is sent. */
function generated(size: number, failAt?: number) {
  const seed = randomBytes(64 * 1024);
  const record = { produced: 0, destroyed: false, expected: () => seedHash(seed, size) };
  sources.push(record);
  const readable = new Readable({
    highWaterMark: 64 * 1024,
    read() {
      if (failAt !== undefined && record.produced >= failAt) return this.destroy(new Error("the disk went away"));
      if (record.produced >= size) return void this.push(null);
      const piece = seed.subarray(0, Math.min(seed.byteLength, size - record.produced));
      record.produced += piece.byteLength;
      this.push(piece);
    },
    destroy(error, callback) {
      record.destroyed = true;
      callback(error);
    },
  });
  return { readable, expected: record.expected };
}

function seedHash(seed: Buffer, size: number) {
  const hash = createHash("sha256");
  for (let at = 0; at < size; at += seed.byteLength) hash.update(seed.subarray(0, Math.min(seed.byteLength, size - at)));
  return hash.digest("hex");
}

async function drain(readable: Readable) {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of readable) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).byteLength;
  }
  return { bytes, sha: hash.digest("hex") };
}

/** The worker's request wrapper, as runtime-worker/worker.ts's serve does it (read, run, answer with a code). */
function serveOn(socket: ClientSocket) {
  return <C extends RequestContract>(contract: C, handler: (input: ParsedRequestOf<C>) => Promise<SuccessOf<C> | void>) => {
    socket.on(contract.event, async (payload: unknown, ack: (reply: unknown) => void) => {
      const parsed = readRequest(contract, payload);
      if (!parsed.ok) return ack({ ok: false, code: "invalid_request", error: parsed.issues });
      try {
        ack({ ok: true, ...((await handler(parsed.data)) ?? {}) });
      } catch (error) {
        ack({ ok: false, code: "failed", error: (error as Error).message });
      }
    });
  };
}

async function connectWorker() {
  const url = `http://127.0.0.1:${(server.httpServer.address() as AddressInfo).port}/worker`;
  client = connect(url, { parser: WIRE_PARSER, transports: ["websocket"], reconnection: false });
  const serving = workerStreams(client, serveOn(client), () => undefined, log);
  serving.serveDownload(Download, async ({ size, failAt }) => generated(size, failAt).readable);
  serving.serveDownload(Refused, async () => {
    throw new Error("no such workspace here");
  });
  serving.serveUpload(Upload, async ({ readAtMost }, source) => {
    if (readAtMost === 0) return { bytes: 0, sha: "" };
    const hash = createHash("sha256");
    let bytes = 0;
    for await (const chunk of source) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).byteLength;
      if (readAtMost !== undefined && bytes >= readAtMost) throw new Error("that is more than a workspace may hold");
    }
    return { bytes, sha: hash.digest("hex") };
  });
  await until("the worker connects", () => client.connected && serverSocket?.connected);
}

beforeAll(async () => {
  const http = createServer();
  server = new Server(http, { parser: WIRE_PARSER });
  const namespace = server.of("/worker");
  streams = new WorkerStreams(new WorkerLink(namespace));
  namespace.on("connection", async (socket) => {
    await socket.join(workerRoom(WORKER_ID));
    streams.attach(socket);
    serverSocket = socket;
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  await connectWorker();
});
afterEach(async () => {
  if (!client.connected) await connectWorker();
});
afterAll(async () => {
  client.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

it("a download arrives whole and in order, across many chunks", async () => {
  const size = 5 * 1024 * 1024 + 12_345;
  const before = sources.length;
  const readable = await streams.download(WORKER_ID, Download, { size });
  const got = await drain(readable);
  expect(got.bytes).toBe(size);
  expect(got.sha).toBe(sources[before]!.expected());
});

it("a reader that stops reading holds the worker back: the source is not read ahead without bound", async () => {
  const size = 32 * 1024 * 1024;
  const before = sources.length;
  const readable = await streams.download(WORKER_ID, Download, { size });
  readable.pause();
  const source = () => sources[before]!;
  // Let the sender fill whatever it may, then check it stopped far short of the whole.
  const produced = await untilSteady("the worker stops sending while nobody reads", () => source().produced);
  // The window, the receiver's buffer and the sources' own: far short of the 32 MiB asked for.
  expect(produced).toBeLessThan(STREAM_WINDOW * STREAM_CHUNK_BYTES + 4 * STREAM_CHUNK_BYTES + 1024 * 1024);
  readable.resume();
  expect((await drain(readable)).bytes).toBe(size);
});

it("destroying the download cancels the worker's side: its source is closed", async () => {
  const before = sources.length;
  const readable = await streams.download(WORKER_ID, Download, { size: 64 * 1024 * 1024 });
  await new Promise((resolve) => readable.once("data", resolve));
  readable.destroy();
  await until("the worker's source is destroyed", () => sources[before]!.destroyed);
  expect(sources[before]!.produced).toBeLessThan(64 * 1024 * 1024);
});

it("a worker that refuses the download rejects with its code and words", async () => {
  const refused = await streams.download(WORKER_ID, Refused, {}).catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(StreamError);
  expect(refused).toMatchObject({ code: "failed", message: "no such workspace here" });
});

it("a source that fails mid-way fails the download with a code, not a short file", async () => {
  const readable = await streams.download(WORKER_ID, Download, { size: 8 * 1024 * 1024, failAt: 2 * 1024 * 1024 });
  const failed = await drain(readable).catch((error: unknown) => error);
  expect(failed).toBeInstanceOf(StreamError);
  expect((failed as StreamError).code).toBe("failed");
  expect((failed as StreamError).message).toMatch(/the disk went away/);
});

it("an upload reaches the worker whole, and the reply is the worker's", async () => {
  const size = 3 * 1024 * 1024 + 7;
  const { readable, expected } = generated(size);
  const reply = await streams.upload(WORKER_ID, Upload, {}, readable);
  expect(reply).toEqual({ ok: true, bytes: size, sha: expected() });
});

it("a worker that answers an upload without reading it refuses the rest, and lives on", async () => {
  const before = sources.length;
  const { readable } = generated(16 * 1024 * 1024);
  const reply = await streams.upload(WORKER_ID, Upload, { readAtMost: 0 }, readable);
  expect(reply).toMatchObject({ ok: true, bytes: 0 });
  await until("the server's source is destroyed", () => sources[before]!.destroyed);
  const again = generated(1000);
  expect(await streams.upload(WORKER_ID, Upload, {}, again.readable)).toEqual({ ok: true, bytes: 1000, sha: again.expected() });
});

it("a worker that stops reading an upload ends it: the reply says why and the sender stops", async () => {
  const before = sources.length;
  const { readable } = generated(64 * 1024 * 1024);
  const reply = await streams.upload(WORKER_ID, Upload, { readAtMost: 1024 * 1024 }, readable);
  expect(reply).toMatchObject({ ok: false, code: "failed", error: "that is more than a workspace may hold" });
  await until("the server's source is destroyed", () => sources[before]!.destroyed);
  expect(sources[before]!.produced).toBeLessThan(16 * 1024 * 1024);
});

it("a worker that drops mid-download fails the download with worker_unavailable", async () => {
  const readable = await streams.download(WORKER_ID, Download, { size: 64 * 1024 * 1024 });
  readable.pause();
  await until("some bytes arrived", () => readable.readableLength > 0);
  client.disconnect();
  const failed = await drain(readable).catch((error: unknown) => error);
  expect(failed).toMatchObject({ code: "worker_unavailable" });
});

it("a worker not connected here cannot stream", async () => {
  await expect(streams.download("another-worker", Download, { size: 1 })).rejects.toMatchObject({ code: "worker_unavailable" });
});

it("chunks for a stream nobody opened, or that do not parse, are refused with codes and the link goes on", async () => {
  const forged = await client.timeout(5000).emitWithAck(StreamMessages.chunk.event, { streamId: "aaaaaaaaaaaaaaaa", seq: 0, data: Buffer.from("x") });
  expect(forged).toMatchObject({ ok: false, code: "unknown_stream" });
  const oversized = await client
    .timeout(5000)
    .emitWithAck(StreamMessages.chunk.event, { streamId: "aaaaaaaaaaaaaaaa", seq: 0, data: Buffer.alloc(STREAM_CHUNK_BYTES + 1) });
  expect(oversized).toMatchObject({ ok: false, code: "failed" });
  const garbage = await client.timeout(5000).emitWithAck(StreamMessages.chunk.event, "not a chunk");
  expect(garbage).toMatchObject({ ok: false, code: "failed" });
  client.emit(StreamMessages.end.event, { streamId: 12 });
  // Still serving.
  const readable = await streams.download(WORKER_ID, Download, { size: 1000 });
  expect((await drain(readable)).bytes).toBe(1000);
});
