/**
 * The Docker driver's warm pool: ready containers made ahead of time under a slot name, with
 * their template's sidecar services started and ready beside them, listed, handed to an
 * environment by renaming (services first), and removed with their volumes and services.
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
import type { DockerSidecars } from "./docker-sidecars";
import { pooledOwner } from "./sidecar-config";
import { ServiceSpecs } from "../../common/services";

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
    private readonly sidecars: DockerSidecars,
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
    // Its services too, off the students' path: a student who takes it finds them ready.
    const services = ServiceSpecs.parse(template.services ?? []);
    if (services.length === 0) return;
    try {
      await this.sidecars.ensureRunning(pooledOwner(slotId), services);
    } catch (error) {
      await this.removePooled(slotId);
      throw error;
    }
  }

  async listPooled() {
    const containers = await this.docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_WORKER}=${this.workerId}`, LABEL_POOL] },
    });
    const pooled = containers
      .map((container) => ({ name: container.Names[0]?.replace(/^\//, "") ?? "", container }))
      .filter(({ name }) => name.startsWith(POOL_PREFIX))
      // An older policy's pooled container counts as not ready: the pool replaces it.
      .map(({ name, container }) => ({
        slotId: name.slice(POOL_PREFIX.length),
        poolKey: container.Labels[LABEL_POOL] ?? "",
        running: container.State === "running" && !outdated(container.Labels),
      }));
    // Services whose pooled container is gone (a crash between the two) have nothing to serve.
    await this.sidecars.removeOrphanedPooled(new Set(pooled.map((slot) => slot.slotId)));
    return pooled;
  }

  async assignPooled(slotId: string, environmentId: string) {
    // Services first: a failure after them leaves them under the environment's name, removed with it.
    await this.sidecars.handOver(pooledOwner(slotId), environmentId);
    await this.docker.getContainer(pooledContainerName(slotId)).rename({ name: containerName(environmentId) });
    const info = await this.docker.getContainer(containerName(environmentId)).inspect();
    return { containerId: info.Id, volumeName: pooledVolumeName(slotId) };
  }

  async removePooled(slotId: string) {
    await this.sidecars.removeAll(pooledOwner(slotId).key);
    try {
      await this.docker.getContainer(pooledContainerName(slotId)).remove({ force: true });
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
    await this.making.removeVolume(homeVolumeName(pooledVolumeName(slotId)));
    await this.making.removeVolume(pooledVolumeName(slotId));
  }
}
