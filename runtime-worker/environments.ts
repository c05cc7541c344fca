/**
 * The worker's lifecycle logic: starting environments and the terminals inside them.
 * It speaks only to the RuntimeDriver interface, never to dockerode.
 */
import type { CheckRequest, EnvironmentSpec, OpenTerminalRequest, TerminalRef } from "../protocol/worker-messages";
import { runCheck } from "./checks/run-check";
import type { WarmPool } from "./pool/warm-pool";
import type { TerminalSize } from "../protocol/ids";
import type { RuntimeDriver } from "./driver";
import { TerminalSession, type OutputListener, type TerminalSnapshot } from "./terminals/terminal-session";
import type { Logger } from "../common/logger";

/** A login shell, so the image's profile and the student's .bashrc apply. */
const SHELL_COMMAND = ["/bin/bash", "-l"];
const SETUP_TIMEOUT_SECONDS = 300;

export interface TerminalEvents {
  output(ref: TerminalRef, chunk: Uint8Array, offset: number): void;
  exit(ref: TerminalRef, exitCode: number | null): void;
}

const keyOf = (ref: TerminalRef) => `${ref.environmentId}/${ref.terminalId}`;

export class EnvironmentManager {
  private readonly terminals = new Map<string, TerminalSession>();
  private readonly opening = new Map<string, Promise<TerminalSession>>();

  constructor(
    private readonly driver: RuntimeDriver,
    private readonly events: TerminalEvents,
    private readonly log: Logger,
    private readonly pool?: WarmPool,
  ) {}

  /** Creates (first time) or resumes (container stopped) the environment; idempotent. */
  async start(spec: EnvironmentSpec) {
    // A first start (no workspace yet, no container) can take a warm container.
    if (!spec.volumeName && this.pool && (await this.driver.state(spec.environmentId)) === "missing") {
      const slotId = this.pool.take(spec);
      if (slotId) {
        const assigned = await this.driver.assignPooled(slotId, spec.environmentId);
        if (spec.setupScript?.trim()) await this.runSetup(spec.environmentId, spec.setupScript);
        this.log.info({ environmentId: spec.environmentId, containerId: assigned.containerId }, "environment running (warm pool)");
        return { ...assigned, fromPool: true };
      }
    }
    const { containerId, volumeName, created } = await this.driver.create(spec);
    if ((await this.driver.state(spec.environmentId)) !== "running") await this.driver.start(spec.environmentId);
    if (created && spec.setupScript?.trim()) await this.runSetup(spec.environmentId, spec.setupScript);
    this.log.info({ environmentId: spec.environmentId, containerId }, "environment running");
    return { containerId, volumeName, fromPool: false };
  }

  /** The template's setup script, once per new container; a failure leaves no half-set-up container. */
  private async runSetup(environmentId: string, script: string) {
    const outcome = await runCheck(this.driver, { environmentId, script, timeoutSeconds: SETUP_TIMEOUT_SECONDS });
    if (outcome.exitCode === 0) return;
    await this.driver.remove(environmentId, { removeVolume: false });
    const why = outcome.timedOut ? `ran longer than ${SETUP_TIMEOUT_SECONDS} s` : `exited with ${outcome.exitCode}`;
    throw new Error(`The environment's setup script ${why}: ${outcome.output.trim().slice(-500)}`);
  }

  async stop(environmentId: string) {
    this.closeTerminalsOf(environmentId);
    await this.driver.stop(environmentId);
  }

  async remove(environmentId: string, removeVolume: boolean, volumeName: string | null = null) {
    this.closeTerminalsOf(environmentId);
    await this.driver.remove(environmentId, { removeVolume, volumeName });
  }

  async check(request: CheckRequest) {
    if ((await this.driver.state(request.environmentId)) !== "running") {
      throw new Error("This environment is not running. Start it again from the lab page, then check.");
    }
    return runCheck(this.driver, request);
  }

  /** Attaches to the terminal's shell, starting it if needed, and returns its screen. */
  async openTerminal(request: OpenTerminalRequest): Promise<TerminalSnapshot> {
    const session = await this.sessionFor(request, request);
    await session.resize(request);
    return session.snapshot();
  }

  input(ref: TerminalRef, data: string) {
    this.terminals.get(keyOf(ref))?.write(data);
  }

  async resize(ref: TerminalRef, size: TerminalSize) {
    await this.terminals.get(keyOf(ref))?.resize(size);
  }

  async runningCount() {
    return (await this.driver.list()).filter((container) => container.state === "running").length;
  }

  /** Last terminal activity per environment, for those active since `sinceMs`. */
  activitySince(sinceMs: number): Record<string, number> {
    const activity: Record<string, number> = {};
    for (const [key, session] of this.terminals) {
      const environmentId = key.slice(0, key.indexOf("/"));
      if (session.lastActivityAt > sinceMs) activity[environmentId] = Math.max(activity[environmentId] ?? 0, session.lastActivityAt);
    }
    return activity;
  }

  async list() {
    return (await this.driver.list()).map(({ environmentId, state }) => ({ environmentId, state }));
  }

  get openTerminalCount() {
    return this.terminals.size;
  }

  closeAll() {
    for (const session of this.terminals.values()) session.close();
    this.terminals.clear();
  }

  private async sessionFor(ref: TerminalRef, size: TerminalSize): Promise<TerminalSession> {
    const key = keyOf(ref);
    const existing = this.terminals.get(key);
    if (existing?.isOpen) return existing;
    // Two tabs attaching at once must share one shell, not start two.
    const pending = this.opening.get(key);
    if (pending) return pending;
    const opening = this.spawnShell(ref, size).finally(() => this.opening.delete(key));
    this.opening.set(key, opening);
    return opening;
  }

  private async spawnShell(ref: TerminalRef, size: TerminalSize) {
    if ((await this.driver.state(ref.environmentId)) !== "running") {
      throw new Error("This environment is not running. Start it again from the lab page.");
    }
    const shell = await this.driver.exec(ref.environmentId, SHELL_COMMAND, size);
    const relay: OutputListener = (chunk, offset) => this.events.output(ref, chunk, offset);
    const session = new TerminalSession(shell, size, relay);
    const key = keyOf(ref);
    this.terminals.set(key, session);
    void session.exitCode.then((exitCode) => {
      if (this.terminals.get(key) === session) this.terminals.delete(key);
      this.events.exit(ref, exitCode);
    });
    this.log.info({ environmentId: ref.environmentId, terminalId: ref.terminalId }, "shell started");
    return session;
  }

  private closeTerminalsOf(environmentId: string) {
    for (const [key, session] of this.terminals) {
      if (key.startsWith(`${environmentId}/`)) {
        session.close();
        this.terminals.delete(key);
      }
    }
  }
}
