/**
 * A whole platform for one integration test file, built from the real parts: its own
 * database (cloned from the seeded template), a server with the Redis adapter, and a
 * worker driving the real Docker engine. Browsers are played by socket.io clients and
 * fetch, speaking the same protocol a page does.
 */
import { randomBytes } from "node:crypto";
import net from "node:net";
import Docker from "dockerode";
import pg from "pg";
import { io, type Socket } from "socket.io-client";
import { inject } from "vitest";
import { rootLogger, type Logger } from "../../common/logger";
import { TERMINAL_NAMESPACE } from "../../protocol/browser-messages";
import { createSession, generateSessionToken } from "../../server/auth/sessions";
import { SESSION_COOKIE } from "../../server/auth/cookies";
import { createDatabase, type Database } from "../../server/database/client";
import { DEMO_COURSE_SLUG, DEMO_LAB_SLUG } from "../../server/database/seed";
import { createShellroomServer, type ShellroomServer, type ShellroomServerOptions } from "../../server/http-server";
import { workerTokenFor } from "../../server/workers/worker-credentials";
import { LABEL_WORKER } from "../../runtime-worker/docker/container-config";
import { DockerDriver } from "../../runtime-worker/docker/docker-driver";
import { WorkspaceVolumes } from "../../runtime-worker/docker/workspace-volumes";
import { compileHolder } from "../../runtime-worker/holder/holder-volume";
import type { OutputBudgetOptions } from "../../runtime-worker/terminals/output-budget";
import { startWorker, type RunningWorker } from "../../runtime-worker/worker";
import type { WorkerHandshake } from "../../protocol/worker-messages";
import { WIRE_PARSER } from "../../protocol/wire-parser";

export interface Harness {
  url: string;
  /** The server's secret that workers' tokens are derived from. */
  workerSecret: string;
  /** The harness worker's own token (valid for `workerId` only). */
  workerToken: string;
  /** The token a worker with this id presents; for starting more workers in a test. */
  workerTokenFor(workerId: string): string;
  db: Database;
  labId: string;
  courseId: string;
  worker: RunningWorker;
  workerId: string;
  driver: DockerDriver;
  server: ShellroomServer;
  /** A new enrolled student with a live session; returns the Cookie header value. */
  newStudent(name?: string): Promise<{ userId: string; cookie: string }>;
  trpc(
    path: string,
    input: unknown,
    options?: { cookie?: string; method?: "GET" | "POST"; origin?: string | null; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  /** Signs in through the API with a password; returns the Cookie header value. */
  signIn(email: string, password: string): Promise<string>;
  /**
   * A browser's socket. Like a page, it acknowledges output as it "renders" it, unless
   * `acks: false` plays a browser that has stalled. `url` reaches another replica.
   */
  /** `listen` registers handlers before the connection opens (for what the server sends at once). */
  terminalSocket(cookie?: string, options?: { acks?: boolean; url?: string; listen?: (socket: Socket) => void }): Promise<Socket>;
  /** Stops the server and starts a new one on the same port (the worker reconnects by itself). */
  restartServer(): Promise<void>;
  /**
   * Accepts connections on `host` as well, on the same port (a worker host's side of its veth,
   * tests/support/worker-host.ts): for a host that joins after the harness started.
   */
  listenOn(host: string): Promise<void>;
  /** Another server replica on the same database and Redis channel (closed with the harness). */
  startReplica(): Promise<{ url: string; server: ShellroomServer }>;
  close(): Promise<void>;
}

/** A database of this test file's own, cloned from the migrated and seeded template. */
export async function cloneTestDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const serverUrl = inject("postgresServerUrl");
  const name = `shellroom_it_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${inject("templateDatabase")}`);
  await admin.end();
  return {
    name,
    url: serverUrl.replace(/\/[^/]*$/, `/${name}`),
    async drop() {
      const cleanup = new pg.Client({ connectionString: serverUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}

/** `server` adds server options (e.g. trusted proxies, a short session recheck). */
/** `worker` sets the harness worker's capacity (default 20 environments, 8 GiB) and memory floor. */
export async function startHarness(
  options: {
    redis?: boolean;
    server?: Pick<
      ShellroomServerOptions,
      | "trustedProxies"
      | "metricsToken"
      | "sessionRecheckMs"
      | "runaway"
      | "bulkConcurrency"
      | "prepareLeadMinutes"
      | "preparationIntervalMs"
      | "admissionQueue"
      | "exports"
      | "oidcProviders"
      | "smtp"
      | "webhookDelivery"
    >;
    worker?: { capacity?: WorkerHandshake["capacity"]; memoryFloorBytes?: number };
    /** Each terminal's output budget on the harness worker (the worker's default when unset). */
    terminalOutput?: OutputBudgetOptions;
    /** Where the server and worker log (a test that reads the log passes its own). */
    log?: Logger;
    /** The address the server listens on (default 127.0.0.1); a worker host's `serverAddress` lets that host reach it. */
    listenHost?: string;
  } = {},
): Promise<Harness> {
  const database = await cloneTestDatabase();
  const name = database.name;
  const db = createDatabase(database.url);

  const log = options.log ?? rootLogger.child({ test: name });
  if (!options.log) log.level = process.env.TEST_LOG_LEVEL ?? "warn";
  const workerSecret = randomBytes(32).toString("hex");
  const newServer = () =>
    createShellroomServer({
      db,
      workerSecret,
      log,
      redisUrl: options.redis === false ? undefined : inject("redisUrl"),
      // Each harness its own channel on the shared Redis, as separate deployments would be.
      redisKeyPrefix: `shellroom-test-${name}`,
      // Tests run the lifecycle sweep themselves, at the moments they choose.
      sweepIntervalMs: 0,
      ...options.server,
    });
  const server = await newServer();
  const listenHost = options.listenHost ?? "127.0.0.1";
  const url = await server.listen(0, listenHost);
  const replicas: ShellroomServer[] = [];
  const extraListeners: net.Server[] = [];

  const workerId = `it-${name.slice(-10)}`;
  const workerToken = workerTokenFor(workerSecret, workerId);
  const docker = new Docker();
  // Shells go through the PTY holder, as in production.
  const volumes = await WorkspaceVolumes.open(docker);
  const driver = new DockerDriver(docker, workerId, volumes, await compileHolder());
  const worker = startWorker({
    serverUrl: url,
    handshake: { token: workerToken, workerId, name: workerId, capacity: options.worker?.capacity ?? { maxEnvironments: 20, memoryBytes: 8 * 1024 ** 3 } },
    driver,
    log,
    heartbeatMs: 1000,
    memoryFloorBytes: options.worker?.memoryFloorBytes,
    terminalOutput: options.terminalOutput,
  });
  await worker.connected();
  // The worker is placeable once the server has recorded it.
  for (let attempt = 0; attempt < 50 && !(await db.worker.findUnique({ where: { id: workerId } })); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const course = await db.course.findUniqueOrThrow({ where: { slug: DEMO_COURSE_SLUG } });
  const lab = await db.lab.findUniqueOrThrow({ where: { courseId_slug: { courseId: course.id, slug: DEMO_LAB_SLUG } } });
  const sockets: Socket[] = [];

  const harness: Harness = {
    url,
    workerSecret,
    workerToken,
    workerTokenFor: (id) => workerTokenFor(workerSecret, id),
    db,
    worker,
    workerId,
    driver,
    server,
    labId: lab.id,
    courseId: course.id,

    async newStudent(displayName = "Test Student") {
      const user = await db.user.create({ data: { displayName, role: "STUDENT" } });
      await db.courseMember.create({ data: { courseId: course.id, userId: user.id, role: "STUDENT" } });
      const token = generateSessionToken();
      await createSession(db, token, user.id);
      return { userId: user.id, cookie: `${SESSION_COOKIE}=${token}` };
    },

    async trpc(path, input, { cookie, method = "POST", origin = url, headers: extra = {} } = {}) {
      const headers: Record<string, string> = { "content-type": "application/json", ...extra };
      if (cookie) headers.cookie = cookie;
      if (origin) headers.origin = origin;
      const response =
        method === "GET"
          ? await fetch(`${url}/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers })
          : await fetch(`${url}/api/trpc/${path}`, { method, headers, body: JSON.stringify(input) });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* not JSON: keep the text */
      }
      return { status: response.status, body, headers: response.headers };
    },

    async signIn(email, password) {
      const response = await harness.trpc("auth.signIn", { email, password });
      if (response.status !== 200) throw new Error(`sign-in failed: ${JSON.stringify(response.body)}`);
      return cookieFrom(response.headers);
    },

    terminalSocket(cookie, { acks = true, url: target = url, listen } = {}) {
      const socket = io(`${target}${TERMINAL_NAMESPACE}`, {
        transports: ["websocket"],
        parser: WIRE_PARSER,
        extraHeaders: { ...(cookie ? { cookie } : {}), origin: target },
        reconnection: false,
        forceNew: true,
      });
      sockets.push(socket);
      listen?.(socket);
      if (acks) {
        socket.on("terminal:output", (message: { environmentId: string; terminalId: string; data: ArrayBuffer; offset: number }) => {
          socket.emit("terminal:ack", {
            environmentId: message.environmentId,
            terminalId: message.terminalId,
            offset: message.offset + message.data.byteLength,
          });
        });
      }
      return new Promise((resolve, reject) => {
        socket.once("connect", () => resolve(socket));
        socket.once("connect_error", reject);
      });
    },

    async restartServer() {
      const port = Number(new URL(url).port);
      await harness.server.close();
      harness.server = await newServer();
      await harness.server.listen(port, listenHost);
    },

    async listenOn(host) {
      // Connections accepted here are handed to whichever server is current (it survives restartServer).
      const listener = net.createServer((socket) => harness.server.httpServer.emit("connection", socket));
      await new Promise<void>((resolve, reject) => {
        listener.once("error", reject);
        listener.listen(Number(new URL(url).port), host, () => resolve());
      });
      extraListeners.push(listener);
    },

    async startReplica() {
      const replica = await newServer();
      replicas.push(replica);
      return { url: await replica.listen(0, listenHost), server: replica };
    },

    async close() {
      for (const socket of sockets) socket.close();
      const environments = await db.environment.findMany({ where: { workerId } });
      await worker.close();
      for (const environment of environments) {
        await driver.remove(environment.id, { removeVolume: true, volumeName: environment.volumeName }).catch(() => undefined);
      }
      for (const pooled of await driver.listPooled()) await driver.removePooled(pooled.slotId).catch(() => undefined);
      // Whatever else this worker made (a workspace whose environment row is gone or was never placed): by its label.
      const { Volumes: left } = await docker.listVolumes({ filters: { label: [`${LABEL_WORKER}=${workerId}`] } });
      for (const volume of left ?? []) await volumes.remove(volume.Name).catch(() => undefined);
      for (const replica of replicas) await replica.close();
      for (const listener of extraListeners) listener.close();
      await harness.server.close();
      await db.$disconnect();
      await database.drop();
    },
  };
  return harness;
}

/** The session cookie a response set, as a Cookie header value. */
export function cookieFrom(headers: Headers): string {
  const match = /shellroom_session=([a-z2-7]+)/.exec(headers.get("set-cookie") ?? "");
  if (!match) throw new Error("the response set no session cookie");
  return `shellroom_session=${match[1]}`;
}

/**
 * Attaches to a terminal and resolves once it shows a prompt, as the browser paints it: in the
 * attach's screen when the shell was at its prompt already (a shell the container started, or
 * a reattach), else in the output that follows.
 */
export async function attachAtPrompt(socket: Socket, environmentId: string, terminalId = "main", size = { cols: 80, rows: 24 }) {
  const printed = waitForOutput(socket, /\$ $/m, 60_000);
  const reply = await new Promise<{ ok: boolean; error?: string; screen?: string }>((resolve) =>
    socket.emit("terminal:attach", { environmentId, terminalId, ...size }, resolve),
  );
  if (!reply.ok) {
    printed.catch(() => undefined);
    throw new Error(`the attach was refused: ${reply.error ?? "no reason"}`);
  }
  const screenText = (reply.screen ?? "").replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
  if (/\$\s*$/.test(screenText)) printed.catch(() => undefined);
  else await printed;
  return reply;
}

/**
 * Collects a terminal's output (as text) until `pattern` appears. With `repaints`, the screens of
 * repaints count too: a client that falls a window behind (a test process busy on a loaded host)
 * is sent a repaint instead of the output it missed, and what it waits for may be in that.
 */
export function waitForOutput(socket: Socket, pattern: RegExp, timeoutMs = 15_000, { repaints = false } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const decoder = new TextDecoder();
    const events: Array<[string, (message: any) => void]> = [];
    const seen = (more: string) => {
      text += more;
      if (!pattern.test(text)) return;
      clearTimeout(timer);
      for (const [event, listener] of events) socket.off(event, listener);
      resolve(text);
    };
    events.push([
      "terminal:output",
      (message: { data: ArrayBuffer | Uint8Array }) => seen(decoder.decode(new Uint8Array(message.data as ArrayBuffer), { stream: true })),
    ]);
    if (repaints) {
      // A long screen comes in pieces, the repaint carrying the last: their text in order is the screen.
      events.push(["terminal:screen-part", (part: { data: string }) => seen(part.data)]);
      events.push(["terminal:repaint", (repaint: { screen: string }) => seen(repaint.screen)]);
    }
    const timer = setTimeout(() => {
      for (const [event, listener] of events) socket.off(event, listener);
      reject(new Error(`timed out waiting for ${pattern}; got: ${JSON.stringify(text.slice(-500))}`));
    }, timeoutMs);
    for (const [event, listener] of events) socket.on(event, listener);
  });
}

/** The next `event` on `socket` that satisfies `accept` (rejects after `timeoutMs`, listing what came). */
export function nextEvent<T>(socket: Socket, event: string, accept: (message: T) => boolean = () => true, timeoutMs = 20_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const seen: T[] = [];
    const onEvent = (message: T) => {
      seen.push(message);
      if (!accept(message)) return;
      clearTimeout(timer);
      socket.off(event, onEvent);
      resolve(message);
    };
    const timer = setTimeout(() => {
      socket.off(event, onEvent);
      reject(new Error(`timed out waiting for ${event}; saw ${JSON.stringify(seen)}`));
    }, timeoutMs);
    socket.on(event, onEvent);
  });
}
