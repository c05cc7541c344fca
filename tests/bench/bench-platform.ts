/**
 * A whole platform in this process for the benchmark (after tests/support/platform-harness.ts,
 * without vitest): the HTTP/tRPC/socket.io server with the Redis adapter, and one worker
 * driving the real Docker engine. Students are played by fetch and socket.io clients.
 */
import { randomBytes } from "node:crypto";
import Docker from "dockerode";
import { io, type Socket } from "socket.io-client";
import { rootLogger } from "../../common/logger";
import {
  BrowserToServer, ServerToBrowser, TERMINAL_NAMESPACE, type AttachReply, type BrowserOutput,
} from "../../protocol/browser-messages";
import type { EnvironmentSpec } from "../../protocol/worker-messages";
import { SESSION_COOKIE } from "../../server/auth/cookies";
import { createSession, generateSessionToken } from "../../server/auth/sessions";
import { createDatabase, type Database } from "../../server/database/client";
import { seedDemoData } from "../../server/database/seed";
import { createShellroomServer, type ShellroomServer } from "../../server/http-server";
import { DockerDriver } from "../../runtime-worker/docker/docker-driver";
import { startWorker, type RunningWorker } from "../../runtime-worker/worker";
import type { TerminalLink } from "./terminal-link";

export const TERMINAL_SIZE = { cols: 120, rows: 32 };

export interface PlatformTerminal extends TerminalLink {
  socket: Socket;
  environmentId: string;
}

export interface BenchPlatform {
  url: string;
  db: Database;
  workerId: string;
  labId: string;
  /** The container spec the lab's template gives: the raw baseline uses the same. */
  specFor(environmentId: string, ownerId: string): Promise<EnvironmentSpec>;
  /** A new user, course membership and session; returns the Cookie header value. */
  newStudent(): Promise<{ userId: string; cookie: string }>;
  /** tRPC environment.startForLab, as the lab page calls it. */
  startEnvironment(cookie: string): Promise<string>;
  /** A connected /terminal socket, as the browser opens it. */
  connect(cookie: string): Promise<Socket>;
  /** Sends terminal:attach; resolves with the reply (listen for output before calling). */
  attach(socket: Socket, environmentId: string): Promise<AttachReply>;
  /** The socket as a TerminalLink for one environment's main terminal. */
  terminal(socket: Socket, environmentId: string): PlatformTerminal;
  /** Ends the environment's shells and removes its container and volume (through the worker). */
  removeEnvironment(environmentId: string): Promise<void>;
  close(): Promise<void>;
}

const toBytes = (data: unknown): Uint8Array =>
  data instanceof Uint8Array ? data : new Uint8Array(data as ArrayBuffer);

export async function startBenchPlatform(options: { databaseUrl: string; redisUrl?: string }): Promise<BenchPlatform> {
  const db = createDatabase(options.databaseUrl);
  const { courseId, labId } = await seedDemoData(db);
  const suffix = randomBytes(4).toString("hex");
  const log = rootLogger.child({ bench: suffix });
  log.level = process.env.BENCH_LOG_LEVEL ?? "error";

  const workerToken = randomBytes(24).toString("hex");
  const server: ShellroomServer = await createShellroomServer({
    db, workerToken, log, redisUrl: options.redisUrl, redisKeyPrefix: `shellroom-bench-${suffix}`,
  });
  const url = await server.listen(0, "127.0.0.1");

  const workerId = `bench-${suffix}`;
  const driver = new DockerDriver(new Docker(), workerId);
  const worker: RunningWorker = startWorker({
    serverUrl: url,
    handshake: { token: workerToken, workerId, name: workerId, capacity: { maxEnvironments: 100, memoryBytes: 8 * 1024 ** 3 } },
    driver, log, // the production heartbeat interval (5 s)
  });
  await worker.connected();
  for (let attempt = 0; attempt < 50 && !(await db.worker.findUnique({ where: { id: workerId } })); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const sockets = new Set<Socket>();

  return {
    url, db, workerId, labId,

    async specFor(environmentId, ownerId) {
      const lab = await db.lab.findUniqueOrThrow({ where: { id: labId }, include: { template: true } });
      const template = lab.template;
      const MB = 1024 * 1024;
      return {
        environmentId, ownerId, image: template.image, network: "none", workingDir: template.workingDir, user: template.user,
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

    async startEnvironment(cookie) {
      const response = await fetch(`${url}/api/trpc/environment.startForLab`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie, origin: url },
        body: JSON.stringify({ labId }),
      });
      const text = await response.text();
      let environmentId: unknown;
      try { environmentId = JSON.parse(text)?.result?.data?.environmentId; } catch { /* reported below */ }
      if (!response.ok || typeof environmentId !== "string") throw new Error(`startForLab failed (${response.status}): ${text.slice(0, 500)}`);
      return environmentId;
    },

    connect(cookie) {
      const socket = io(`${url}${TERMINAL_NAMESPACE}`, {
        forceNew: true, transports: ["websocket"], reconnection: false, extraHeaders: { cookie, origin: url },
      });
      sockets.add(socket);
      return new Promise((resolve, reject) => {
        socket.once("connect", () => resolve(socket));
        socket.once("connect_error", reject);
      });
    },

    attach(socket, environmentId) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("terminal:attach got no reply within 30 s")), 30_000);
        socket.emit(BrowserToServer.attach, { environmentId, terminalId: "main", ...TERMINAL_SIZE }, (reply: AttachReply) => {
          clearTimeout(timer);
          resolve(reply);
        });
      });
    },

    terminal(socket, environmentId) {
      return {
        socket, environmentId,
        write: (data) => { socket.emit(BrowserToServer.input, { environmentId, terminalId: "main", data }); },
        onData(listener) {
          const onOutput = (message: BrowserOutput) => {
            if (message.environmentId === environmentId && message.terminalId === "main") listener(toBytes(message.data));
          };
          socket.on(ServerToBrowser.output, onOutput);
          return () => { socket.off(ServerToBrowser.output, onOutput); };
        },
      };
    },

    async removeEnvironment(environmentId) {
      await worker.environments.remove(environmentId, true);
      await db.environment.update({ where: { id: environmentId }, data: { state: "DELETED" } }).catch(() => undefined);
    },

    async close() {
      for (const socket of sockets) socket.close();
      const environments = await db.environment.findMany({ where: { workerId } });
      await worker.close();
      for (const environment of environments) await driver.remove(environment.id, { removeVolume: true }).catch(() => undefined);
      await server.close();
      await db.$disconnect();
    },
  };
}
