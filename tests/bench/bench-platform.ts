/**
 * A whole platform in this process for the benchmark (after tests/support/platform-harness.ts,
 * without vitest): the HTTP/tRPC/socket.io server with the Redis adapter, and one worker
 * driving the real Docker engine. Students are played by fetch and socket.io clients.
 */
import { randomBytes } from "node:crypto";
import Docker from "dockerode";
import { io, type Socket } from "socket.io-client";
import { rootLogger } from "../../common/logger";
import { BrowserToServer, ServerToBrowser, TERMINAL_NAMESPACE } from "../../protocol/browser-messages";
import { type AttachReply, type BrowserOutput, type BrowserRepaint } from "../../protocol/browser-contract";
import type { EnvironmentSpec } from "../../protocol/worker-messages";
import { SESSION_COOKIE } from "../../server/auth/cookies";
import { createSession, generateSessionToken } from "../../server/auth/sessions";
import { createDatabase, type Database } from "../../server/database/client";
import { seedDemoData } from "../../server/database/seed";
import { createShellroomServer, type ShellroomServer } from "../../server/http-server";
import { workerTokenFor } from "../../server/workers/worker-credentials";
import { DockerDriver } from "../../runtime-worker/docker/docker-driver";
import type { WarmPool } from "../../runtime-worker/pool/warm-pool";
import { startWorker, type RunningWorker } from "../../runtime-worker/worker";
import type { RuntimeDriver } from "../../runtime-worker/driver";
import { percentile } from "./measure";
import type { TerminalLink } from "./terminal-link";

export const TERMINAL_SIZE = { cols: 120, rows: 32 };

/**
 * The worker's handshake capacity: room for the 100 concurrently active terminals of (f)
 * (each its own environment of the demo lab's template: 512 MiB, 1 CPU) or a class burst
 * of 50, plus stragglers. The scheduler sums the templates' memory *limits* (cgroup
 * ceilings, not reservations: an idle bash shell uses a few MiB), so the claim is
 * 250 x 512 MiB, far above the host's real memory (100 x 512 MiB alone is 50 GiB).
 */
export const BENCH_WORKER_CAPACITY = { maxEnvironments: 250, memoryBytes: 128 * 1024 ** 3 };

/** Durations of the worker's calls into its runtime driver, by method (bench-side, no platform change). */
export interface DriverTimings {
  reset(): void;
  snapshot(): Record<string, { n: number; p50: number; p95: number; max: number }>;
}

/** The driver behind a proxy that times every call the worker makes (calls inside the driver are not counted). */
function timedDriver(driver: RuntimeDriver): { driver: RuntimeDriver; timings: DriverTimings } {
  let samples = new Map<string, number[]>();
  const record = (name: string, ms: number) => {
    const list = samples.get(name) ?? [];
    list.push(ms);
    samples.set(name, list);
  };
  const proxy = new Proxy(driver, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function" || typeof property !== "string") return value;
      return (...args: unknown[]) => {
        const began = performance.now();
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) return result.finally(() => record(property, performance.now() - began));
        record(property, performance.now() - began);
        return result;
      };
    },
  });
  return {
    driver: proxy,
    timings: {
      reset: () => {
        samples = new Map();
      },
      snapshot: () =>
        Object.fromEntries(
          [...samples].map(([name, list]) => [
            name,
            {
              n: list.length,
              p50: percentile(list, 50),
              p95: percentile(list, 95),
              max: Math.max(...list),
            },
          ]),
        ),
    },
  };
}

export interface PlatformTerminal extends TerminalLink {
  socket: Socket;
  environmentId: string;
  /** What this socket received for the terminal so far (output messages, bytes, repaints). */
  stats(): TerminalStats;
}

export interface TerminalStats {
  messages: number;
  bytes: number;
  /** terminal:repaint messages: the server found this socket behind by more than its window. */
  repaints: number;
  /** The end offset of the last output (or repaint) received. */
  offset: number;
}

interface TerminalState extends TerminalStats {
  listeners: Set<(chunk: Uint8Array) => void>;
  /** After a repaint: output below this offset is already on the screen (dropped, as the page does). */
  shownUpTo: number;
}

interface SocketState {
  acks: boolean;
  terminals: Map<string, TerminalState>;
}

const socketStates = new WeakMap<Socket, SocketState>();
const terminalKey = (environmentId: string, terminalId: string) => `${environmentId}/${terminalId}`;

function terminalState(state: SocketState, environmentId: string, terminalId: string): TerminalState {
  const key = terminalKey(environmentId, terminalId);
  let terminal = state.terminals.get(key);
  if (!terminal) {
    terminal = { listeners: new Set(), messages: 0, bytes: 0, repaints: 0, offset: 0, shownUpTo: 0 };
    state.terminals.set(key, terminal);
  }
  return terminal;
}

/**
 * A /terminal socket as a page opens it. Every output message is handed to the bench's
 * listeners for its terminal and then, with `acks` (the default), acknowledged as a page
 * does once xterm has parsed it: terminal:ack with offset = message.offset + its length
 * (the page batches its acks every 64 KiB or 100 ms; this client acks every message).
 * `acks: false` plays a stalled browser: the server stops sending to it once
 * BROWSER_OUTPUT_WINDOW bytes are un-acked. A repaint's screen reaches the listeners
 * as output, and output the repaint already covers is dropped.
 */
export function openTerminalSocket(url: string, cookie: string, options: { acks?: boolean } = {}): Promise<Socket> {
  const socket = io(`${url}${TERMINAL_NAMESPACE}`, {
    forceNew: true,
    transports: ["websocket"],
    reconnection: false,
    extraHeaders: { cookie, origin: url },
  });
  const state: SocketState = { acks: options.acks ?? true, terminals: new Map() };
  socketStates.set(socket, state);
  socket.on(ServerToBrowser.output, (message: BrowserOutput) => {
    const terminal = terminalState(state, message.environmentId, message.terminalId);
    let data = toBytes(message.data);
    const end = message.offset + data.byteLength;
    terminal.messages += 1;
    terminal.bytes += data.byteLength;
    terminal.offset = Math.max(terminal.offset, end);
    if (message.offset < terminal.shownUpTo) data = data.subarray(Math.min(data.byteLength, terminal.shownUpTo - message.offset));
    if (data.byteLength) for (const listener of [...terminal.listeners]) listener(data);
    if (state.acks) socket.emit(BrowserToServer.ack, { environmentId: message.environmentId, terminalId: message.terminalId, offset: end });
  });
  socket.on(ServerToBrowser.repaint, (message: BrowserRepaint) => {
    const terminal = terminalState(state, message.environmentId, message.terminalId);
    terminal.repaints += 1;
    terminal.shownUpTo = Math.max(terminal.shownUpTo, message.offset);
    terminal.offset = Math.max(terminal.offset, message.offset);
    const screen = Buffer.from(message.screen, "utf8");
    for (const listener of [...terminal.listeners]) listener(screen);
  });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

/** Sends terminal:attach; resolves with the reply (listen for output before calling). */
export function attachTerminal(socket: Socket, environmentId: string, timeoutMs = 30_000, terminalId = "main"): Promise<AttachReply> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`terminal:attach got no reply within ${timeoutMs / 1000} s`)), timeoutMs);
    socket.emit(BrowserToServer.attach, { environmentId, terminalId, ...TERMINAL_SIZE }, (reply: AttachReply) => {
      clearTimeout(timer);
      resolve(reply);
    });
  });
}

/** One terminal of a socket opened with openTerminalSocket, as a TerminalLink. */
export function terminalLink(socket: Socket, environmentId: string, terminalId = "main"): PlatformTerminal {
  const state = socketStates.get(socket);
  if (!state) throw new Error("terminalLink needs a socket from openTerminalSocket");
  const terminal = terminalState(state, environmentId, terminalId);
  return {
    socket,
    environmentId,
    write: (data) => {
      socket.emit(BrowserToServer.input, { environmentId, terminalId, data });
    },
    onData(listener) {
      terminal.listeners.add(listener);
      return () => {
        terminal.listeners.delete(listener);
      };
    },
    stats: () => ({ messages: terminal.messages, bytes: terminal.bytes, repaints: terminal.repaints, offset: terminal.offset }),
  };
}

export interface BenchPlatform {
  url: string;
  db: Database;
  workerId: string;
  courseId: string;
  /** The seeded demo lab (default template, no warm pool). */
  labId: string;
  /** The worker's warm pool (its `size` and `filled()` say when a pool is ready). */
  pool: WarmPool;
  /** Timings of the worker's runtime driver calls since the last reset. */
  driverTimings: DriverTimings;
  /** The container spec the lab's template gives: the raw baseline uses the same. */
  specFor(environmentId: string, ownerId: string): Promise<EnvironmentSpec>;
  /** A new user, course membership and session; returns the Cookie header value. */
  newStudent(): Promise<{ userId: string; cookie: string }>;
  /** Signs in through tRPC auth.signIn; returns the Cookie header value. */
  signIn(email: string, password: string): Promise<string>;
  /** Any tRPC mutation over HTTP, as the browser sends it; throws with the error text. */
  mutate<T>(cookie: string, procedure: string, input: unknown): Promise<T>;
  /** tRPC environment.startForLab, as the lab page calls it (the demo lab unless told); a QUEUED reply is waited out. */
  startEnvironment(cookie: string, labId?: string, onQueued?: (reply: QueuedReply) => void): Promise<string>;
  /** A connected /terminal socket, as the browser opens it; it acks every output message (see openTerminalSocket). */
  connect(cookie: string): Promise<Socket>;
  /** Sends terminal:attach; resolves with the reply (listen for output before calling). */
  attach(socket: Socket, environmentId: string, timeoutMs?: number): Promise<AttachReply>;
  /** The socket as a TerminalLink for one environment's main terminal. */
  terminal(socket: Socket, environmentId: string): PlatformTerminal;
  /** Ends the environment's shells and removes its container and volume (through the worker). */
  removeEnvironment(environmentId: string): Promise<void>;
  /** Removes every environment the database places on this worker and not yet deleted; returns how many. */
  removeAllEnvironments(concurrency?: number): Promise<number>;
  close(): Promise<void>;
}

/** Any tRPC mutation over HTTP, as the browser sends it (with its Origin); throws with the error text. */
export async function trpcMutation<T>(url: string, headers: Record<string, string>, procedure: string, input: unknown): Promise<T> {
  const response = await fetch(`${url}/api/trpc/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: url, ...headers },
    body: JSON.stringify(input),
  });
  const text = await response.text();
  let body: { result?: { data?: T } } | undefined;
  try {
    body = JSON.parse(text);
  } catch {
    /* reported below */
  }
  if (!response.ok || !body?.result) throw new Error(`${procedure} failed (${response.status}): ${text.slice(0, 500)}`);
  return body.result.data as T;
}

/** The session cookie out of a response's Set-Cookie headers (undefined when it set none). */
export const sessionCookieOf = (response: Response) =>
  response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(";")[0]!)
    .find((cookie) => cookie.startsWith(`${SESSION_COOKIE}=`));

/** Signs in through tRPC auth.signIn; returns the Cookie header value. */
export async function signInOverHttp(url: string, email: string, password: string): Promise<string> {
  const response = await fetch(`${url}/api/trpc/auth.signIn`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: url },
    body: JSON.stringify({ email, password }),
  });
  const session = sessionCookieOf(response);
  if (!response.ok || !session) throw new Error(`auth.signIn failed (${response.status}): ${(await response.text()).slice(0, 500)}`);
  return session;
}

/** startForLab's answer when the admission queue holds the start: the page polls until it runs. */
export interface QueuedReply {
  state: "QUEUED";
  position?: number;
  estimateSeconds?: number;
}

/**
 * tRPC environment.startForLab until the environment runs, as the lab page does: a QUEUED
 * reply (the admission queue) is shown and asked again every second; RUNNING gives the id.
 */
export async function startForLabUntilRunning(
  call: (procedure: string, input: unknown) => Promise<unknown>,
  labId: string,
  onQueued?: (reply: QueuedReply) => void,
  timeoutMs = 15 * 60_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = (await call("environment.startForLab", { labId })) as { state?: unknown; environmentId?: unknown } | undefined;
    if (result?.state === "QUEUED") {
      onQueued?.(result as QueuedReply);
      if (Date.now() > deadline) throw new Error(`startForLab: still queued after ${timeoutMs / 1000} s: ${JSON.stringify(result).slice(0, 200)}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      continue;
    }
    if (typeof result?.environmentId !== "string") throw new Error(`startForLab returned no environment id: ${JSON.stringify(result).slice(0, 300)}`);
    return result.environmentId;
  }
}

const toBytes = (data: unknown): Uint8Array => (data instanceof Uint8Array ? data : new Uint8Array(data as ArrayBuffer));

export async function startBenchPlatform(options: { databaseUrl: string; redisUrl?: string }): Promise<BenchPlatform> {
  const db = createDatabase(options.databaseUrl);
  const { courseId, labId } = await seedDemoData(db);
  const suffix = randomBytes(4).toString("hex");
  const log = rootLogger.child({ bench: suffix });
  log.level = process.env.BENCH_LOG_LEVEL ?? "error";

  const workerSecret = randomBytes(32).toString("hex");
  const server: ShellroomServer = await createShellroomServer({
    db,
    workerSecret,
    log,
    redisUrl: options.redisUrl,
    redisKeyPrefix: `shellroom-bench-${suffix}`,
  });
  const url = await server.listen(0, "127.0.0.1");

  const workerId = `bench-${suffix}`;
  const driver = new DockerDriver(new Docker(), workerId);
  const timed = timedDriver(driver);
  const worker: RunningWorker = startWorker({
    serverUrl: url,
    handshake: { token: workerTokenFor(workerSecret, workerId), workerId, name: workerId, capacity: BENCH_WORKER_CAPACITY },
    driver: timed.driver,
    log, // the production heartbeat interval (5 s)
    // BENCH_START_CONCURRENCY compares the worker's start concurrency against its default.
    startConcurrency: Number(process.env.BENCH_START_CONCURRENCY) || undefined,
  });
  await worker.connected();
  for (let attempt = 0; attempt < 50 && !(await db.worker.findUnique({ where: { id: workerId } })); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const sockets = new Set<Socket>();

  const mutate = <T>(cookie: string, procedure: string, input: unknown) => trpcMutation<T>(url, { cookie }, procedure, input);

  async function removeEnvironment(environmentId: string) {
    await worker.environments.remove(environmentId, true);
    // As a student's delete does: the row goes, so the next start is a new environment.
    await db.environment.delete({ where: { id: environmentId } }).catch(() => undefined);
  }

  return {
    url,
    db,
    workerId,
    courseId,
    labId,
    pool: worker.pool,
    driverTimings: timed.timings,
    mutate,

    signIn: (email, password) => signInOverHttp(url, email, password),

    async specFor(environmentId, ownerId) {
      const lab = await db.lab.findUniqueOrThrow({ where: { id: labId }, include: { template: true } });
      const template = lab.template;
      const MB = 1024 * 1024;
      return {
        environmentId,
        ownerId,
        image: template.image,
        network: "none",
        workingDir: template.workingDir,
        user: template.user,
        limits: { memoryBytes: template.memoryMb * MB, nanoCpus: template.cpuMillis * 1_000_000, pidsLimit: template.pidsLimit },
      };
    },

    async newStudent() {
      const user = await db.user.create({ data: { displayName: "Bench Student", role: "STUDENT" } });
      await db.courseMember.create({ data: { courseId, userId: user.id, role: "STUDENT" } });
      const token = generateSessionToken();
      await createSession(db, token, user.id);
      return { userId: user.id, cookie: `${SESSION_COOKIE}=${token}` };
    },

    startEnvironment: (cookie, forLab = labId, onQueued) => startForLabUntilRunning((procedure, input) => mutate(cookie, procedure, input), forLab, onQueued),

    async connect(cookie) {
      const socket = await openTerminalSocket(url, cookie);
      sockets.add(socket);
      return socket;
    },

    attach: (socket, environmentId, timeoutMs) => attachTerminal(socket, environmentId, timeoutMs),

    terminal: (socket, environmentId) => terminalLink(socket, environmentId),

    removeEnvironment,

    async removeAllEnvironments(concurrency = 8) {
      const environments = await db.environment.findMany({ where: { workerId, state: { not: "DELETED" } }, select: { id: true } });
      const queue = environments.map((environment) => environment.id);
      const removeNext = async (): Promise<void> => {
        const id = queue.shift();
        if (!id) return;
        await removeEnvironment(id);
        return removeNext();
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, removeNext));
      return environments.length;
    },

    async close() {
      for (const socket of sockets) socket.close();
      const environments = await db.environment.findMany({ where: { workerId } });
      // No pool may grow after this: empty it and let a creation under way finish first.
      await worker.pool.configure({ pools: [] }).catch(() => undefined);
      await worker.pool.filled();
      await worker.close();
      for (const environment of environments) await driver.remove(environment.id, { removeVolume: true }).catch(() => undefined);
      await server.close();
      await db.$disconnect();
    },
  };
}
