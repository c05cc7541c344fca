/**
 * Workers with identity: each worker's token is bound to its id, one connection per id (the
 * first keeps its traffic), and a worker reports only on what is placed on it. The worker link
 * has its own message limit, far above a browser's.
 */
import Docker from "dockerode";
import { rootLogger } from "../../common/logger";
import { io, type Socket } from "socket.io-client";
import { afterAll, beforeAll, expect, it } from "vitest";
import { WORKER_ID_HEADER, WORKER_NAMESPACE, WORKER_SOCKET_PATH, WORKER_TOKEN_HEADER, WorkerToServer } from "../../protocol/worker-messages";
import { WorkerRequests } from "../../protocol/worker-contract";
import { DockerDriver } from "../../runtime-worker/docker/docker-driver";
import { startWorker, type RunningWorker } from "../../runtime-worker/worker";
import { attachAtPrompt, nextEvent, startHarness, waitForOutput, type Harness } from "../support/platform-harness";
import { WIRE_PARSER } from "../../protocol/wire-parser";

let harness: Harness;
const sockets: Socket[] = [];
const workers: RunningWorker[] = [];
/** No room for anything: the scheduler never places a test's environment on these workers. */
const capacity = { maxEnvironments: 1, memoryBytes: 1 };
const log = rootLogger.child({ test: "worker-identity" });
log.level = process.env.TEST_LOG_LEVEL ?? "warn";

beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => {
  for (const socket of sockets) socket.close();
  for (const worker of workers) await worker.close();
  await harness?.close();
});

/** A bare worker connection (no runtime behind it), as anyone holding these credentials could open. */
function workerConnection(workerId: string, token: string, headers: { workerId: string; token: string } = { workerId, token }, url = harness.url) {
  const socket = io(`${url}${WORKER_NAMESPACE}`, {
    path: WORKER_SOCKET_PATH,
    auth: { token, workerId, name: workerId, capacity },
    extraHeaders: { [WORKER_ID_HEADER]: headers.workerId, [WORKER_TOKEN_HEADER]: headers.token },
    transports: ["websocket"],
    parser: WIRE_PARSER,
    reconnection: false,
    forceNew: true,
  });
  sockets.push(socket);
  return socket;
}

/** Whether the server let the connection in, or its reason (code) for not. */
function admission(socket: Socket): Promise<{ connected: true } | { connected: false; code: unknown; message: string }> {
  return new Promise((resolve) => {
    socket.once("connect", () => resolve({ connected: true }));
    socket.once("connect_error", (error: Error & { data?: { code?: unknown } }) =>
      resolve({ connected: false, code: error.data?.code, message: error.message }),
    );
  });
}

/** A worker with a real runtime; `memoryBytes: 1` keeps the scheduler from placing anything on it. */
function extraWorker(workerId: string, token: string, memoryBytes = 1) {
  const worker = startWorker({
    serverUrl: harness.url,
    handshake: { token, workerId, name: workerId, capacity: { maxEnvironments: 4, memoryBytes } },
    driver: new DockerDriver(new Docker(), workerId),
    log,
    heartbeatMs: 1000,
  });
  workers.push(worker);
  return worker;
}

async function runningTerminal(name: string) {
  const student = await harness.newStudent(name);
  const started = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
  expect(started.status).toBe(200);
  const environmentId = started.body.result.data.environmentId as string;
  const socket = await harness.terminalSocket(student.cookie);
  await attachAtPrompt(socket, environmentId);
  return { environmentId, socket };
}

it("a worker with a token for another id is refused", async () => {
  const stranger = `stranger-${Date.now().toString(36)}`;
  // Another worker's (valid) token, presented for this id: refused before any message is read.
  const borrowed = workerConnection(stranger, harness.workerToken);
  expect(await admission(borrowed)).toMatchObject({ connected: false });
  // Headers that pass, but a handshake claiming the harness worker's id: refused by the namespace.
  const claiming = workerConnection(harness.workerId, harness.workerTokenFor(stranger), { workerId: stranger, token: harness.workerTokenFor(stranger) });
  expect(await admission(claiming)).toMatchObject({ connected: false, code: "WORKER_CREDENTIAL_INVALID" });
  // A worker process with the wrong token never registers.
  const refused = extraWorker(stranger, harness.workerTokenFor("someone-else"));
  await expect(refused.connected()).rejects.toThrow();
  expect(await harness.db.worker.findUnique({ where: { id: stranger } })).toBeNull();
  // The right token for the id is let in.
  const rightful = workerConnection(stranger, harness.workerTokenFor(stranger));
  expect(await admission(rightful)).toEqual({ connected: true });
  rightful.close();
  await expect.poll(() => harness.db.worker.findUnique({ where: { id: stranger } }).then((worker) => worker?.status), { timeout: 10_000 }).toBe("OFFLINE");
});

it("a second connection with a live worker's id is refused and the first keeps its traffic", { timeout: 60_000 }, async () => {
  const impostor = workerConnection(harness.workerId, harness.workerToken);
  const received: string[] = [];
  impostor.onAny((event: string) => received.push(event));
  expect(await admission(impostor)).toMatchObject({ connected: false, code: "WORKER_ID_IN_USE" });

  // The first connection still gets every request and keystroke.
  const { environmentId, socket } = await runningTerminal("Still Served");
  const echoed = waitForOutput(socket, /first-keeps-traffic/);
  socket.emit("terminal:input", { environmentId, terminalId: "main", data: "echo first-keeps-traffic\r" });
  await echoed;
  const listed = await harness.server.workers.request(harness.workerId, WorkerRequests.listEnvironments, {}, 10_000);
  expect(listed.ok).toBe(true);
  expect(received).toEqual([]);
  expect(harness.worker.socket.connected).toBe(true);
});

it("two connections with one worker id at once, on two server replicas: the first keeps it, the other is let go", { timeout: 60_000 }, async () => {
  const replica = await harness.startReplica();
  for (let round = 0; round < 3; round++) {
    const workerId = `twice-${round}-${Date.now().toString(36)}`;
    const token = harness.workerTokenFor(workerId);
    const pair = [workerConnection(workerId, token), workerConnection(workerId, token, { workerId, token }, replica.url)];
    await Promise.all(pair.map((socket) => admission(socket)));
    // However the admissions raced, exactly one connection stays.
    await expect.poll(() => pair.filter((socket) => socket.connected).length, { timeout: 10_000 }).toBe(1);
    for (const socket of pair) socket.close();
  }
});

it("a worker refused because its id is in use gets in by itself once the old connection is gone", { timeout: 60_000 }, async () => {
  const workerId = `restarting-${Date.now().toString(36)}`;
  const token = harness.workerTokenFor(workerId);
  const old = workerConnection(workerId, token);
  expect(await admission(old)).toEqual({ connected: true });
  const restarted = extraWorker(workerId, token);
  await expect.poll(() => harness.db.worker.findUnique({ where: { id: workerId } }).then((worker) => worker?.status), { timeout: 10_000 }).toBe("ONLINE");
  expect(restarted.socket.connected).toBe(false);
  old.close();
  await restarted.connected();
  expect(restarted.socket.connected).toBe(true);
});

it("a worker cannot push output into an environment placed on another worker", { timeout: 90_000 }, async () => {
  const otherId = `other-${Date.now().toString(36)}`;
  const other = extraWorker(otherId, harness.workerTokenFor(otherId));
  await other.connected();
  const { environmentId, socket } = await runningTerminal("Placed On A");
  expect((await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } })).workerId).toBe(harness.workerId);

  const seen: string[] = [];
  const decoder = new TextDecoder();
  socket.on("terminal:output", (message: { data: ArrayBuffer }) => seen.push(decoder.decode(new Uint8Array(message.data))));
  const tabs: unknown[] = [];
  socket.on("terminal:tabs", (message: unknown) => tabs.push(message));
  const exits: unknown[] = [];
  socket.on("terminal:exit", (message: unknown) => exits.push(message));

  // The other worker speaks for A's environment: output (acknowledged once handled), tabs, an exit.
  await new Promise<void>((resolve) =>
    other.socket.emit(
      WorkerToServer.terminalOutput,
      { environmentId, terminalId: "main", data: new TextEncoder().encode("INJECTED-BY-ANOTHER-WORKER\r\n"), offset: 1_000_000 },
      () => resolve(),
    ),
  );
  other.socket.emit(WorkerToServer.terminalTabs, { environmentId, terminalIds: ["main", "ghost"] });
  other.socket.emit(WorkerToServer.terminalExit, { environmentId, terminalId: "main", exitCode: 0 });
  await new Promise<void>((resolve) =>
    other.socket.emit(
      WorkerToServer.terminalOutput,
      { environmentId, terminalId: "main", data: new TextEncoder().encode("INJECTED-AGAIN\r\n"), offset: 2_000_000 },
      () => resolve(),
    ),
  );

  // A's own output still flows, and arrives after everything the other worker sent was handled.
  const marker = waitForOutput(socket, /from-the-right-worker/);
  socket.emit("terminal:input", { environmentId, terminalId: "main", data: "echo from-the-right-worker\r" });
  await marker;
  const opened = nextEvent(socket, "terminal:tabs", () => true, 20_000);
  socket.emit("terminal:attach", { environmentId, terminalId: "second", cols: 80, rows: 24 }, () => undefined);
  await opened;
  expect(seen.join("")).not.toContain("INJECTED");
  expect(JSON.stringify(tabs)).not.toContain("ghost");
  expect(exits).toEqual([]);
});

it("a worker message larger than a browser's message limit does not drop the worker link", { timeout: 60_000 }, async () => {
  const link = harness.worker.socket;
  const socketId = link.id;
  let dropped = 0;
  link.on("disconnect", () => dropped++);
  // 2 MiB of output in one message: twice socket.io's default limit, sixteen times a browser's.
  const big = new Uint8Array(2 * 1024 * 1024).fill(0x78);
  await link.timeout(20_000).emitWithAck(WorkerToServer.terminalOutput, { environmentId: "not-placed-here", terminalId: "main", data: big, offset: 0 });
  const listed = await harness.server.workers.request(harness.workerId, WorkerRequests.listEnvironments, {}, 10_000);
  expect(listed.ok).toBe(true);
  expect(dropped).toBe(0);
  expect(link.id).toBe(socketId);

  // A browser sending as much is cut off (only that browser).
  const student = await harness.newStudent("Big Sender");
  const browser = await harness.terminalSocket(student.cookie);
  const gone = new Promise<string>((resolve) => browser.once("disconnect", resolve));
  browser.emit("terminal:input", { environmentId: "x", terminalId: "main", data: "x".repeat(256 * 1024) });
  expect(await gone).toMatch(/transport close|transport error/);
  expect(link.connected).toBe(true);
});
