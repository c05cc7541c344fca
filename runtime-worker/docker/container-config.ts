/**
 * The secure defaults every student container gets. Kept apart from the driver so the
 * isolation policy is one small file to read and review.
 */
import type Docker from "dockerode";
import type { EnvironmentSpec, PoolTemplate } from "../../protocol/worker-messages";

export const LABEL_MANAGED = "dev.shellroom.managed";
export const LABEL_ENVIRONMENT = "dev.shellroom.environment";
export const LABEL_OWNER = "dev.shellroom.owner";
export const LABEL_WORKER = "dev.shellroom.worker";
/** On warm-pool containers: which template shape they were made for. */
export const LABEL_POOL = "dev.shellroom.pool";

export const ENVIRONMENT_PREFIX = "shellroom-env-";
export const POOL_PREFIX = "shellroom-pool-";
export const containerName = (environmentId: string) => `${ENVIRONMENT_PREFIX}${environmentId}`;
export const volumeName = (environmentId: string) => `shellroom-ws-${environmentId}`;
export const pooledContainerName = (slotId: string) => `${POOL_PREFIX}${slotId}`;
export const pooledVolumeName = (slotId: string) => `shellroom-pool-ws-${slotId}`;

/** Scratch space outside the workspace is a size-capped tmpfs, so /tmp cannot fill the host. */
const TMPFS_SCRATCH = "rw,nosuid,nodev,size=64m,mode=1777";

export function containerCreateOptions(spec: EnvironmentSpec, workerId: string): Docker.ContainerCreateOptions {
  return isolatedContainer(spec, {
    name: containerName(spec.environmentId),
    volume: spec.volumeName ?? volumeName(spec.environmentId),
    labels: { [LABEL_ENVIRONMENT]: spec.environmentId, [LABEL_OWNER]: spec.ownerId, [LABEL_WORKER]: workerId },
  });
}

/** A warm-pool container: the same isolation, a fresh volume of its own, no owner yet. */
export function pooledContainerOptions(template: PoolTemplate, slotId: string, poolKey: string, workerId: string): Docker.ContainerCreateOptions {
  return isolatedContainer(template, {
    name: pooledContainerName(slotId),
    volume: pooledVolumeName(slotId),
    labels: { [LABEL_POOL]: poolKey, [LABEL_WORKER]: workerId },
  });
}

function isolatedContainer(
  spec: PoolTemplate,
  identity: { name: string; volume: string; labels: Record<string, string> },
): Docker.ContainerCreateOptions {
  return {
    name: identity.name,
    Image: spec.image,
    // PID 1 only waits; shells arrive through exec so that a reconnect never restarts it.
    Cmd: ["sleep", "infinity"],
    User: spec.user,
    WorkingDir: spec.workingDir,
    Env: ["TERM=xterm-256color", "LANG=C.UTF-8", `HOME=/home/${spec.user}`],
    Hostname: "shellroom",
    Labels: { [LABEL_MANAGED]: "true", ...identity.labels },
    NetworkDisabled: spec.network === "none",
    HostConfig: {
      NetworkMode: "none",
      // docker-init reaps zombies that students' background jobs leave behind.
      Init: true,
      Privileged: false,
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges:true"],
      Memory: spec.limits.memoryBytes,
      MemorySwap: spec.limits.memoryBytes,
      NanoCpus: spec.limits.nanoCpus,
      PidsLimit: spec.limits.pidsLimit,
      Ulimits: [{ Name: "nofile", Soft: 4096, Hard: 4096 }],
      Tmpfs: { "/tmp": TMPFS_SCRATCH },
      Mounts: [{ Type: "volume", Source: identity.volume, Target: spec.workingDir }],
      RestartPolicy: { Name: "no" },
      LogConfig: { Type: "none", Config: {} },
    },
  };
}
