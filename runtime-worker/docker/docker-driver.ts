import { PassThrough, type Duplex } from "node:stream";
import Docker from "dockerode";
import type { BuildLimits, EnvironmentSpec, PoolTemplate } from "../../protocol/worker-messages";
import type { TerminalSize } from "../../protocol/ids";
import type { ManagedContainer, ResourceSample, RuntimeDriver, RuntimeState, ScriptProcess, ShellProcess, ShellToStart } from "../driver";
import { buildInstructorImage } from "../images/instructor-build";
import type { WorkspaceVolumes } from "./workspace-volumes";
import { HOLDER_BINARY, HOLDER_MOUNT, ensureHolderVolume, type HolderBinary } from "../holder/holder-volume";
import { readHolderPreamble } from "../holder/holder-preamble";
import { attachThroughRelay, NoHolderListening, RelayUnavailable } from "../holder/holder-relay";
import {
  ENVIRONMENT_PREFIX,
  LABEL_ENVIRONMENT,
  LABEL_HELD_SHELL,
  LABEL_MANAGED,
  LABEL_OWNER,
  LABEL_POLICY,
  LABEL_POOL,
  LABEL_WORKER,
  POLICY_VERSION,
  POOL_PREFIX,
  containerCreateOptions,
  containerName,
  homeVolumeName,
  pooledContainerName,
  pooledContainerOptions,
  pooledVolumeName,
  studentVolumes,
  volumeName,
} from "./container-config";

/** Thrown with a message a student or instructor can act on. */
export class RuntimeError extends Error {
  override name = "RuntimeError";
}

const statusOf = (error: unknown) => (error as { statusCode?: number }).statusCode;

/**
 * The named volume mounted as the workspace (it may have come from the warm pool): the one
 * at the working directory, not the home volume or the platform's read-only PTY holder.
 */
const workspaceVolumeOf = (info: Docker.ContainerInspectInfo) =>
  info.Mounts.find((mount) => mount.Type === "volume" && mount.Destination === info.Config.WorkingDir)?.Name;

/** Made under an older isolation policy (e.g. before the root filesystem was read-only). */
const outdated = (labels: Record<string, string> | undefined) => labels?.[LABEL_POLICY] !== POLICY_VERSION;

/**
 * The exec's process has already ended: 404/409, or (Docker 20.10) a 500 "container not
 * running - cannot resize a stopped container" when a short command exits before the
 * first resize arrives.
 */
const processGone = (error: unknown) =>
  statusOf(error) === 404 || statusOf(error) === 409 || (statusOf(error) === 500 && /not running|stopped container/i.test(String((error as Error).message)));

/** Colours and UTF-8 whatever the image says (the browser renders both); the size for programs that read it at start. */
const shellEnvironment = (size: TerminalSize) => [`COLUMNS=${size.cols}`, `LINES=${size.rows}`, "TERM=xterm-256color", "COLORTERM=truecolor", "LANG=C.UTF-8"];

/** An exec's exit code once its stream has ended (null when Docker no longer knows it). */
async function exitCodeOf(exec: Docker.Exec, ended: Promise<void>): Promise<number | null> {
  await ended;
  try {
    return (await exec.inspect()).ExitCode ?? null;
  } catch {
    return null;
  }
}

/** How long a create that lost a race waits for the winner's container to be visible. */
const RACED_CREATE_WAIT_MS = 5_000;

/** How long after its container started a held shell may still be getting ready to listen. */
const HELD_SHELL_GRACE_MS = 5_000;

/**
 * The relay enters a container's namespaces from this host: the engine must be on this host
 * (a unix socket: its pids are this kernel's) and the worker root. SHELLROOM_DIRECT_ATTACH=0
 * turns it off (every attach is then an exec, as before).
 */
function relayPossible(docker: Docker) {
  if (process.env.SHELLROOM_DIRECT_ATTACH === "0") return false;
  // socketPath: a path, or dockerode's finder of the default one; an engine over TCP has none.
  const modem = docker.modem as { socketPath?: unknown };
  return (typeof modem.socketPath === "string" || typeof modem.socketPath === "function") && process.getuid?.() === 0;
}

export class DockerDriver implements RuntimeDriver {
  constructor(
    private readonly docker: Docker,
    private readonly workerId: string,
    /** Size-limited workspaces where the host supports them; plain volumes otherwise. */
    private readonly volumes?: WorkspaceVolumes,
    /** The compiled PTY holder: shells then outlive the worker. Without it they end with it. */
    private readonly holder?: HolderBinary,
    /** Attach to running shells through the holder's relay instead of an exec (see holder-relay.ts). */
    private directAttach = holder !== undefined && relayPossible(docker),
  ) {}

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

  /**
   * A terminal's shell through the PTY holder when the container has it: the first attach
   * starts the shell, later ones (after a worker restart too) reattach to the same
   * processes and get the shell's recent output to repaint from. Containers made before
   * the holder existed get a plain exec, which ends with the worker.
   */
  async attachShell(environmentId: string, terminalId: string, command: string[], size: TerminalSize): Promise<ShellProcess> {
    const info = await this.inspect(environmentId);
    if (!info?.Mounts.some((mount) => mount.Destination === HOLDER_MOUNT)) return this.exec(environmentId, command, size);
    if (this.directAttach && this.holder && info.State.Running && info.State.Pid > 0) {
      // The container's own command starts this shell: right after the start it may not listen yet.
      const startedAt = Date.parse(info.State.StartedAt);
      const waitUntil =
        info.Config.Labels?.[LABEL_HELD_SHELL] === terminalId && Date.now() - startedAt < HELD_SHELL_GRACE_MS ? startedAt + HELD_SHELL_GRACE_MS : 0;
      for (;;) {
        try {
          return await attachThroughRelay({ binary: this.holder.binary, containerPid: info.State.Pid, terminalId, size });
        } catch (error) {
          // No holder (a new tab; a shell that ended): the exec below starts it. A relay that cannot run here is not tried again.
          if (error instanceof RelayUnavailable && error.lasting) this.directAttach = false;
          if (!(error instanceof NoHolderListening) || Date.now() > waitUntil) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    }
    const shell = await this.exec(environmentId, [HOLDER_BINARY, "attach", terminalId, String(size.cols), String(size.rows), "--", ...command], size);
    try {
      return { ...shell, history: await readHolderPreamble(shell.stream) };
    } catch (error) {
      shell.stream.destroy();
      throw error;
    }
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

  async exec(environmentId: string, command: string[], size: TerminalSize): Promise<ShellProcess> {
    const container = this.docker.getContainer(containerName(environmentId));
    const exec = await container.exec({
      Cmd: command,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: true,
      Env: shellEnvironment(size),
    });
    // With Tty the hijacked stream is raw (no stdout/stderr multiplexing to undo).
    const stream = (await exec.start({ hijack: true, stdin: true, Tty: true })) as Duplex;
    // Listen before the first await: a short command can end (and its stream close)
    // while the initial resize is in flight, and a missed "close" would hang exited().
    const ended = new Promise<void>((resolve) => {
      if (stream.readableEnded || stream.destroyed) return resolve();
      stream.once("end", resolve);
      stream.once("close", resolve);
      stream.once("error", () => resolve());
    });
    const resize = async (next: TerminalSize) => {
      try {
        await exec.resize({ h: next.rows, w: next.cols });
      } catch (error) {
        if (!processGone(error)) throw error;
      }
    };
    try {
      await resize(size);
    } catch (error) {
      stream.destroy(); // do not leave a half-opened exec behind
      throw error;
    }
    return {
      stream,
      resize,
      exited: () => exitCodeOf(exec, ended),
    };
  }

  async runScript(environmentId: string, command: string[], options: { user?: string; input: string }): Promise<ScriptProcess> {
    const exec = await this.docker.getContainer(containerName(environmentId)).exec({
      Cmd: command,
      User: options.user,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
    const stream = (await exec.start({ hijack: true, stdin: true })) as Duplex;
    const output = new PassThrough();
    const ended = new Promise<void>((resolve) => {
      const end = () => {
        output.end();
        resolve();
      };
      stream.once("end", end);
      stream.once("close", end);
      stream.once("error", end);
    });
    this.docker.modem.demuxStream(stream, output, output);
    // Without a TTY, closing our side ends the process's stdin and leaves its output flowing.
    stream.end(options.input);
    return {
      output,
      abandon: () => stream.destroy(),
      exited: () => exitCodeOf(exec, ended),
    };
  }

  async stop(environmentId: string) {
    try {
      await this.docker.getContainer(containerName(environmentId)).stop({ t: 2 });
    } catch (error) {
      if (statusOf(error) !== 304 && statusOf(error) !== 404) throw error;
    }
  }

  async remove(environmentId: string, options: { removeVolume: boolean; volumeName?: string | null }) {
    const existing = await this.inspect(environmentId);
    const volume = (existing && workspaceVolumeOf(existing)) ?? options.volumeName ?? volumeName(environmentId);
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

  async createPooled(template: PoolTemplate, slotId: string, poolKey: string, shell?: ShellToStart) {
    for (const { name, diskBytes } of studentVolumes(template, pooledVolumeName(slotId))) {
      await this.createVolume(name, { [LABEL_MANAGED]: "true", [LABEL_POOL]: poolKey, [LABEL_WORKER]: this.workerId }, diskBytes);
    }
    try {
      const container = await this.docker.createContainer(await this.withHolder(pooledContainerOptions(template, slotId, poolKey, this.workerId), shell));
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
    await this.removeVolume(homeVolumeName(pooledVolumeName(slotId)));
    await this.removeVolume(pooledVolumeName(slotId));
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
  }

  async buildImage(dockerfile: string, tag: string, log: (line: string) => void, options: { limits: BuildLimits; signal?: AbortSignal }) {
    await buildInstructorImage(this.docker, dockerfile, tag, log, { ...options, workerId: this.workerId });
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

  private async inspect(environmentId: string) {
    try {
      return await this.docker.getContainer(containerName(environmentId)).inspect();
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw error;
    }
  }
}
