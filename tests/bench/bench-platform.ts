/**
 * A whole platform in this process for the benchmark (after tests/support/platform-harness.ts,
 * without vitest): the HTTP/tRPC/socket.io server with the Redis adapter, and one worker
 * driving the real Docker engine. Students are played by fetch and socket.io clients.
 */
import { randomBytes } from "node:crypto";
import Docker from "dockerode";
import type { Socket } from "socket.io-client";
import { rootLogger } from "../../common/logger";
import type { AttachReply } from "../../protocol/browser-contract";
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
import { signInOverHttp, startForLabUntilRunning, trpcMutation, type QueuedReply } from "./bench-http";
import { attachTerminal, openTerminalSocket, terminalLink, type PlatformTerminal } from "./browser-socket";
import { timedDriver, type DriverTimings } from "./timed-driver";

/**
 * The worker's handshake capacity: room for the 100 concurrently active terminals of (f)
 * (each its own environment of the demo lab's template: 512 MiB, 1 CPU) or a class burst
 * of 50, plus stragglers. The scheduler sums the templates' memory *limits* (cgroup
 * ceilings, not reservations: an idle bash shell uses a few MiB), so the claim is
 * 250 x 512 MiB, far above the host's real memory (100 x 512 MiB alone is 50 GiB).
 */
export const BENCH_WORKER_CAPACITY = { maxEnvironments: 250, memoryBytes: 128 * 1024 ** 3 };

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
