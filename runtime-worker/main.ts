/** Entry point of a worker process: configuration from the environment, then run. */
import { readFile } from "node:fs/promises";
import os from "node:os";
import Docker from "dockerode";
import { formatConfig, wantsConfigHelp } from "../common/config-help";
import { rootLogger } from "../common/logger";
import { WorkerEnv } from "./config";
import { HOME_DISK_BYTES } from "./docker/container-config";
import { DockerDriver } from "./docker/docker-driver";
import { WorkspaceVolumes } from "./docker/workspace-volumes";
import { compileHolder } from "./holder/holder-volume";
import { keyQuotaTooLow } from "./host-check/requirements";
import { startWorker } from "./worker";
import { startWorkerHttp } from "./observability";

if (wantsConfigHelp()) {
  process.stdout.write(formatConfig("Shellroom worker (node --import tsx runtime-worker/main.ts)", [WorkerEnv], process.env));
  process.exit(0);
}
const parsed = WorkerEnv.safeParse(process.env);
if (!parsed.success) {
  for (const issue of parsed.error.issues) console.error(`worker configuration: ${issue.path.join(".")}: ${issue.message}`);
  process.exit(1);
}
const env = parsed.data;
const socketPath = env.DOCKER_HOST?.startsWith("unix://") ? env.DOCKER_HOST.slice("unix://".length) : "/var/run/docker.sock";

const docker = new Docker({ socketPath });
// Spares for the default template's workspace (1 GiB) and every home (256 MiB) from the start; other sizes once asked for.
const volumes = await WorkspaceVolumes.open(docker, undefined, {
  spares: env.SHELLROOM_SPARE_WORKSPACES,
  seedSizes: [1024 * 1024 * 1024, HOME_DISK_BYTES],
  onError: (error) => rootLogger.warn({ err: error.message }, "could not prepare a spare workspace"),
});
// Without the PTY holder shells still work, but end when this process does: say so.
const holder = await compileHolder().catch((error: unknown) => {
  rootLogger.warn({ err: error instanceof Error ? error.message : String(error) }, "no PTY holder: students' shells will not survive a worker restart");
  return undefined;
});
rootLogger.info(
  { mechanism: volumes.mechanism },
  volumes.mechanism === "loop-ext4"
    ? "workspace disk limits: loop-mounted ext4 image per workspace volume"
    : "workspace disk limits: none on this host (needs root and loop devices); /tmp stays capped by tmpfs",
);

// The kernel's per-uid key quota can cap running containers (host-check/requirements.ts says why).
const keyQuota = Number((await readFile("/proc/sys/kernel/keys/maxkeys", "utf8").catch(() => "0")).trim());
const remapped = ((await docker.info().catch(() => ({}))) as { SecurityOptions?: string[] }).SecurityOptions?.some((option) => option.includes("name=userns"));
if (keyQuotaTooLow(keyQuota, Boolean(remapped), env.SHELLROOM_WORKER_MAX_ENVIRONMENTS)) {
  rootLogger.warn(
    { maxkeys: keyQuota, maxEnvironments: env.SHELLROOM_WORKER_MAX_ENVIRONMENTS },
    "kernel.keys.maxkeys caps this host's running containers below its capacity (starts fail with 'unable to create session key: disk quota exceeded'): raise kernel.keys.maxkeys and kernel.keys.maxbytes (scripts/ensure-docker.sh does)",
  );
}

const worker = startWorker({
  serverUrl: env.SHELLROOM_SERVER_URL,
  handshake: {
    token: env.SHELLROOM_WORKER_TOKEN,
    workerId: env.SHELLROOM_WORKER_ID,
    name: env.SHELLROOM_WORKER_NAME,
    capacity: {
      maxEnvironments: env.SHELLROOM_WORKER_MAX_ENVIRONMENTS,
      memoryBytes: env.SHELLROOM_WORKER_MEMORY_BYTES ?? Math.max(1, os.totalmem() - env.SHELLROOM_WORKER_MEMORY_FLOOR_BYTES),
    },
  },
  memoryFloorBytes: env.SHELLROOM_WORKER_MEMORY_FLOOR_BYTES,
  driver: new DockerDriver(docker, env.SHELLROOM_WORKER_ID, volumes, holder),
  log: rootLogger,
  startConcurrency: env.SHELLROOM_WORKER_START_CONCURRENCY,
});
// A token the server refuses does not start working by retrying: stop, so the operator sees why.
worker.connected().catch((error: Error) => {
  rootLogger.fatal(
    { err: error.message, workerId: env.SHELLROOM_WORKER_ID },
    "the server refused this worker's token (npm run admin -- worker-token <id> makes the right one)",
  );
  process.exit(2);
});

if (env.SHELLROOM_WORKER_HTTP_PORT !== undefined) {
  const http = await startWorkerHttp({
    port: env.SHELLROOM_WORKER_HTTP_PORT,
    host: env.SHELLROOM_WORKER_HTTP_HOST,
    metrics: worker.metrics,
    environments: worker.environments,
    pooled: () => worker.pool.size,
    spares: () => volumes.spareCount,
    connectedToServer: () => worker.socket.connected,
  });
  rootLogger.info({ port: http.port }, "worker metrics and health listening");
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    // Containers keep running: a restarted worker adopts them by their labels.
    void worker
      .close()
      .then(() => volumes.close())
      .then(() => process.exit(0));
  });
}
