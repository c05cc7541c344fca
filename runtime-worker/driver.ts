/**
 * The whole contract between the worker's lifecycle logic and a container runtime, in
 * the spirit of JupyterHub's Spawner. The Docker driver implements it today; a
 * Kubernetes driver (a pod per environment) implements the same interface later. The
 * lifecycle code never calls dockerode directly.
 */
import type { Duplex } from "node:stream";
import type { EnvironmentSpec } from "../protocol/worker-messages";
import type { TerminalSize } from "../protocol/ids";

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
}

export interface RuntimeDriver {
  /** Creates the environment's container and workspace volume; no-op when they exist. */
  create(spec: EnvironmentSpec): Promise<{ containerId: string; volumeName: string; created: boolean }>;
  start(environmentId: string): Promise<void>;
  state(environmentId: string): Promise<RuntimeState>;
  /** Runs `command` as the environment's user with a TTY, attached to stdin/stdout. */
  exec(environmentId: string, command: string[], size: TerminalSize): Promise<ShellProcess>;
  stop(environmentId: string): Promise<void>;
  remove(environmentId: string, options: { removeVolume: boolean }): Promise<void>;
  /** Every container this worker manages, found by label (for reconcile and counts). */
  list(): Promise<ManagedContainer[]>;
  /** Builds a Dockerfile into `tag`, relaying the build's log lines. */
  buildImage(dockerfile: string, tag: string, log: (line: string) => void): Promise<void>;
}
