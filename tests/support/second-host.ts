/**
 * Another worker host for a test: its own Docker engine (scripts/ensure-second-docker.sh: own
 * data root, exec root and socket) and a worker process on it, dialling the harness's server.
 * Tests that need a second host start it here, so what a "host" is changes in one place.
 * `stop` ends the worker, then the engine (by its pidfile), and removes the engine's data.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { promisify } from "node:util";
import Docker from "dockerode";
import type { Harness } from "./platform-harness";
import { isRunning } from "./processes";
import { until } from "./until";

export interface SecondHost {
  workerId: string;
  /** unix://... of its engine. */
  dockerHost: string;
  /** Its engine, for a test to look at (the worker process drives it). */
  docker: Docker;
  /** The image tags its engine held before the worker started. */
  imagesAtStart: string[];
  worker: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts an engine named `engine` (unique per test file: /run/<engine>.sock, /var/lib/<engine>)
 * and a worker process on it with `capacity`; resolves once the server records it ONLINE.
 * `empty`: the engine gets no image (a fresh host); otherwise it gets the default image.
 */
export async function startSecondHost(
  harness: Harness,
  options: { engine: string; workerId: string; empty?: boolean; maxEnvironments?: number; memoryBytes?: number; env?: Record<string, string> },
): Promise<SecondHost> {
  const { stdout } = await promisify(execFile)("bash", ["scripts/ensure-second-docker.sh"], {
    env: { ...process.env, SHELLROOM_SECOND_DOCKER: options.engine, SHELLROOM_SECOND_DOCKER_EMPTY: options.empty ? "1" : "0" },
  });
  const dockerHost = stdout.trim().split("\n").pop()!;
  const docker = new Docker({ socketPath: dockerHost.replace("unix://", "") });
  const imagesAtStart = (await docker.listImages()).flatMap((image) => image.RepoTags ?? []).filter((tag) => tag !== "<none>:<none>");
  const worker = spawn(process.execPath, ["--import", "tsx", "runtime-worker/main.ts"], {
    env: {
      ...process.env,
      DOCKER_HOST: dockerHost,
      SHELLROOM_SERVER_URL: harness.url,
      SHELLROOM_WORKER_TOKEN: harness.workerTokenFor(options.workerId),
      SHELLROOM_WORKER_ID: options.workerId,
      SHELLROOM_WORKER_NAME: options.workerId,
      SHELLROOM_WORKER_MAX_ENVIRONMENTS: String(options.maxEnvironments ?? 8),
      SHELLROOM_WORKER_MEMORY_BYTES: String(options.memoryBytes ?? 8 * 1024 ** 3),
      // Its workspaces live in its own engine's data root (removed with it), not the host's loop images.
      SHELLROOM_WORKSPACE_QUOTA: "off",
      SHELLROOM_SPARE_WORKSPACES: "0",
      LOG_LEVEL: "warn",
      ...options.env,
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const host: SecondHost = {
    workerId: options.workerId,
    dockerHost,
    docker,
    imagesAtStart,
    worker,
    async stop() {
      if (worker.exitCode === null && worker.signalCode === null) {
        const exited = new Promise((resolve) => worker.once("exit", resolve));
        worker.kill("SIGTERM");
        await exited;
      }
      await stopEngine(options.engine);
    },
  };
  try {
    await until(
      `worker ${options.workerId} ONLINE`,
      async () => (await harness.db.worker.findUnique({ where: { id: options.workerId } }))?.status === "ONLINE",
      60_000,
      100,
    );
  } catch (error) {
    await host.stop();
    throw error;
  }
  return host;
}

/** Stops the engine this file started (by its pidfile) and removes its data root and exec root. */
async function stopEngine(engine: string) {
  const pid = Number((await readFile(`/run/${engine}.pid`, "utf8").catch(() => "")).trim());
  if (pid > 0 && isRunning(pid)) {
    process.kill(pid, "SIGTERM");
    await until(`dockerd ${engine} to stop`, () => !isRunning(pid), 60_000, 100);
  }
  for (const path of [`/var/lib/${engine}`, `/run/${engine}`, `/run/${engine}.sock`, `/run/${engine}.pid`]) await rm(path, { recursive: true, force: true });
}
