/**
 * An in-memory RuntimeDriver for the fast test tier: the worker's lifecycle rules (starts,
 * turns, the warm pool, setup scripts, terminals, usage) run against it in milliseconds,
 * without Docker. It honours the same contract as the Docker driver
 * (tests/support/runtime-driver-contract.ts runs against both). One FakeEngine stands for
 * one container engine; drivers of several worker ids can share it, as workers share a
 * host's Docker. Engine calls answer asynchronously, and faults are injected through
 * `faults` (fail the next call, hold calls until released, count calls in flight).
 */
import { PassThrough, Readable } from "node:stream";
import { randomBytes } from "node:crypto";
import type { TerminalSize } from "../../../protocol/ids";
import type { BuildLimits, EnvironmentSpec, PoolTemplate } from "../../../protocol/worker-messages";
import { homeVolumeName, pooledVolumeName, studentVolumes, volumeName } from "../../../runtime-worker/docker/container-config";
import type { ManagedContainer, ResourceSample, RuntimeDriver, RuntimeState, ScriptProcess, ShellProcess, ShellToStart } from "../../../runtime-worker/driver";
import type { ServiceSpec } from "../../../common/services";
import { EngineFaults } from "./faults";
import { FakeShell } from "./fake-shell";
import { runScriptText } from "./mini-shell";

export { EngineFaults, type Hold } from "./faults";

type Limits = EnvironmentSpec["limits"];

export interface FakeContainer {
  id: string;
  /** Which environment (env:<id>) or pool slot (pool:<slotId>) the name says it serves. */
  name: string;
  workerId: string;
  image: string;
  limits: Limits;
  volume: string;
  poolKey?: string;
  running: boolean;
  /** Started with the container, under the holder (a pooled or freshly created main shell). */
  shellToStart?: ShellToStart;
  shells: Map<string, FakeShell>;
  /** CPU time so far (tests move it on with `FakeRuntimeDriver.useCpu`). */
  cpuNanos: number;
  memoryBytes: number;
  /** Processes running, when a test says so (otherwise its init and its shells). */
  processes?: number;
  /** Sidecar services started beside it, by name. */
  services?: string[];
}

export interface ScriptRun {
  environmentId: string;
  command: string[];
  user?: string;
  input: string;
}

/** A script's outcome; "hang" never exits (a setup that runs past its time limit). */
export type ScriptOutcome = { output: string; exitCode: number | null } | "hang";

const envName = (environmentId: string) => `env:${environmentId}`;
const poolName = (slotId: string) => `pool:${slotId}`;
const TAGGED_HANG_UP = /shellroom-tab=([a-z0-9-]+)\$.*kill -HUP/s;

/** The container engine's state: containers by name, volumes, images; shared by its drivers. */
export class FakeEngine {
  readonly containers = new Map<string, FakeContainer>();
  readonly volumes = new Map<string, Record<string, string>>();
  /** A workspace volume's files, as the archive last imported into it (empty when none was). */
  readonly archives = new Map<string, Buffer>();
  readonly images = new Set<string>(["shellroom/default:1"]);
  readonly faults = new EngineFaults();
  /** Every script run, in order (setup scripts, checks, hang-ups). */
  readonly scripts: ScriptRun[] = [];
  /** Decides a script's outcome; unset (or undefined returned), the mini-shell runs its stdin. */
  scriptOutcome?: (run: ScriptRun) => ScriptOutcome | undefined;
}

export class FakeRuntimeDriver implements RuntimeDriver {
  constructor(
    readonly workerId = "fake-worker",
    readonly engine = new FakeEngine(),
  ) {}

  get faults() {
    return this.engine.faults;
  }

  /** The environment's container, if any (for tests' assertions). */
  container(environmentId: string) {
    return this.engine.containers.get(envName(environmentId));
  }

  hasVolume(name: string) {
    return this.engine.volumes.has(name);
  }

  /** The environment's programs used `nanos` more CPU time (usage reports read it). */
  useCpu(environmentId: string, nanos: number) {
    const container = this.container(environmentId);
    if (container) container.cpuNanos += nanos;
  }

  /** The environment now runs `count` processes (a fork bomb: its pids limit). */
  runProcesses(environmentId: string, count: number) {
    const container = this.container(environmentId);
    if (container) container.processes = count;
  }

  async prepareVolumes(spec: EnvironmentSpec) {
    if (this.container(spec.environmentId)) return;
    this.createVolumes(spec, spec.volumeName ?? volumeName(spec.environmentId), { environment: spec.environmentId });
  }

  create(spec: EnvironmentSpec, shell?: ShellToStart) {
    return this.faults.through("create", () => {
      // Checked after the engine's answer too: a create that raced another finds its container (Docker's 409).
      const existing = this.container(spec.environmentId);
      if (existing) return { containerId: existing.id, volumeName: existing.volume, created: false };
      if (!this.engine.images.has(spec.image)) throw new Error(`The image "${spec.image}" does not exist on this worker.`);
      const volume = spec.volumeName ?? volumeName(spec.environmentId);
      this.createVolumes(spec, volume, { environment: spec.environmentId });
      const container = this.newContainer(envName(spec.environmentId), spec, volume, shell);
      return { containerId: container.id, volumeName: volume, created: true };
    });
  }

  start(environmentId: string) {
    return this.faults.through("start", () => this.startContainer(this.existing(environmentId)));
  }

  async state(environmentId: string): Promise<RuntimeState> {
    await Promise.resolve();
    const container = this.container(environmentId);
    if (!container) return "missing";
    return container.running ? "running" : "stopped";
  }

  async exec(environmentId: string, command: string[], size: TerminalSize): Promise<ShellProcess> {
    await Promise.resolve();
    this.runningContainer(environmentId);
    return new FakeShell(`exec-${randomBytes(3).toString("hex")}`, command, size, false).attach();
  }

  attachShell(environmentId: string, terminalId: string, command: string[], size: TerminalSize): Promise<ShellProcess> {
    return this.faults.through("attachShell", () => {
      const container = this.runningContainer(environmentId);
      const existing = container.shells.get(terminalId);
      if (existing?.running) return existing.attach();
      const shell = new FakeShell(terminalId, command, size, true);
      container.shells.set(terminalId, shell);
      return shell.attach();
    });
  }

  runScript(environmentId: string, command: string[], options: { user?: string; input: string }): Promise<ScriptProcess> {
    return this.faults.through("runScript", () => {
      const container = this.runningContainer(environmentId);
      const run: ScriptRun = { environmentId, command, user: options.user, input: options.input };
      this.engine.scripts.push(run);
      const outcome = this.engine.scriptOutcome?.(run) ?? this.hangUpTagged(container, options.input) ?? runScriptText(options.input);
      const output = new PassThrough();
      let abandoned = () => {};
      const gone = new Promise<null>((resolve) => (abandoned = () => resolve(null)));
      let exited: Promise<number | null> = gone;
      if (outcome !== "hang") {
        // As with an exec: the exit code is known once its output has been read to the end.
        exited = new Promise((resolve) => output.once("end", () => resolve(outcome.exitCode)));
        output.end(outcome.output);
      }
      return {
        output,
        exited: () => Promise.race([exited, gone]),
        abandon: () => {
          output.destroy();
          abandoned();
        },
      };
    });
  }

  stop(environmentId: string) {
    return this.faults.through("stop", () => {
      const container = this.container(environmentId);
      if (container) this.stopContainer(container);
    });
  }

  remove(environmentId: string, options: { removeVolume: boolean; volumeName?: string | null }) {
    return this.faults.through("remove", () => {
      const container = this.container(environmentId);
      const volume = container?.volume ?? options.volumeName ?? volumeName(environmentId);
      if (container) this.removeContainer(container);
      if (options.removeVolume) {
        this.engine.volumes.delete(homeVolumeName(volume));
        this.engine.volumes.delete(volume);
      }
    });
  }

  async list(): Promise<ManagedContainer[]> {
    await Promise.resolve();
    return [...this.engine.containers.values()]
      .filter((container) => container.workerId === this.workerId && container.name.startsWith("env:"))
      .map((container) => ({
        environmentId: container.name.slice("env:".length),
        containerId: container.id,
        state: container.running ? ("running" as const) : ("stopped" as const),
        workerId: container.workerId,
      }));
  }

  createPooled(template: PoolTemplate, slotId: string, poolKey: string, shell?: ShellToStart) {
    return this.faults.through("createPooled", () => {
      if (!this.engine.images.has(template.image)) throw new Error(`The image "${template.image}" does not exist on this worker.`);
      const volume = pooledVolumeName(slotId);
      this.createVolumes(template, volume, { pool: poolKey });
      const container = this.newContainer(poolName(slotId), template, volume, shell);
      container.poolKey = poolKey;
      this.startContainer(container);
      const services = template.services ?? [];
      const missing = services.find((service) => !this.engine.images.has(service.image));
      if (missing) {
        this.removeContainer(container);
        for (const { name } of studentVolumes(template, volume)) this.engine.volumes.delete(name);
        throw new Error(`The service "${missing.name}" needs the image "${missing.image}", which is not on this worker.`);
      }
      container.services = services.map((service) => service.name);
    });
  }

  async listPooled() {
    await Promise.resolve();
    return [...this.engine.containers.values()]
      .filter((container) => container.workerId === this.workerId && container.name.startsWith("pool:"))
      .map((container) => ({ slotId: container.name.slice("pool:".length), poolKey: container.poolKey ?? "", running: container.running }));
  }

  assignPooled(slotId: string, environmentId: string) {
    return this.faults.through("assignPooled", () => {
      const container = this.engine.containers.get(poolName(slotId));
      if (!container) throw new Error(`No such container: ${poolName(slotId)}`);
      if (this.container(environmentId)) throw new Error(`Conflict: the name ${envName(environmentId)} is already in use`);
      this.engine.containers.delete(container.name);
      container.name = envName(environmentId);
      this.engine.containers.set(container.name, container);
      return { containerId: container.id, volumeName: container.volume };
    });
  }

  removePooled(slotId: string) {
    return this.faults.through("removePooled", () => {
      const container = this.engine.containers.get(poolName(slotId));
      if (container) this.removeContainer(container);
      this.engine.volumes.delete(homeVolumeName(pooledVolumeName(slotId)));
      this.engine.volumes.delete(pooledVolumeName(slotId));
    });
  }

  async sample(environmentId: string): Promise<ResourceSample | null> {
    await Promise.resolve();
    const container = this.container(environmentId);
    if (!container?.running) return null;
    const processes = container.processes ?? 1 + [...container.shells.values()].filter((shell) => shell.running).length;
    return {
      cpuNanos: container.cpuNanos,
      memoryBytes: container.memoryBytes,
      memoryLimitBytes: container.limits.memoryBytes,
      pids: processes,
      pidsLimit: container.limits.pidsLimit,
      nanoCpus: container.limits.nanoCpus,
    };
  }

  async killProcesses(environmentId: string) {
    await Promise.resolve();
    const container = this.container(environmentId);
    if (!container) throw new Error("This environment has no container on its machine.");
    this.stopContainer(container);
    this.startContainer(container);
  }

  async startServices(environmentId: string, services: ServiceSpec[]) {
    await Promise.resolve();
    const container = this.existing(environmentId);
    if (!container.running) throw new Error("The environment is not running.");
    const missing = services.find((service) => !this.engine.images.has(service.image));
    if (missing) throw new Error(`The service "${missing.name}" needs the image "${missing.image}", which is not on this worker.`);
    container.services = services.map((service) => service.name);
  }

  async serviceLogs(environmentId: string, service: string, lines: number) {
    await Promise.resolve();
    if (!this.container(environmentId)?.services?.includes(service)) throw new Error(`This environment has no service "${service}" running.`);
    return `fake log of ${service} (last ${lines} lines)\n`;
  }

  /** The fake has no loopback: an echo stands in for the port's server. */
  async openLoopback(environmentId: string) {
    await Promise.resolve();
    if (!this.container(environmentId)?.running) throw new Error("This environment is not running.");
    const echo = new PassThrough();
    return { input: echo, output: echo, close: () => echo.destroy() };
  }

  async exportWorkspace(spec: EnvironmentSpec) {
    await Promise.resolve();
    const volume = spec.volumeName ?? volumeName(spec.environmentId);
    if (!this.engine.volumes.has(volume)) return null;
    return Readable.from([this.engine.archives.get(volume) ?? Buffer.alloc(0)]);
  }

  async importWorkspace(spec: EnvironmentSpec, archive: Readable) {
    const volume = spec.volumeName ?? volumeName(spec.environmentId);
    this.createVolumes(spec, volume, { environment: spec.environmentId });
    const chunks: Buffer[] = [];
    for await (const chunk of archive) chunks.push(chunk as Buffer);
    this.engine.archives.set(volume, Buffer.concat(chunks));
    return { volumeName: volume };
  }

  async buildImage(dockerfile: string, tag: string, log: (line: string) => void, options: { limits: BuildLimits; signal?: AbortSignal }) {
    await Promise.resolve();
    if (options.signal?.aborted) throw new Error("The build was cancelled.");
    log(`fake build of ${tag}: ${dockerfile.split("\n").length} line(s)`);
    this.engine.images.add(tag);
  }

  async listImages() {
    await Promise.resolve();
    return [...this.engine.images].sort();
  }

  /** A fake archive: the tag's name as its bytes (loadImage reads it back). */
  async saveImage(tag: string) {
    await Promise.resolve();
    if (!this.engine.images.has(tag)) throw new Error(`The image "${tag}" is not on this worker.`);
    return Readable.from([Buffer.from(`fake-image ${tag}`)]);
  }

  async loadImage(tag: string, source: Readable) {
    const chunks: Buffer[] = [];
    for await (const chunk of source) chunks.push(Buffer.from(chunk as Buffer));
    if (Buffer.concat(chunks).toString() !== `fake-image ${tag}`) throw new Error(`The archive does not hold only ${tag}: refused.`);
    this.engine.images.add(tag);
  }

  // ---- the engine's bookkeeping ----

  private existing(environmentId: string) {
    const container = this.container(environmentId);
    if (!container) throw new Error(`No such container: ${envName(environmentId)}`);
    return container;
  }

  private runningContainer(environmentId: string) {
    const container = this.existing(environmentId);
    if (!container.running) throw new Error(`Container ${envName(environmentId)} is not running`);
    return container;
  }

  private newContainer(name: string, spec: PoolTemplate, volume: string, shellToStart?: ShellToStart): FakeContainer {
    const container: FakeContainer = {
      id: randomBytes(32).toString("hex"),
      name,
      workerId: this.workerId,
      image: spec.image,
      limits: spec.limits,
      volume,
      running: false,
      shellToStart,
      shells: new Map(),
      cpuNanos: 0,
      memoryBytes: 8 * 1024 * 1024,
    };
    this.engine.containers.set(name, container);
    return container;
  }

  private startContainer(container: FakeContainer) {
    if (container.running) return;
    container.running = true;
    const shell = container.shellToStart;
    if (shell) container.shells.set(shell.terminalId, new FakeShell(shell.terminalId, shell.command, shell.size, true));
  }

  private stopContainer(container: FakeContainer) {
    container.running = false;
    container.processes = undefined;
    for (const shell of container.shells.values()) shell.end(null);
    container.shells.clear();
  }

  private removeContainer(container: FakeContainer) {
    this.stopContainer(container);
    this.engine.containers.delete(container.name);
  }

  private createVolumes(spec: Pick<PoolTemplate, "user" | "workingDir" | "limits">, workspace: string, owner: Record<string, string>) {
    for (const { name } of studentVolumes(spec, workspace)) {
      if (!this.engine.volumes.has(name)) this.engine.volumes.set(name, { worker: this.workerId, ...owner });
    }
  }

  /** The platform's hang-up script (see environments.ts): the tagged terminal's shell gets SIGHUP. */
  private hangUpTagged(container: FakeContainer, script: string): ScriptOutcome | undefined {
    const tagged = TAGGED_HANG_UP.exec(script)?.[1];
    if (!tagged) return undefined;
    container.shells.get(tagged)?.end(129);
    container.shells.delete(tagged);
    return { output: "", exitCode: 0 };
  }
}
