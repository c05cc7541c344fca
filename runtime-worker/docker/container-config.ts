/**
 * The secure defaults every student container gets. Kept apart from the driver so the
 * isolation policy is one small file to read and review.
 */
import type Docker from "dockerode";
import { z } from "zod";
import type { EnvironmentSpec, PoolTemplate } from "../../protocol/worker-messages";

export const LABEL_MANAGED = "dev.shellroom.managed";
export const LABEL_ENVIRONMENT = "dev.shellroom.environment";
export const LABEL_OWNER = "dev.shellroom.owner";
export const LABEL_WORKER = "dev.shellroom.worker";
/** On warm-pool containers: which template shape they were made for. */
export const LABEL_POOL = "dev.shellroom.pool";
/** The terminal whose shell the container's own command starts under the PTY holder (no exec needed). */
export const LABEL_HELD_SHELL = "dev.shellroom.held-shell";

export const ENVIRONMENT_PREFIX = "shellroom-env-";
export const POOL_PREFIX = "shellroom-pool-";
export const containerName = (environmentId: string) => `${ENVIRONMENT_PREFIX}${environmentId}`;
export const volumeName = (environmentId: string) => `shellroom-ws-${environmentId}`;
export const pooledContainerName = (slotId: string) => `${POOL_PREFIX}${slotId}`;
export const pooledVolumeName = (slotId: string) => `shellroom-pool-ws-${slotId}`;

/** Bumped when the isolation below changes: containers made under an older policy are replaced. */
export const LABEL_POLICY = "dev.shellroom.policy";
export const POLICY_VERSION = "3";

/** The image's student user owns the workspace and home; checks run as another uid in their group. */
export const STUDENT_UID = 1000;
export const STUDENT_GID = 1000;
/**
 * Checks run as this uid (no passwd entry needed), in the student's group: it reads the
 * student's ordinary files, cannot write them, and the student cannot signal or trace it.
 */
export const CHECKER_UID = 1999;
/** The checker's private scratch (a tmpfs only it can enter). */
export const CHECKER_DIR = "/run/shellroom-check";
/**
 * Execute-only copies of the shell and `timeout` that checks run under (root-owned, on the
 * root-owned /run): a process started from a file it cannot read is not dumpable, so the
 * student's code that a check runs cannot ptrace the check, or read its memory or environment.
 */
export const CHECKER_TOOLS = "/run/shellroom";

export const homeOf = (user: string) => `/home/${user}`;
/** Each workspace volume has a home volume beside it, named after it (pooled ones too). */
export const homeVolumeName = (workspaceVolume: string) => `${workspaceVolume}-home`;
/** The home holds dotfiles, caches and ~/.local: bounded on its own, never above the workspace's limit. */
export const HOME_DISK_BYTES = 256 * 1024 * 1024;

/**
 * Where programs may write outside the student's volumes: size-capped tmpfs, all of it
 * (the root filesystem is read-only). Tmpfs pages are also charged to the container's
 * memory limit, so together these can never hold more than the container's memory.
 */
export const SCRATCH_MOUNTS: Record<string, string> = {
  "/tmp": "rw,nosuid,nodev,size=64m,mode=1777",
  "/var/tmp": "rw,nosuid,nodev,size=64m,mode=1777",
  // Root's alone (the student cannot write it), so it may allow exec: CHECKER_TOOLS live here.
  "/run": "rw,exec,nosuid,nodev,size=4m,mode=755",
  "/run/lock": "rw,nosuid,nodev,size=1m,mode=1777",
  [CHECKER_DIR]: `rw,nosuid,nodev,size=16m,mode=700,uid=${CHECKER_UID},gid=${STUDENT_GID}`,
};
/** /dev/shm is Docker's own tmpfs: capped like /tmp. */
export const SHM_BYTES = 64 * 1024 * 1024;

/** A named volume the container mounts, with the size it is limited to (when the host can). */
export interface StudentVolume {
  name: string;
  target: string;
  diskBytes?: number;
}

/**
 * The student's persistent, size-limited storage: the workspace volume at the working
 * directory (as it has always been, so existing workspaces keep their files in place) and
 * a home volume at $HOME. Docker fills a new, empty volume from the image's folder on first
 * mount, so the image's dotfiles (.bashrc, .profile, an instructor's ~/.config) are there.
 * A working directory at or above the home already covers it: no home volume then.
 */
export function studentVolumes(spec: Pick<PoolTemplate, "user" | "workingDir" | "limits">, workspaceVolume: string): StudentVolume[] {
  const workspace: StudentVolume = { name: workspaceVolume, target: spec.workingDir, diskBytes: spec.limits.diskBytes };
  const home = homeOf(spec.user);
  const within = (path: string, folder: string) => path === folder || path.startsWith(folder.endsWith("/") ? folder : `${folder}/`);
  if (within(home, spec.workingDir)) return [workspace];
  const homeBytes = spec.limits.diskBytes ? Math.min(HOME_DISK_BYTES, spec.limits.diskBytes) : undefined;
  return [{ name: homeVolumeName(workspaceVolume), target: home, diskBytes: homeBytes }, workspace];
}

/**
 * The OCI runtime student containers run under. Unset (the normal case) leaves it to the
 * engine's default, which scripts/ensure-docker.sh sets (SHELLROOM_DOCKER_RUNTIME). Naming one
 * here (SHELLROOM_CONTAINER_RUNTIME, a runtime the engine knows, e.g. runc or crun) runs every
 * container of this process under it: how the isolation suite is run under each runtime.
 */
export const RuntimeName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "a runtime name the engine knows, e.g. runc or crun");
export const configuredRuntime = () => process.env.SHELLROOM_CONTAINER_RUNTIME || undefined;

export function containerCreateOptions(spec: EnvironmentSpec, workerId: string, runtime = configuredRuntime()): Docker.ContainerCreateOptions {
  return isolatedContainer(spec, runtime, {
    name: containerName(spec.environmentId),
    volume: spec.volumeName ?? volumeName(spec.environmentId),
    labels: { [LABEL_ENVIRONMENT]: spec.environmentId, [LABEL_OWNER]: spec.ownerId, [LABEL_WORKER]: workerId },
  });
}

/** A warm-pool container: the same isolation, a fresh volume of its own, no owner yet. */
export function pooledContainerOptions(
  template: PoolTemplate,
  slotId: string,
  poolKey: string,
  workerId: string,
  runtime = configuredRuntime(),
): Docker.ContainerCreateOptions {
  return isolatedContainer(template, runtime, {
    name: pooledContainerName(slotId),
    volume: pooledVolumeName(slotId),
    labels: { [LABEL_POOL]: poolKey, [LABEL_WORKER]: workerId },
  });
}

function isolatedContainer(
  spec: PoolTemplate,
  runtime: string | undefined,
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
    Labels: { [LABEL_MANAGED]: "true", [LABEL_POLICY]: POLICY_VERSION, ...identity.labels },
    // Network "none" (below) leaves only loopback. Not NetworkDisabled: with it the engine writes
    // no /etc/hosts, and `localhost` (a sidecar's address for the student) would not resolve.
    HostConfig: {
      ...(runtime ? { Runtime: RuntimeName.parse(runtime) } : {}),
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
      // Nothing outside the volumes and the capped tmpfs is writable: the writable layer
      // has no size limit on this host (ext4 Docker root, no --storage-opt size).
      ReadonlyRootfs: true,
      Tmpfs: SCRATCH_MOUNTS,
      ShmSize: SHM_BYTES,
      Mounts: studentVolumes(spec, identity.volume).map((volume) => ({ Type: "volume" as const, Source: volume.name, Target: volume.target })),
      RestartPolicy: { Name: "no" },
      LogConfig: { Type: "none", Config: {} },
    },
  };
}
