/**
 * The whole contract between the worker's lifecycle logic and a container runtime, in
 * the spirit of JupyterHub's Spawner. The Docker driver implements it today; a
 * Kubernetes driver (a pod per environment) implements the same interface later. The
 * lifecycle code never calls dockerode directly.
 */
import type { Duplex, Readable, Writable } from "node:stream";
import type { ServiceSpec } from "../common/services";
import type { BuildLimits, EnvironmentSpec, PoolTemplate } from "../protocol/worker-messages";
import type { TerminalSize } from "../protocol/ids";
import type { ShellHistory } from "./holder/holder-preamble";

export type RuntimeState = "running" | "stopped" | "missing";

export interface ManagedContainer {
  environmentId: string;
  containerId: string;
  state: Exclude<RuntimeState, "missing">;
  workerId: string;
}

/** An interactive process with a TTY inside an environment: raw bytes both ways. */
export interface ShellProcess {
  readonly stream: Duplex;
  resize(size: TerminalSize): Promise<void>;
  /** Resolves with the exit code once the process ends (null when it cannot be known). */
  exited(): Promise<number | null>;
  /** For a shell that was already running (a reattach): its recent output and where it starts. */
  readonly history?: ShellHistory;
}

/** A terminal's shell to have running before anyone attaches (the warm pool's main terminal). */
export interface ShellToStart {
  terminalId: string;
  command: string[];
  size: TerminalSize;
}

/** A script run without a TTY: its stdout and stderr interleaved in `output`. */
export interface ScriptProcess {
  readonly output: Readable;
  /** Resolves with the exit code once the process ends (null when it cannot be known). */
  exited(): Promise<number | null>;
  /** Stops listening (the process itself is ended by its own time limit). */
  abandon(): void;
}

/** A container's resource use right now: CPU time so far, and memory in use and allowed. */
export interface ResourceSample {
  cpuNanos: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  /** Processes now, and the pids limit (0 when unknown). */
  pids: number;
  pidsLimit: number;
  /** The CPU limit in billionths of a core (0 when unlimited or unknown). */
  nanoCpus: number;
}

/** A byte pipe to a port on an environment's loopback (the preview's relay). */
export interface LoopbackConnection {
  /** Bytes for the port; ending it half-closes (the answer still comes). */
  readonly input: Writable;
  /** Bytes from the port; ends when the connection does. */
  readonly output: Readable;
  close(): void;
}

export interface RuntimeDriver {
  /**
   * Creates the environment's container and workspace volume; no-op when they exist. Given
   * `shell`, the container starts it itself where shells can outlive their attach (no exec
   * on the way to the first prompt).
   */
  create(spec: EnvironmentSpec, shell?: ShellToStart): Promise<{ containerId: string; volumeName: string; created: boolean }>;
  /**
   * Makes the environment's volumes ahead of `create` (idempotent; nothing when its container
   * exists): a start prepares them before its turn at the engine, not while holding one.
   */
  prepareVolumes(spec: EnvironmentSpec): Promise<void>;
  start(environmentId: string): Promise<void>;
  state(environmentId: string): Promise<RuntimeState>;
  /** Runs `command` as the environment's user with a TTY, attached to stdin/stdout. */
  exec(environmentId: string, command: string[], size: TerminalSize): Promise<ShellProcess>;
  /**
   * A terminal's shell, `terminalId` naming it: started on the first attach and, where the
   * runtime can keep shells apart from the worker, reattached (same processes) later on.
   * The stream is handed over paused: the caller resumes it once it listens.
   */
  attachShell(environmentId: string, terminalId: string, command: string[], size: TerminalSize): Promise<ShellProcess>;
  /**
   * Runs `command` as `user` ("uid:gid"; the container's user when omitted) without a
   * TTY, writes `input` to its stdin and closes it: scripts travel this way, never in argv
   * or a file in the container.
   */
  runScript(environmentId: string, command: string[], options: { user?: string; input: string }): Promise<ScriptProcess>;
  stop(environmentId: string): Promise<void>;
  /** Removes the container, and its workspace volume when asked (`volumeName` when known). */
  remove(environmentId: string, options: { removeVolume: boolean; volumeName?: string | null }): Promise<void>;
  /** Every container this worker manages, found by label (for reconcile and counts). */
  list(): Promise<ManagedContainer[]>;
  /**
   * Warm pool: creates and starts a container (with a fresh volume) for a template shape,
   * with the template's sidecar services started and ready beside it, and, where shells can
   * outlive their attach, starts `shell` in it: the first attach of that terminal then finds
   * it running and gets its prompt from the replay.
   */
  createPooled(template: PoolTemplate, slotId: string, poolKey: string, shell?: ShellToStart): Promise<void>;
  /** Warm-pool containers on this worker. */
  listPooled(): Promise<Array<{ slotId: string; poolKey: string; running: boolean }>>;
  /** Hands a pooled container (and its services) to an environment: it takes the environment's name. */
  assignPooled(slotId: string, environmentId: string): Promise<{ containerId: string; volumeName: string }>;
  removePooled(slotId: string): Promise<void>;
  /** The environment's CPU time and memory now; null when it is not running. */
  sample(environmentId: string): Promise<ResourceSample | null>;
  /**
   * Ends every process in the environment, even with its process table full (no exec can
   * start then): the container restarts, keeping its filesystem and workspace.
   */
  killProcesses(environmentId: string): Promise<void>;
  /**
   * Starts the environment's sidecar services in its network namespace (the environment runs)
   * and resolves once each passes its readiness probe; keeps services already running as
   * declared. `stop`, `remove` and `killProcesses` take the services with the environment.
   */
  startServices(environmentId: string, services: ServiceSpec[]): Promise<void>;
  /** A service's last `lines` lines of output. */
  serviceLogs(environmentId: string, service: string, lines: number): Promise<string>;
  /** A connection to `port` on the environment's own loopback, made from inside it. */
  openLoopback(environmentId: string, port: number): Promise<LoopbackConnection>;
  /**
   * The environment's files (its workspace and home volumes) as a tar stream, read where no
   * hostile file can reach the host; null when this runtime holds no workspace for it.
   */
  exportWorkspace(spec: EnvironmentSpec): Promise<Readable | null>;
  /** Unpacks a tar stream into the environment's volumes (made when missing), as safely; answers the workspace volume. */
  importWorkspace(spec: EnvironmentSpec, archive: Readable): Promise<{ volumeName: string }>;
  /** Builds a Dockerfile into `tag` within `limits`, relaying the build's log lines; `signal` stops it. */
  buildImage(dockerfile: string, tag: string, log: (line: string) => void, options: { limits: BuildLimits; signal?: AbortSignal }): Promise<void>;
  /** The tagged images this host holds (repository:tag), reported to the server so placement knows who can start what. */
  listImages(): Promise<string[]>;
  /** An image as an archive (`docker save`), for a host that lacks it; refused when it is not here. */
  saveImage(tag: string): Promise<Readable>;
  /** Loads an archive that must hold exactly `tag`; resolves once the image is here. */
  loadImage(tag: string, source: Readable, log?: (line: string) => void): Promise<void>;
}
