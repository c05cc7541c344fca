/**
 * The two socket hops' contracts, held to what they promise: every event has one, every
 * reply schema takes the reader's coded failure, and a peer that answers with garbage yields
 * `malformed_reply` (told with its event), never a crash or a hang. Real socket.io on loopback:
 * the server's WorkerLink against a "worker" that answers nonsense, and the browser's readers
 * against a "server" that does.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import { io as connect, type Socket as ClientSocket } from "socket.io-client";
import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readReplyTo } from "../../app/components/terminal-messages";
import { BrowserMessages, BrowserRequests, ServerPushes } from "../../protocol/browser-contract";
import { BrowserToServer, ServerToBrowser } from "../../protocol/browser-messages";
import { MALFORMED_REPLY, readReply, type RequestContract } from "../../protocol/contract";
import { ServerToWorkerMessages, WorkerMessages, WorkerRequests } from "../../protocol/worker-contract";
import { ServerToWorker, WorkerToServer } from "../../protocol/worker-messages";
import { WorkerLink, workerRoom } from "../../server/workers/worker-link";
import { WIRE_PARSER } from "../../protocol/wire-parser";

/** Replies no contract accepts: wrong types, a failure without words, not even an object. */
const GARBAGE: unknown[] = [{ ok: "yes" }, { ok: false }, { ok: false, code: "failed", error: 7 }, "done", null, [1, 2, 3]];

/** The garbage for one contract: also a bare success, where its success has fields of its own. */
const garbageFor = (contract: RequestContract) => (contract.reply.safeParse({ ok: true }).success ? GARBAGE : [...GARBAGE, { ok: true }]);

const eventsOf = (table: Record<string, { event: string }>) => Object.values(table).map((contract) => contract.event);

describe("every socket event has a contract", () => {
  it("server -> worker requests and worker -> server messages", () => {
    expect([...eventsOf(WorkerRequests), ...eventsOf(ServerToWorkerMessages)].sort()).toEqual(Object.values(ServerToWorker).sort());
    expect(eventsOf(WorkerMessages).sort()).toEqual(Object.values(WorkerToServer).sort());
  });

  it("browser -> server requests and server -> browser pushes", () => {
    expect([...eventsOf(BrowserRequests), ...eventsOf(BrowserMessages)].sort()).toEqual(Object.values(BrowserToServer).sort());
    expect(eventsOf(ServerPushes).sort()).toEqual(Object.values(ServerToBrowser).sort());
  });

  it("each reply schema takes the reader's coded failure (what readReply makes of garbage)", () => {
    const contracts: RequestContract[] = [...Object.values(WorkerRequests), ...Object.values(BrowserRequests)];
    for (const contract of contracts) {
      expect(contract.reply.safeParse({ ok: false, code: MALFORMED_REPLY, error: "x" })).toMatchObject({ success: true, data: { code: MALFORMED_REPLY } });
      // And a failure without a code (an older peer) still reads, as "failed".
      expect(contract.reply.safeParse({ ok: false, error: "x" })).toMatchObject({ success: true, data: { code: "failed" } });
    }
  });
});

/** A socket.io server on loopback with one namespace; `answer` replies to every event. */
async function loopback(namespace: string, onConnection: (socket: import("socket.io").Socket) => void) {
  const http: HttpServer = createServer();
  const server = new Server(http, { parser: WIRE_PARSER });
  server.of(namespace).on("connection", onConnection);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}${namespace}`;
  return { server, namespace: server.of(namespace), url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const connected = (socket: ClientSocket) =>
  new Promise<void>((resolve, reject) => (socket.connected ? resolve() : (socket.once("connect", () => resolve()), socket.once("connect_error", reject))));

describe("the server reading a worker's malformed replies", () => {
  let hop: Awaited<ReturnType<typeof loopback>>;
  let worker: ClientSocket;
  let garbage: unknown = null;
  const reported: string[] = [];
  let link: WorkerLink;

  beforeAll(async () => {
    hop = await loopback("/worker", (socket) => void socket.join(workerRoom("w1")));
    link = new WorkerLink(hop.namespace, (event) => reported.push(event));
    worker = connect(hop.url, { transports: ["websocket"], parser: WIRE_PARSER });
    // The "worker" answers every request with whatever garbage the test set.
    worker.onAny((...args: unknown[]) => {
      const ack = args.at(-1);
      if (typeof ack === "function") (ack as (reply: unknown) => void)(garbage);
    });
    await connected(worker);
    // The server side joined the room on connection: wait until the link can see it.
    while (!hop.namespace.adapter.rooms.get(workerRoom("w1"))?.size) await new Promise((resolve) => setImmediate(resolve));
  });
  afterAll(async () => {
    worker?.close();
    await hop?.close();
  });

  it.each(Object.entries(WorkerRequests))("%s: a coded malformed_reply, reported with its event", async (_name, contract) => {
    for (const reply of garbageFor(contract)) {
      garbage = reply;
      reported.length = 0;
      const answer = await link.request("w1", contract as RequestContract, {}, 5000);
      expect(answer).toMatchObject({ ok: false, code: MALFORMED_REPLY, error: expect.stringContaining(contract.event) });
      expect(reported).toEqual([contract.event]);
    }
  });

  it("the keystroke path (input answered in its own message, not acknowledged) reads its answer the same way", async () => {
    const answerAlone = (payload: { inputId?: number }) =>
      worker.emit(WorkerToServer.inputsAnswered, { answers: [{ inputId: payload.inputId, reply: garbage }] });
    worker.on(ServerToWorker.terminalInput, answerAlone);
    garbage = { ok: 1 };
    reported.length = 0;
    expect(await link.input("w1", { environmentId: "e1", terminalId: "main", data: "x" }, 5000)).toMatchObject({ ok: false, code: MALFORMED_REPLY });
    expect(reported).toEqual([WorkerToServer.inputsAnswered]);
    // A well-formed answer still reads as itself afterwards.
    garbage = { ok: true };
    expect(await link.input("w1", { environmentId: "e1", terminalId: "main", data: "x" }, 5000)).toEqual({ ok: true });
    worker.off(ServerToWorker.terminalInput, answerAlone);
  });
});

describe("the browser reading the server's malformed replies", () => {
  let hop: Awaited<ReturnType<typeof loopback>>;
  let browser: ClientSocket;
  let garbage: unknown = null;

  beforeAll(async () => {
    hop = await loopback("/terminal", (socket) =>
      socket.onAny((...args: unknown[]) => {
        const ack = args.at(-1);
        if (typeof ack === "function") (ack as (reply: unknown) => void)(garbage);
      }),
    );
    browser = connect(hop.url, { transports: ["websocket"], parser: WIRE_PARSER });
    await connected(browser);
  });
  afterAll(async () => {
    browser?.close();
    await hop?.close();
  });

  it.each(Object.entries(BrowserRequests))("%s: a coded malformed_reply", async (_name, contract) => {
    const warnings: unknown[] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => void warnings.push(args[0]);
    try {
      for (const reply of garbageFor(contract)) {
        garbage = reply;
        const raw: unknown = await browser.timeout(5000).emitWithAck(contract.event, {});
        expect(readReplyTo(contract, raw)).toMatchObject({ ok: false, code: MALFORMED_REPLY });
      }
    } finally {
      console.warn = warn;
    }
    // Told once (a minute's worth of the same event's garbage is one line), with the event.
    expect(warnings).toEqual([expect.stringContaining(contract.event)]);
  });
});

describe("readReply on its own", () => {
  it("passes a well-formed reply through untouched and reads a missing acknowledgement as malformed", () => {
    const reported: string[] = [];
    const report = (event: string) => void reported.push(event);
    expect(readReply(WorkerRequests.listTerminals, { ok: true, terminalIds: ["main", "t-1"] }, report)).toEqual({ ok: true, terminalIds: ["main", "t-1"] });
    expect(readReply(WorkerRequests.listTerminals, undefined, report)).toMatchObject({ ok: false, code: MALFORMED_REPLY });
    expect(reported).toEqual([WorkerRequests.listTerminals.event]);
  });
});

describe("a hostile frame on the wire", () => {
  it("closes only the connection that sent it; the server and other connections go on", async () => {
    const hop = await loopback("/terminal", (socket) =>
      socket.on("ping-me", (ack: unknown) => {
        if (typeof ack === "function") (ack as (reply: unknown) => void)({ ok: true });
      }),
    );
    const honest = connect(hop.url, { transports: ["websocket"], parser: WIRE_PARSER });
    await connected(honest);
    const port = new URL(hop.url).port;
    try {
      // Engine.io message frames whose MessagePack claims far more than they carry (an array of
      // 2^32-1 items, a 4 GiB string), 100,000 arrays nested in each other (a parser that
      // recurses runs out of stack), then bytes that are no MessagePack at all.
      const hostile = [
        Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]),
        Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x41]),
        Buffer.alloc(100_000, 0x91),
        Buffer.from([0xc1, 0xc1, 0xc1]),
      ];
      for (const payload of hostile) {
        const raw = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
        const closed = new Promise<void>((resolve) => raw.once("close", () => resolve()));
        await new Promise<void>((resolve, reject) => raw.once("message", () => resolve()).once("error", reject));
        raw.send(Buffer.concat([Buffer.from([4]), payload]));
        await closed;
      }
      // The honest client is still served.
      expect(await honest.timeout(5000).emitWithAck("ping-me")).toEqual({ ok: true });
    } finally {
      honest.close();
      await hop.close();
    }
  });
});
