/**
 * A second worker host for a test: a second dockerd (its own data root and socket; named by the
 * caller, so files that each need one do not share it by accident) and a worker process on it
 * that dials the harness's server, as a real host's worker would. The test can look at that
 * engine through `driver`, kill the process (a host gone), and `close()` removes what it made.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";
import Docker from "dockerode";
import { DockerDriver } from "../../runtime-worker/docker/docker-driver";
import { WorkspaceVolumes } from "../../runtime-worker/docker/workspace-volumes";
import { LABEL_WORKER } from "../../runtime-worker/docker/container-config";
import type { Harness } from "./platform-harness";
import { until } from "./until";

const run = promisify(execFile);

export interface SecondWorkerHost {
  workerId: string;
  /** The second engine, driven directly (to look at what the worker process made there). */
  driver: DockerDriver;
  docker: Docker;
  /** The worker process ends at once (SIGKILL), as when its host dies; its containers stay. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

export async function startSecondWorkerHost(
  harness: Harness,
  options: { dockerName: string; workerId: string; maxEnvironments?: number },
): Promise<SecondWorkerHost> {
  const { stdout } = await run("bash", ["scripts/ensure-second-docker.sh"], { env: { ...process.env, SHELLROOM_SECOND_DOCKER: options.dockerName } });
  const dockerHost = stdout.trim().split("\n").pop()!;
  const docker = new Docker({ socketPath: dockerHost.replace("unix://", "") });
  const volumes = await WorkspaceVolumes.open(docker);
  const driver = new DockerDriver(docker, options.workerId, volumes);
  const worker: ChildProcess = spawn(process.execPath, ["--import", "tsx", "runtime-worker/main.ts"], {
    env: {
      ...process.env,
      DOCKER_HOST: dockerHost,
      SHELLROOM_SERVER_URL: harness.url,
      SHELLROOM_WORKER_TOKEN: harness.workerTokenFor(options.workerId),
      SHELLROOM_WORKER_ID: options.workerId,
      SHELLROOM_WORKER_NAME: `second host ${options.workerId}`,
      SHELLROOM_WORKER_MAX_ENVIRONMENTS: String(options.maxEnvironments ?? 8),
      SHELLROOM_WORKER_MEMORY_BYTES: String(8 * 1024 ** 3),
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const exited = new Promise((resolve) => worker.once("exit", resolve));
  await until(
    `worker ${options.workerId} online`,
    async () => (await harness.db.worker.findUnique({ where: { id: options.workerId } }))?.status === "ONLINE",
    60_000,
    100,
  );
  const stop = async (signal: NodeJS.Signals) => {
    if (worker.exitCode === null && worker.signalCode === null) worker.kill(signal);
    await exited;
  };
  return {
    workerId: options.workerId,
    driver,
    docker,
    kill: () => stop("SIGKILL"),
    async close() {
      await stop("SIGTERM");
      const containers = await docker.listContainers({ all: true, filters: { label: [`${LABEL_WORKER}=${options.workerId}`] } });
      for (const container of containers)
        await docker
          .getContainer(container.Id)
          .remove({ force: true })
          .catch(() => undefined);
      const { Volumes: left } = await docker.listVolumes({ filters: { label: [`${LABEL_WORKER}=${options.workerId}`] } });
      for (const volume of left ?? []) await volumes.remove(volume.Name).catch(() => undefined);
    },
  };
}
