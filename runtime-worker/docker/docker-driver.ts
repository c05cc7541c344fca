/**
 * The RuntimeDriver on a Docker engine: student containers and their volumes (create, start,
 * stop, remove, list, sample, kill, build). The processes inside them are DockerShells'
 * (docker-shells.ts) and the warm pool's containers DockerPool's (docker-pool.ts); the driver
 * composes both so the worker sees one RuntimeDriver.
 */
import type { Readable } from "node:stream";
import type Docker from "dockerode";
import type { BuildLimits, EnvironmentSpec, PoolTemplate } from "../../protocol/worker-messages";
import type { TerminalSize } from "../../protocol/ids";
import type { ManagedContainer, ResourceSample, RuntimeDriver, RuntimeState, ScriptProcess, ShellProcess, ShellToStart } from "../driver";
import { buildInstructorImage } from "../images/instructor-build";
import { listImageTags, loadImage, saveImage } from "../images/image-archive";
import type { WorkspaceVolumes } from "./workspace-volumes";
import { HOLDER_BINARY, HOLDER_MOUNT, ensureHolderVolume, type HolderBinary } from "../holder/holder-volume";
import {
  ENVIRONMENT_PREFIX,
  LABEL_ENVIRONMENT,
  LABEL_HELD_SHELL,
  LABEL_MANAGED,
  LABEL_OWNER,
  LABEL_WORKER,
  containerCreateOptions,
  containerName,
  homeVolumeName,
  studentVolumes,
  volumeName,
} from "./container-config";
import { RuntimeError, inspectContainer, outdated, statusOf, volumeExists } from "./docker-support";
import { DockerShells, relayPossible } from "./docker-shells";
import { DockerPool } from "./docker-pool";
import { DockerSidecars } from "./docker-sidecars";
import { environmentOwner } from "./sidecar-config";
import { openLoopbackRelay } from "./loopback-relay";
import type { ServiceSpec } from "../../common/services";
import { exportArchive, importArchive, removeLeftoverTransfers } from "./workspace-archive";

export { RuntimeError } from "./docker-support";

/**
 * The named volume mounted as the workspace (it may have come from the warm pool): the one
 * at the working directory, not the home volume or the platform's read-only PTY holder.
 */
const workspaceVolumeOf = (info: Docker.ContainerInspectInfo) =>
  info.Mounts.find((mount) => mount.Type === "volume" && mount.Destination === info.Config.WorkingDir)?.Name;

/** How long a create that lost a race waits for the winner's container to be visible. */
const RACED_CREATE_WAIT_MS = 5_000;

export class DockerDriver implements RuntimeDriver {
  private readonly shells: DockerShells;
  private readonly pool: DockerPool;
  private readonly sidecars: DockerSidecars;

  constructor(
    private readonly docker: Docker,
    private readonly workerId: string,
    /** Size-limited workspaces where the host supports them; plain volumes otherwise. */
    private readonly volumes?: WorkspaceVolumes,
    /** The compiled PTY holder: shells then outlive the worker. Without it they end with it. */
    private readonly holder?: HolderBinary,
    /** Attach to running shells through the holder's relay instead of an exec (see holder-relay.ts). */
    directAttach = holder !== undefined && relayPossible(docker),
  ) {
    this.shells = new DockerShells(docker, holder, directAttach);
    this.sidecars = new DockerSidecars(docker, workerId);
    this.pool = new DockerPool(docker, workerId, this.sidecars, {
      createVolume: (name, labels, diskBytes) => this.createVolume(name, labels, diskBytes),
      removeVolume: (name) => this.removeVolume(name),
      withHolder: (options, shell) => this.withHolder(options, shell),
    });
  }

  /** The holder's volume for containers made from `image` (filled once per driver). */
  private holderVolume?: Promise<string>;

  /**
   * Mounts the PTY holder read-only into a container about to be created and, given a shell,
   * makes starting it the container's command (`shellroom-holder init`): that shell is then
   * running from the container's first moment, and no exec is needed to start it.
   */
  private async withHolder(options: Docker.ContainerCreateOptions, shell?: ShellToStart): Promise<Docker.ContainerCreateOptions> {
    if (!this.holder) return options;
    this.holderVolume ??= ensureHolderVolume(this.docker, options.Image!, this.holder).catch((error: unknown) => {
      this.holderVolume = undefined; // try again with the next container
      throw error;
    });
    const mount = { Type: "volume" as const, Source: await this.holderVolume, Target: HOLDER_MOUNT, ReadOnly: true };
    const mounted = { ...options, HostConfig: { ...options.HostConfig, Mounts: [...(options.HostConfig?.Mounts ?? []), mount] } };
    if (!shell) return mounted;
    const { terminalId, command, size } = shell;
    return {
      ...mounted,
      Cmd: [HOLDER_BINARY, "init", terminalId, String(size.cols), String(size.rows), "--", ...command],
      Labels: { ...mounted.Labels, [LABEL_HELD_SHELL]: terminalId },
    };
  }

  attachShell(environmentId: string, terminalId: string, command: string[], size: TerminalSize): Promise<ShellProcess> {
    return this.shells.attachShell(environmentId, terminalId, command, size);
  }

  exec(environmentId: string, command: string[], size: TerminalSize): Promise<ShellProcess> {
    return this.shells.exec(environmentId, command, size);
  }

  runScript(environmentId: string, command: string[], options: { user?: string; input: string }): Promise<ScriptProcess> {
    return this.shells.runScript(environmentId, command, options);
  }

  /** Idempotent: an existing workspace volume is reused as it is (a home volume is added beside it). */
  private async createStudentVolumes(spec: EnvironmentSpec, volume: string) {
    await Promise.all(
      studentVolumes(spec, volume).map(({ name, diskBytes }) =>
        this.createVolume(
          name,
          {
            [LABEL_MANAGED]: "true",
            [LABEL_ENVIRONMENT]: spec.environmentId,
            [LABEL_OWNER]: spec.ownerId,
            [LABEL_WORKER]: this.workerId,
          },
          diskBytes,
        ),
      ),
    );
  }

  async prepareVolumes(spec: EnvironmentSpec) {
    // A container that exists already has its volumes (create() reuses them).
    if (await this.inspect(spec.environmentId)) return;
    await this.createStudentVolumes(spec, spec.volumeName ?? volumeName(spec.environmentId));
  }

  async create(spec: EnvironmentSpec, shell?: ShellToStart) {
    const existing = await this.inspect(spec.environmentId);
    // The workspace a container already has wins (it may have come from the warm pool).
    const volume = (existing && workspaceVolumeOf(existing)) ?? spec.volumeName ?? volumeName(spec.environmentId);
    // A stopped container from an older policy is replaced (its volumes stay): it was set up already.
    const replacing = existing !== null && outdated(existing.Config.Labels) && !existing.State.Running;
    if (existing && !replacing) return { containerId: existing.Id, volumeName: volume, created: false };
    if (replacing) await this.docker.getContainer(existing.Id).remove({ force: true });

    await this.createStudentVolumes(spec, volume);
    try {
      const container = await this.docker.createContainer(await this.withHolder(containerCreateOptions({ ...spec, volumeName: volume }, this.workerId), shell));
      return { containerId: container.id, volumeName: volume, created: !replacing };
    } catch (error) {
      if (statusOf(error) === 404) throw new RuntimeError(`The image "${spec.image}" does not exist on this worker.`);
      // Two starts raced: the other one created it, which is what we wanted.
      if (statusOf(error) === 409) {
        const raced = await this.inspectRaced(spec.environmentId);
        if (raced) return { containerId: raced.Id, volumeName: volume, created: false };
      }
      throw error;
    }
  }

  async start(environmentId: string) {
    try {
      await this.docker.getContainer(containerName(environmentId)).start();
    } catch (error) {
      if (statusOf(error) !== 304) throw error; // 304: already running
    }
  }

  async state(environmentId: string): Promise<RuntimeState> {
    const info = await this.inspect(environmentId);
    if (!info) return "missing";
    return info.State.Running ? "running" : "stopped";
  }

  startServices(environmentId: string, services: ServiceSpec[]) {
    return this.sidecars.ensureRunning(environmentOwner(environmentId), services);
  }

  serviceLogs(environmentId: string, service: string, lines: number) {
    return this.sidecars.logs(environmentId, service, lines);
  }

  openLoopback(environmentId: string, port: number) {
    return openLoopbackRelay(this.docker, environmentId, port);
  }

  async stop(environmentId: string) {
    await this.sidecars.stopAll(environmentId);
    try {
      await this.docker.getContainer(containerName(environmentId)).stop({ t: 2 });
    } catch (error) {
      if (statusOf(error) !== 304 && statusOf(error) !== 404) throw error;
    }
  }

  async remove(environmentId: string, options: { removeVolume: boolean; volumeName?: string | null }) {
    const existing = await this.inspect(environmentId);
    const volume = (existing && workspaceVolumeOf(existing)) ?? options.volumeName ?? volumeName(environmentId);
    // Services first: they live in the environment's namespace and go with it.
    await this.sidecars.removeAll(environmentId);
    try {
      await this.docker.getContainer(containerName(environmentId)).remove({ force: true });
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
    if (options.removeVolume) {
      await this.removeVolume(homeVolumeName(volume));
      await this.removeVolume(volume);
    }
  }

  createPooled(template: PoolTemplate, slotId: string, poolKey: string, shell?: ShellToStart) {
    return this.pool.createPooled(template, slotId, poolKey, shell);
  }

  listPooled() {
    return this.pool.listPooled();
  }

  assignPooled(slotId: string, environmentId: string) {
    return this.pool.assignPooled(slotId, environmentId);
  }

  removePooled(slotId: string) {
    return this.pool.removePooled(slotId);
  }

  private async createVolume(name: string, labels: Record<string, string>, diskBytes?: number) {
    if (this.volumes) return this.volumes.create(name, labels, diskBytes);
    await this.docker.createVolume({ Name: name, Labels: labels });
  }

  private async removeVolume(name: string) {
    if (this.volumes) return this.volumes.remove(name);
    try {
      await this.docker.getVolume(name).remove();
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }

  async list(): Promise<ManagedContainer[]> {
    const containers = await this.docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_WORKER}=${this.workerId}`] },
    });
    // The name says which environment a container serves: a pooled container is renamed
    // when it is handed out, and labels cannot change after creation.
    return containers
      .map((container) => ({ name: container.Names[0]?.replace(/^\//, "") ?? "", container }))
      .filter(({ name }) => name.startsWith(ENVIRONMENT_PREFIX))
      .map(({ name, container }) => ({
        environmentId: name.slice(ENVIRONMENT_PREFIX.length),
        containerId: container.Id,
        state: container.State === "running" ? ("running" as const) : ("stopped" as const),
        workerId: container.Labels[LABEL_WORKER] ?? this.workerId,
      }));
  }

  async sample(environmentId: string): Promise<ResourceSample | null> {
    try {
      // one-shot: a single reading without waiting a second for the "previous" one.
      const stats = await this.docker.getContainer(containerName(environmentId)).stats({ stream: false, "one-shot": true } as { stream: false });
      const memory = stats.memory_stats ?? {};
      // Page cache is reclaimable: what the student's programs hold is usage minus inactive files.
      // (cgroup v2 names it inactive_file; v1, as on this host, total_inactive_file.)
      const counters = memory.stats as Record<string, number> | undefined;
      const cache = counters?.inactive_file ?? counters?.total_inactive_file ?? 0;
      if (!stats.cpu_stats?.cpu_usage || memory.usage === undefined) return null;
      const pids = (stats as { pids_stats?: { current?: number; limit?: number } }).pids_stats ?? {};
      return {
        cpuNanos: stats.cpu_stats.cpu_usage.total_usage,
        memoryBytes: Math.max(0, (memory.usage ?? 0) - cache),
        memoryLimitBytes: memory.limit ?? 0,
        pids: pids.current ?? 0,
        // Docker reports "no limit" as a huge number: only a real limit counts.
        pidsLimit: pids.limit && pids.limit < 1_000_000 ? pids.limit : 0,
        nanoCpus: await this.nanoCpusOf(environmentId, (stats as { id?: string }).id),
      };
    } catch (error) {
      if (statusOf(error) === 404 || statusOf(error) === 409) return null;
      throw error;
    }
  }

  /** Stats do not carry the CPU limit: it is read once per container (limits never change on one). */
  private readonly cpuLimits = new Map<string, { containerId: string; nanoCpus: number }>();

  private async nanoCpusOf(environmentId: string, containerId: string | undefined) {
    const known = this.cpuLimits.get(environmentId);
    if (known && known.containerId === containerId) return known.nanoCpus;
    const info = await this.inspect(environmentId);
    if (!info) return 0;
    const nanoCpus = info.HostConfig.NanoCpus ?? 0;
    this.cpuLimits.set(environmentId, { containerId: info.Id, nanoCpus });
    return nanoCpus;
  }

  async killProcesses(environmentId: string) {
    // A signal from outside needs no new process inside: killing PID 1 ends its whole pid
    // namespace, and the restart brings the same container (and workspace) back up.
    try {
      await this.docker.getContainer(containerName(environmentId)).restart({ t: 0 });
    } catch (error) {
      if (statusOf(error) === 404) throw new RuntimeError("This environment has no container on its machine.");
      throw error;
    }
    // Its namespace is a new one: the services join it by starting again (fresh, like a reset).
    await this.sidecars.restartAll(environmentId);
  }

  async exportWorkspace(spec: EnvironmentSpec): Promise<Readable | null> {
    const volume = spec.volumeName ?? volumeName(spec.environmentId);
    const mounts = studentVolumes(spec, volume);
    // Only what exists is read: mounting a missing volume would make an empty one.
    const existing = (await Promise.all(mounts.map(async (mount) => ((await volumeExists(this.docker, mount.name)) ? mount : null)))).filter(
      (mount) => mount !== null,
    );
    if (!existing.some((mount) => mount.name === volume)) return null;
    await this.transfersCleared();
    return exportArchive(this.docker, existing, this.workerId);
  }

  async importWorkspace(spec: EnvironmentSpec, archive: Readable) {
    const volume = spec.volumeName ?? volumeName(spec.environmentId);
    const existed = await volumeExists(this.docker, volume);
    await this.createStudentVolumes(spec, volume);
    try {
      await this.transfersCleared();
      await importArchive(this.docker, studentVolumes(spec, volume), archive, this.workerId);
    } catch (error) {
      // A workspace made for this import and not filled is nobody's: it goes (one that existed stays as it is).
      if (!existed) for (const { name } of studentVolumes(spec, volume)) await this.removeVolume(name).catch(() => undefined);
      throw error;
    }
    return { volumeName: volume };
  }

  /** Before this process's first transfer: what a killed predecessor left (once, shared by all transfers). */
  private leftoversRemoved?: Promise<void>;
  private transfersCleared() {
    this.leftoversRemoved ??= removeLeftoverTransfers(this.docker, this.workerId).catch(() => undefined);
    return this.leftoversRemoved;
  }

  async buildImage(dockerfile: string, tag: string, log: (line: string) => void, options: { limits: BuildLimits; signal?: AbortSignal }) {
    await buildInstructorImage(this.docker, dockerfile, tag, log, { ...options, workerId: this.workerId });
  }

  listImages() {
    return listImageTags(this.docker);
  }

  saveImage(tag: string) {
    return saveImage(this.docker, tag);
  }

  loadImage(tag: string, source: Readable, log?: (line: string) => void) {
    return loadImage(this.docker, tag, source, log);
  }

  /**
   * The container a racing create is making: the engine reserves its name (our create gets
   * 409) a moment before it can be inspected, so a miss is looked at again for a little while.
   */
  private async inspectRaced(environmentId: string) {
    const deadline = Date.now() + RACED_CREATE_WAIT_MS;
    for (;;) {
      const info = await this.inspect(environmentId);
      if (info || Date.now() > deadline) return info;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  private inspect(environmentId: string) {
    return inspectContainer(this.docker, environmentId);
  }
}
