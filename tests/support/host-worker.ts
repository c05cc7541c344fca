/**
 * A worker process on a test worker host (worker-host.ts) joining a harness's server, as a real
 * host's worker joins: its settings as the host's /etc/shellroom/worker.env would hold them, the
 * server reached over the host's veth (the harness must listen there: `harness.listenOn`).
 */
import type { ChildProcess } from "node:child_process";
import type { Harness } from "./platform-harness";
import { until } from "./until";
import type { WorkerHost } from "./worker-host";

export interface HostWorkerOptions {
  workerId: string;
  /** The name staff see. */
  name: string;
  maxEnvironments?: number;
  memoryBytes?: number;
  /** More settings (they win over the ones above). */
  env?: Record<string, string>;
}

/** The worker's settings on `host`: the server's URL over the veth, and a token for its id. */
export function hostWorkerSettings(harness: Harness, host: WorkerHost, options: HostWorkerOptions): Record<string, string> {
  return {
    SHELLROOM_SERVER_URL: host.serverUrl(Number(new URL(harness.url).port)),
    SHELLROOM_WORKER_TOKEN: harness.workerTokenFor(options.workerId),
    SHELLROOM_WORKER_ID: options.workerId,
    SHELLROOM_WORKER_NAME: options.name,
    SHELLROOM_WORKER_MAX_ENVIRONMENTS: String(options.maxEnvironments ?? 8),
    SHELLROOM_WORKER_MEMORY_BYTES: String(options.memoryBytes ?? 8 * 1024 ** 3),
    ...options.env,
  };
}

/** Starts the worker on `host` and resolves once the server records it ONLINE (fails at once if it ends). */
export async function joinHostWorker(harness: Harness, host: WorkerHost, options: HostWorkerOptions): Promise<ChildProcess> {
  const worker = host.startWorker(hostWorkerSettings(harness, host, options));
  await until(
    `${options.name}'s worker to be online`,
    async () => {
      if (worker.exitCode !== null || worker.signalCode !== null) throw new Error(`${options.name}'s worker ended (${worker.exitCode ?? worker.signalCode})`);
      return (await harness.db.worker.findUnique({ where: { id: options.workerId } }))?.status === "ONLINE";
    },
    120_000,
    200,
  );
  return worker;
}
