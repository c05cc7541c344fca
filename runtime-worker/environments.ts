/**
 * The worker's lifecycle logic: starting (warm pool, engine turns, setup script), stopping and
 * removing environments, checks and usage. The shells inside them belong to the terminal host
 * (runtime-worker/terminals/terminal-host.ts); the manager hands it the terminal calls so the
 * worker keeps one object to speak to. It speaks only to the RuntimeDriver interface, never to dockerode.
 */
import type { Readable } from "node:stream";
import pLimit, { type LimitFunction } from "p-limit";
import type { CheckRequest, EnvironmentSpec, EnvironmentUsage, OpenTerminalRequest, SnapshotPartRequest, TerminalRef } from "../protocol/worker-messages";
import { ServiceSpecs } from "../common/services";
import type { ServiceLogsRequest } from "../protocol/worker-messages";
import type { z } from "zod";
import { runCheck, runScript } from "./checks/run-check";
import type { WarmPool } from "./pool/warm-pool";
import type { TerminalSize } from "../protocol/ids";
import type { RuntimeDriver } from "./driver";
import type { OutputBudgetOptions } from "./terminals/output-budget";
import { TerminalHost, type TerminalEvents, type TerminalSummary } from "./terminals/terminal-host";
import { MAIN_TERMINAL, POOLED_MAIN_SHELL, hangUpAndWaitScript } from "./terminals/shell-scripts";
import type { Logger } from "../common/logger";
import { WorkerRequestError } from "./request-error";

export { POOLED_MAIN_SHELL } from "./terminals/shell-scripts";
export type { TerminalEvents, TerminalSummary } from "./terminals/terminal-host";

const SETUP_TIMEOUT_SECONDS = 300;
/**
 * Container creates and starts in flight at once per worker. A class burst thrown at the
 * engine all at once gets everyone's prompt late; in turns, the first get theirs early and
 * the last no later (tests/bench/start-concurrency-bench.ts measures it on a host).
 */
export const DEFAULT_START_CONCURRENCY = 4;

/** The template's setup script ran and failed: the template's fault, not the engine's. */
class SetupScriptError extends Error {}

export type StartedEnvironment = { containerId: string; volumeName: string; fromPool: boolean };

/** The last CPU reading per environment, to turn CPU time into a percentage. */
type CpuReading = { cpuNanos: number; at: number };

export class EnvironmentManager {
  /** The shells inside the environments: attaches, input, tabs (the calls below hand them over). */
  private readonly terminals: TerminalHost;
  private readonly cpuReadings = new Map<string, CpuReading>();
  /** Starts in flight, per environment: a second start joins the first. */
  private readonly starting = new Map<string, Promise<StartedEnvironment>>();
  /** Creates and starts take turns at the engine (setup scripts and shells do not wait here). */
  private readonly engineTurns: LimitFunction;

  constructor(
    private readonly driver: RuntimeDriver,
    events: TerminalEvents,
    private readonly log: Logger,
    private readonly pool?: WarmPool,
    startConcurrency = DEFAULT_START_CONCURRENCY,
    /** How fast each terminal's output may flow (the worker's setting when unset). */
    terminalOutput?: OutputBudgetOptions,
  ) {
    this.engineTurns = pLimit(startConcurrency);
    this.terminals = new TerminalHost(driver, events, log, terminalOutput);
  }

  /**
   * Creates (first time) or resumes (container stopped) the environment; idempotent. Two
   * starts of one environment at once share one attempt: never two pooled containers taken
   * or one workspace prepared twice.
   */
  start(spec: EnvironmentSpec): Promise<StartedEnvironment> {
    const pending = this.starting.get(spec.environmentId);
    if (pending) return pending;
    const starting = this.startOnce(spec).finally(() => this.starting.delete(spec.environmentId));
    this.starting.set(spec.environmentId, starting);
    return starting;
  }

  private async startOnce(spec: EnvironmentSpec): Promise<StartedEnvironment> {
    // A first start (no workspace yet, no container) can take a warm container.
    if (!spec.volumeName && this.pool && (await this.driver.state(spec.environmentId)) === "missing") {
      const pooled = await this.startFromPool(spec);
      if (pooled) return pooled;
    }
    // Volumes first, outside the engine's turns: a turn is for the engine's work alone.
    await this.driver.prepareVolumes(spec);
    const { containerId, volumeName, created } = await this.engineTurns(async () => {
      // Without a setup script the main shell starts with the container; with one it must wait for the setup.
      const made = await this.driver.create(spec, spec.setupScript?.trim() ? undefined : POOLED_MAIN_SHELL);
      if ((await this.driver.state(spec.environmentId)) !== "running") await this.driver.start(spec.environmentId);
      return made;
    });
    try {
      await this.startServices(spec);
    } catch (error) {
      // No environment without its services: the next start tries again (the workspace stays).
      await this.driver.remove(spec.environmentId, { removeVolume: false });
      throw error;
    }
    if (created && spec.setupScript?.trim()) {
      try {
        await this.runSetup(spec.environmentId, spec.setupScript);
      } catch (error) {
        // No half-set-up container; the workspace stays for the next attempt.
        await this.driver.remove(spec.environmentId, { removeVolume: false });
        throw error;
      }
    }
    this.log.info({ environmentId: spec.environmentId, containerId }, "environment running");
    return { containerId, volumeName, fromPool: false };
  }

  /**
   * Takes a warm container for a first start; undefined when none is ready, or when handing
   * one over failed on the engine's side (a rename, an exec): that container goes and the
   * start makes a new one the usual way, so a pool's trouble never costs a student their start.
   * A setup script that fails is the template's fault, and fails the start as it would cold.
   */
  private async startFromPool(spec: EnvironmentSpec): Promise<StartedEnvironment | undefined> {
    const slotId = this.pool?.take(spec);
    if (!slotId) return undefined;
    try {
      const assigned = await this.driver.assignPooled(slotId, spec.environmentId);
      // The pool started its services and waited for them: this finds them running as declared.
      await this.startServices(spec);
      if (spec.setupScript?.trim()) {
        // The pool's shell predates the setup (its dotfiles, PATH, files): it goes first,
        // and the student's first attach starts a shell that sees what the setup made.
        await this.endPooledShell(spec.environmentId);
        await this.runSetup(spec.environmentId, spec.setupScript);
      }
      this.log.info({ environmentId: spec.environmentId, containerId: assigned.containerId }, "environment running (warm pool)");
      return { ...assigned, fromPool: true };
    } catch (error) {
      const nameFree = await this.discardPooled(slotId, spec.environmentId);
      if (error instanceof SetupScriptError || !nameFree) throw error;
      this.log.warn(
        { environmentId: spec.environmentId, slotId, err: (error as Error).message },
        "a warm container could not be handed over: starting a new one",
      );
      return undefined;
    }
  }

  /**
   * A pooled container whose start failed goes, with its volume: renamed or not, nothing
   * records it (the server stores a workspace only once a start succeeds), so it would leak.
   * True when the environment's name is free again (a new container may take it).
   */
  private async discardPooled(slotId: string, environmentId: string): Promise<boolean> {
    const report = (error: Error) => this.log.error({ environmentId, slotId, err: error.message }, "could not remove a pooled container after a failed start");
    // Only this attempt can have put a container under the environment's name (it was missing).
    if ((await this.driver.state(environmentId).catch(() => "missing")) !== "missing") {
      await this.driver.remove(environmentId, { removeVolume: true }).catch(report);
    }
    await this.driver.removePooled(slotId).catch(report); // not renamed, or its volume left over
    return (await this.driver.state(environmentId).catch(() => "unknown")) === "missing";
  }

  /** Not fatal: a shell that predates the setup still works (an image without pkill keeps it). */
  private async endPooledShell(environmentId: string) {
    const outcome = await runScript(this.driver, { environmentId, script: hangUpAndWaitScript(MAIN_TERMINAL), timeoutSeconds: 15 }, "student");
    if (outcome.exitCode !== 0)
      this.log.warn(
        { environmentId, exitCode: outcome.exitCode, output: outcome.output.trim().slice(-300) },
        "the warm pool's shell did not end before the setup script",
      );
  }

  /** The template's setup script, once per new container. */
  private async runSetup(environmentId: string, script: string) {
    // As the student (it prepares their files), from stdin, with a clean environment.
    const outcome = await runScript(this.driver, { environmentId, script, timeoutSeconds: SETUP_TIMEOUT_SECONDS }, "student");
    if (outcome.exitCode === 0) return;
    const why = outcome.timedOut ? `ran longer than ${SETUP_TIMEOUT_SECONDS} s` : `exited with ${outcome.exitCode}`;
    throw new SetupScriptError(`The environment's setup script ${why}: ${outcome.output.trim().slice(-500)}`);
  }

  /** Before the setup script, so it can fill a database the template provides. */
  private async startServices(spec: EnvironmentSpec) {
    if (!spec.services?.length) return;
    await this.driver.startServices(spec.environmentId, ServiceSpecs.parse(spec.services));
    this.log.info({ environmentId: spec.environmentId, services: spec.services.map((service) => service.name) }, "services ready");
  }

  async serviceLogs(request: z.infer<typeof ServiceLogsRequest>) {
    if ((await this.driver.state(request.environmentId)) === "missing") throw new WorkerRequestError("not_running", "This environment is not running.");
    return { log: (await this.driver.serviceLogs(request.environmentId, request.service, request.lines)).slice(-1024 * 1024) };
  }

  /**
   * A preview's tunnel: `input` (the browser's bytes) to a port on the environment's loopback,
   * its answer back (the server checked the port is previewable and the person may see it).
   */
  async openPreview(environmentId: string, port: number, input: Readable): Promise<Readable> {
    if ((await this.driver.state(environmentId)) !== "running") throw new WorkerRequestError("not_running", "This environment is not running.");
    const connection = await this.driver.openLoopback(environmentId, port);
    input.pipe(connection.input);
    // Either side breaking ends both: no relay outlives its tunnel.
    input.once("error", () => connection.close());
    connection.output.once("close", () => {
      input.destroy();
      connection.close();
    });
    return connection.output;
  }

  async stop(environmentId: string) {
    this.terminals.closeTerminalsOf(environmentId);
    await this.driver.stop(environmentId);
  }

  async remove(environmentId: string, removeVolume: boolean, volumeName: string | null = null) {
    this.terminals.closeTerminalsOf(environmentId);
    await this.driver.remove(environmentId, { removeVolume, volumeName });
  }

  /** The environment's files as a tar stream (a download, a snapshot, a move's first half). */
  async exportWorkspace(spec: EnvironmentSpec): Promise<Readable> {
    const archive = await this.driver.exportWorkspace(spec);
    if (!archive) throw new WorkerRequestError("no_workspace", "This environment has no workspace on this worker.");
    this.log.info({ environmentId: spec.environmentId }, "workspace export started");
    return archive;
  }

  /** Unpacks a tar stream into the environment's volumes (a move's second half, a restore). */
  async importWorkspace(spec: EnvironmentSpec, archive: Readable) {
    const imported = await this.driver.importWorkspace(spec, archive);
    this.log.info({ environmentId: spec.environmentId, volumeName: imported.volumeName }, "workspace imported");
    return imported;
  }

  async check(request: CheckRequest) {
    if ((await this.driver.state(request.environmentId)) !== "running") {
      throw new WorkerRequestError("not_running", "This environment is not running. Start it again from the lab page, then check.");
    }
    return runCheck(this.driver, request);
  }

  /** CPU (percent of one core, since the last reading), memory and processes of each running environment, with their limits. */
  async usage(): Promise<Record<string, EnvironmentUsage>> {
    const running = (await this.driver.list()).filter((container) => container.state === "running");
    const usage: Record<string, EnvironmentUsage> = {};
    const now = Date.now();
    await Promise.all(
      running.map(async ({ environmentId }) => {
        const sample = await this.driver.sample(environmentId).catch(() => null);
        if (!sample) return;
        const previous = this.cpuReadings.get(environmentId);
        this.cpuReadings.set(environmentId, { cpuNanos: sample.cpuNanos, at: now });
        const elapsedNanos = previous ? (now - previous.at) * 1e6 : 0;
        const cpuPercent = previous && elapsedNanos > 0 ? Math.max(0, ((sample.cpuNanos - previous.cpuNanos) / elapsedNanos) * 100) : 0;
        usage[environmentId] = {
          cpuPercent: Math.round(cpuPercent * 10) / 10,
          memoryBytes: sample.memoryBytes,
          memoryLimitBytes: sample.memoryLimitBytes,
          pids: sample.pids,
          pidsLimit: sample.pidsLimit,
          cpuLimitPercent: sample.nanoCpus / 1e7,
        };
      }),
    );
    for (const environmentId of this.cpuReadings.keys()) if (!(environmentId in usage)) this.cpuReadings.delete(environmentId);
    return usage;
  }

  async runningCount() {
    return (await this.driver.list()).filter((container) => container.state === "running").length;
  }

  async list() {
    return (await this.driver.list()).map(({ environmentId, state }) => ({ environmentId, state }));
  }

  // The terminal host's calls, kept on the manager for the worker and the tests.
  openTerminal(request: OpenTerminalRequest): Promise<TerminalSummary> {
    return this.terminals.openTerminal(request);
  }
  snapshot(ref: TerminalRef): Promise<TerminalSummary> {
    return this.terminals.snapshot(ref);
  }
  snapshotPart(request: SnapshotPartRequest): { data: string } {
    return this.terminals.snapshotPart(request);
  }
  closeTerminal(ref: TerminalRef) {
    return this.terminals.closeTerminal(ref);
  }
  terminalIds(environmentId: string): string[] {
    return this.terminals.terminalIds(environmentId);
  }
  input(ref: TerminalRef, data: string): Promise<void> {
    return this.terminals.input(ref, data);
  }
  resize(ref: TerminalRef, size: TerminalSize) {
    return this.terminals.resize(ref, size);
  }
  resetLinks() {
    this.terminals.resetLinks();
  }
  activitySince(sinceMs: number): Record<string, number> {
    return this.terminals.activitySince(sinceMs);
  }
  get pendingInputBytes() {
    return this.terminals.pendingInputBytes;
  }
  get unacknowledgedOutputBytes() {
    return this.terminals.unacknowledgedOutputBytes;
  }
  get openTerminalCount() {
    return this.terminals.openTerminalCount;
  }
  closeAll() {
    this.terminals.closeAll();
  }
}
