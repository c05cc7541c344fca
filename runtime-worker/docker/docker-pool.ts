/**
 * The Docker driver's warm pool: ready containers made ahead of time under a slot name, listed,
 * handed to an environment by renaming, and removed with their volumes.
 */
import type Docker from "dockerode";
import type { PoolTemplate } from "../../protocol/worker-messages";
import type { ShellToStart } from "../driver";
import {
  LABEL_MANAGED,
  LABEL_POOL,
  LABEL_WORKER,
  POOL_PREFIX,
  containerName,
  homeVolumeName,
  pooledContainerName,
  pooledContainerOptions,
  pooledVolumeName,
  studentVolumes,
} from "./container-config";
import { RuntimeError, outdated, statusOf } from "./docker-support";

/** What pooled containers need from the driver: its volumes and its PTY holder mount. */
export interface ContainerMaking {
  createVolume(this: void, name: string, labels: Record<string, string>, diskBytes?: number): Promise<void>;
  removeVolume(this: void, name: string): Promise<void>;
  withHolder(this: void, options: Docker.ContainerCreateOptions, shell?: ShellToStart): Promise<Docker.ContainerCreateOptions>;
}

export class DockerPool {
  constructor(
    private readonly docker: Docker,
    private readonly workerId: string,
    private readonly making: ContainerMaking,
  ) {}

  async createPooled(template: PoolTemplate, slotId: string, poolKey: string, shell?: ShellToStart) {
    for (const { name, diskBytes } of studentVolumes(template, pooledVolumeName(slotId))) {
      await this.making.createVolume(name, { [LABEL_MANAGED]: "true", [LABEL_POOL]: poolKey, [LABEL_WORKER]: this.workerId }, diskBytes);
    }
    try {
      const container = await this.docker.createContainer(
        await this.making.withHolder(pooledContainerOptions(template, slotId, poolKey, this.workerId), shell),
      );
      await container.start();
    } catch (error) {
      await this.removePooled(slotId);
      if (statusOf(error) === 404) throw new RuntimeError(`The image "${template.image}" does not exist on this worker.`);
      throw error;
    }
  }

  async listPooled() {
    const containers = await this.docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_WORKER}=${this.workerId}`, LABEL_POOL] },
    });
    return (
      containers
        .map((container) => ({ name: container.Names[0]?.replace(/^\//, "") ?? "", container }))
        .filter(({ name }) => name.startsWith(POOL_PREFIX))
        // An older policy's pooled container counts as not ready: the pool replaces it.
        .map(({ name, container }) => ({
          slotId: name.slice(POOL_PREFIX.length),
          poolKey: container.Labels[LABEL_POOL] ?? "",
          running: container.State === "running" && !outdated(container.Labels),
        }))
    );
  }

  async assignPooled(slotId: string, environmentId: string) {
    await this.docker.getContainer(pooledContainerName(slotId)).rename({ name: containerName(environmentId) });
    const info = await this.docker.getContainer(containerName(environmentId)).inspect();
    return { containerId: info.Id, volumeName: pooledVolumeName(slotId) };
  }

  async removePooled(slotId: string) {
    try {
      await this.docker.getContainer(pooledContainerName(slotId)).remove({ force: true });
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
    await this.making.removeVolume(homeVolumeName(pooledVolumeName(slotId)));
    await this.making.removeVolume(pooledVolumeName(slotId));
  }
}
