/**
 * What one bench run made, so that it leaves nothing behind: the environments it created, the
 * workers and processes it started, and the sweep that removes their containers and volumes.
 */
import type { ChildProcess } from "node:child_process";
import Docker from "dockerode";
import { LABEL_ENVIRONMENT, LABEL_MANAGED, LABEL_WORKER, volumeName } from "../../runtime-worker/docker/container-config";
import type { BenchPlatform } from "./bench-platform";
import { sleep } from "./measure";
import { removeRaw } from "./raw-docker";

export function benchRunResources(run: {
  docker: Docker;
  runId: string;
  rawWorkerId: string;
  say(message: string): void;
  platform(): BenchPlatform | undefined;
}) {
  const { docker, runId, rawWorkerId, say } = run;
  /** Every environment id this run created, platform's and baseline's, for the final sweep. */
  const createdIds = new Set<string>();
  /** Workers of this run besides the in-process one (the separate worker process of (h)). */
  const extraWorkerIds = new Set<string>();
  /** Processes this run started (the server and worker processes of (h)): stopped by pid in the cleanup. */
  const startedProcesses = new Set<ChildProcess>();

  const runWorkerIds = () => [rawWorkerId, ...(run.platform() ? [run.platform()!.workerId] : []), ...extraWorkerIds];

  /** Managed containers and volumes of this run in Docker (by worker label; the baseline's volumes by name). */
  async function dockerLeftovers() {
    const containers: Docker.ContainerInfo[] = [];
    const volumes: string[] = [];
    for (const workerId of runWorkerIds()) {
      const filters = { label: [`${LABEL_MANAGED}=true`, `${LABEL_WORKER}=${workerId}`] };
      containers.push(...(await docker.listContainers({ all: true, filters }).catch(() => [])));
      volumes.push(...((await docker.listVolumes({ filters }).catch(() => ({ Volumes: [] }))).Volumes ?? []).map((volume) => volume.Name));
    }
    const rawVolumes = ((await docker.listVolumes({ filters: { label: [`${LABEL_MANAGED}=true`] } }).catch(() => ({ Volumes: [] }))).Volumes ?? [])
      .map((volume) => volume.Name)
      .filter((name) => name.startsWith(volumeName(`bench-raw-${runId}-`)));
    return { containers, volumes: [...new Set([...volumes, ...rawVolumes])] };
  }

  /**
   * Removes every container and volume of this run's two worker ids (environments and warm
   * pool alike) and every environment it recorded.
   */
  async function sweep() {
    const { containers, volumes } = await dockerLeftovers();
    for (const container of containers) {
      createdIds.add(container.Labels[LABEL_ENVIRONMENT] ?? "");
      await docker
        .getContainer(container.Id)
        .remove({ force: true })
        .catch((error: { statusCode?: number; message: string }) => {
          if (error.statusCode !== 404) say(`remove container ${container.Names[0]}: ${error.message}`);
        });
    }
    for (const id of createdIds) if (id) await removeRaw(docker, id).catch((error: Error) => say(`remove ${id}: ${error.message}`));
    for (const name of volumes) {
      await docker
        .getVolume(name)
        .remove()
        .catch((error: { statusCode?: number; message: string }) => {
          if (error.statusCode !== 404) say(`remove volume ${name}: ${error.message}`);
        });
    }
  }

  /** SIGTERM to each process this run started that is still running; SIGKILL after 10 s. */
  async function stopStartedProcesses() {
    await Promise.all(
      [...startedProcesses].map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
        say(`stopping process ${child.pid} (started by this run)`);
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        child.kill("SIGTERM");
        if (await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)])) return;
        child.kill("SIGKILL");
        await exited;
      }),
    );
  }

  return { createdIds, extraWorkerIds, startedProcesses, runWorkerIds, dockerLeftovers, sweep, stopStartedProcesses };
}
