/**
 * The worker's lifecycle logic: starting environments and the terminals inside them.
 * It speaks only to the RuntimeDriver interface, never to dockerode.
 */
import pLimit, { type LimitFunction } from "p-limit";
import { MAX_TERMINALS_PER_ENVIRONMENT, isInterrupt } from "../protocol/browser-messages";
import {
  WORKER_INPUT_LIMIT,
  type CheckRequest,
  type EnvironmentSpec,
  type EnvironmentUsage,
  type OpenTerminalRequest,
  type SnapshotPartRequest,
  type TerminalRef,
} from "../protocol/worker-messages";
import { runCheck, runScript } from "./checks/run-check";
import type { WarmPool } from "./pool/warm-pool";
import type { TerminalSize } from "../protocol/ids";
import type { RuntimeDriver, ShellToStart } from "./driver";
import { OutputRelay, type OutputLink } from "./terminals/output-relay";
import { InputBusyError, TerminalSession, type TerminalSnapshot } from "./terminals/terminal-session";
import { outputBudgetFromEnv, type OutputBudgetOptions } from "./terminals/output-budget";
import { SnapshotParts } from "./terminals/snapshot-parts";
import type { Logger } from "../common/logger";

/**
 * A login shell, so the image's profile and the student's .bashrc apply. The argument
 * (bash's $1 with -s) tags the process with its terminal: Docker does not end an exec
 * when its connection closes, so closing a tab hangs up the tagged shell explicitly.
 */
const shellCommand = (terminalId: string) => ["/bin/bash", "-l", "-s", `shellroom-tab=${terminalId}`];
/**
 * The tab's tagged processes: its shell and holder. PID 1 is left out: for a shell the
 * container's own command started, docker-init's command line carries the tag too.
 */
const taggedProcesses = (terminalId: string) => `pgrep -f -- 'shellroom-tab=${terminalId}$' | grep -vx 1`;
const hangUpScript = (terminalId: string) => `${taggedProcesses(terminalId)} | xargs -r kill -HUP 2>/dev/null || true`;
/** The environment's first terminal: the one every lab page opens. */
const MAIN_TERMINAL = "main";
/**
 * The warm pool starts the main terminal's shell in each container ahead of time, at the
 * size a terminal opens with (the attach then resizes it), so that taking a pooled
 * container costs a rename and an attach whose replay already holds the prompt.
 */
export const POOLED_MAIN_SHELL: ShellToStart = { terminalId: MAIN_TERMINAL, command: shellCommand(MAIN_TERMINAL), size: { cols: 80, rows: 24 } };
/**
 * Hangs up the tagged shell and waits (up to ~10 s) until it and its holder are gone, so
 * that the next attach starts a new one instead of reattaching to the ending one.
 */
const hangUpAndWaitScript = (terminalId: string) => `${hangUpScript(terminalId)}
for i in $(seq 200); do ${taggedProcesses(terminalId)} >/dev/null || exit 0; sleep 0.05; done
exit 1`;
/** What the terminal would send for these keys, had its input queue room for them. */
const SIGNAL_OF_KEY: Record<string, string> = { "\x03": "INT", "\x1c": "QUIT", "\x1a": "TSTP" };
/**
 * Signals the foreground job of a tab's terminal directly, as the tty would: the process
 * group in front on the terminal of a tagged process, when that is not the process itself
 * (the shell at its prompt, or the holder's own terminal, is left alone).
 */
const signalScript = (terminalId: string, signal: string) =>
  `for pid in $(${taggedProcesses(terminalId)}); do ps -o pgid=,tpgid= -p "$pid"; done` +
  ` | awk '$2 > 0 && $1 != $2 { print $2 }' | sort -u | while read -r group; do kill -${signal} -- "-$group"; done; true`;
/** A jammed terminal is signalled at most this often (an interrupt spam must not spawn an exec each). */
const SIGNAL_EVERY_MS = 1000;
const SETUP_TIMEOUT_SECONDS = 300;
/**
 * Container creates and starts in flight at once per worker. A class burst thrown at the
 * engine all at once gets everyone's prompt late; in turns, the first get theirs early and
 * the last no later (tests/bench/start-concurrency-bench.ts measures it on a host).
 */
export const DEFAULT_START_CONCURRENCY = 4;

export interface TerminalEvents {
  /** Where a terminal's output goes (the server link, with acknowledgements). */
  link(ref: TerminalRef): OutputLink;
  exit(ref: TerminalRef, exitCode: number | null): void;
  /** The environment's set of open terminals changed. */
  tabs(environmentId: string, terminalIds: string[]): void;
}

/** A snapshot's first piece; `snapshotId` and `parts` when more are to be fetched (see SnapshotParts). */
export type TerminalSummary = TerminalSnapshot & { terminalIds: string[]; snapshotId?: string; parts?: number };

export type StartedEnvironment = { containerId: string; volumeName: string; fromPool: boolean };

/** The last CPU reading per environment, to turn CPU time into a percentage. */
type CpuReading = { cpuNanos: number; at: number };

const keyOf = (ref: TerminalRef) => `${ref.environmentId}/${ref.terminalId}`;

export class EnvironmentManager {
  private readonly terminals = new Map<string, TerminalSession>();
  private readonly relays = new Map<string, OutputRelay>();
  private readonly opening = new Map<string, Promise<TerminalSession>>();
  private readonly cpuReadings = new Map<string, CpuReading>();
  private readonly snapshotParts = new SnapshotParts();
  private readonly signalledAt = new Map<string, number>();
  /** Starts in flight, per environment: a second start joins the first. */
  private readonly starting = new Map<string, Promise<StartedEnvironment>>();
  /** Creates and starts take turns at the engine (setup scripts and shells do not wait here). */
  private readonly engineTurns: LimitFunction;

  constructor(
    private readonly driver: RuntimeDriver,
    private readonly events: TerminalEvents,
    private readonly log: Logger,
    private readonly pool?: WarmPool,
    startConcurrency = DEFAULT_START_CONCURRENCY,
    /** How fast each terminal's output may flow (the worker's setting when unset). */
    private readonly terminalOutput: OutputBudgetOptions = outputBudgetFromEnv(),
  ) {
    this.engineTurns = pLimit(startConcurrency);
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
      const slotId = this.pool.take(spec);
      if (slotId) {
        try {
          const assigned = await this.driver.assignPooled(slotId, spec.environmentId);
          if (spec.setupScript?.trim()) {
            // The pool's shell predates the setup (its dotfiles, PATH, files): it goes first,
            // and the student's first attach starts a shell that sees what the setup made.
            await this.endPooledShell(spec.environmentId);
            await this.runSetup(spec.environmentId, spec.setupScript);
          }
          this.log.info({ environmentId: spec.environmentId, containerId: assigned.containerId }, "environment running (warm pool)");
          return { ...assigned, fromPool: true };
        } catch (error) {
          await this.discardPooled(slotId, spec.environmentId);
          throw error;
        }
      }
    }
    // Volumes first, outside the engine's turns: a turn is for the engine's work alone.
    await this.driver.prepareVolumes(spec);
    const { containerId, volumeName, created } = await this.engineTurns(async () => {
      // Without a setup script the main shell starts with the container; with one it must wait for the setup.
      const made = await this.driver.create(spec, spec.setupScript?.trim() ? undefined : POOLED_MAIN_SHELL);
      if ((await this.driver.state(spec.environmentId)) !== "running") await this.driver.start(spec.environmentId);
      return made;
    });
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
   * A pooled container whose start failed goes, with its volume: renamed or not, nothing
   * records it (the server stores a workspace only once a start succeeds), so it would leak.
   */
  private async discardPooled(slotId: string, environmentId: string) {
    const report = (error: Error) => this.log.error({ environmentId, slotId, err: error.message }, "could not remove a pooled container after a failed start");
    // Only this attempt can have put a container under the environment's name (it was missing).
    if ((await this.driver.state(environmentId).catch(() => "missing")) !== "missing") {
      await this.driver.remove(environmentId, { removeVolume: true }).catch(report);
    }
    await this.driver.removePooled(slotId).catch(report); // not renamed, or its volume left over
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
  async openTerminal(request: OpenTerminalRequest): Promise<TerminalSummary> {
    const session = await this.sessionFor(request, request);
    await session.resize(request);
    return this.summary(request, await session.snapshot());
  }

  /** The screen of a terminal that is open, without resizing or starting anything (viewers, repaints). */
  async snapshot(ref: TerminalRef): Promise<TerminalSummary> {
    const session = this.terminals.get(keyOf(ref));
    if (!session?.isOpen) throw new Error("This terminal is not open.");
    return this.summary(ref, await session.snapshot());
  }

  /** A further piece of a long snapshot (the first came with the attach or snapshot reply). */
  snapshotPart(request: SnapshotPartRequest): { data: string } {
    return { data: this.snapshotParts.part(keyOf(request), request.snapshotId, request.index) };
  }

  /** The reply for a snapshot: its first piece, and how to fetch the rest when it is long. */
  private summary(ref: TerminalRef, snapshot: TerminalSnapshot): TerminalSummary {
    return { ...this.snapshotParts.split(keyOf(ref), snapshot.screen), offset: snapshot.offset, terminalIds: this.terminalIds(ref.environmentId) };
  }

  /** Ends one terminal's shell (a closed tab) and whatever it was running. */
  async closeTerminal(ref: TerminalRef) {
    // A tab closed while its shell is still opening (the holder starts it) is closed once it is open.
    const session = this.terminals.get(keyOf(ref)) ?? (await this.opening.get(keyOf(ref))?.catch(() => undefined));
    if (!session) return;
    // The id is [a-z0-9-] (checked by the protocol), so it is safe inside the quotes.
    await runScript(this.driver, { environmentId: ref.environmentId, script: hangUpScript(ref.terminalId), timeoutSeconds: 5 }, "student");
    session.close();
  }

  /** Open terminals of an environment, in the order they were opened. */
  terminalIds(environmentId: string): string[] {
    return [...this.terminals.keys()].filter((key) => key.startsWith(`${environmentId}/`)).map((key) => key.slice(environmentId.length + 1));
  }

  /**
   * Writes input to the shell; resolves once its stream has taken it (the server's input
   * window moves on that). A shell that does not read holds at most WORKER_INPUT_LIMIT here;
   * past it input is refused, except Ctrl-C and its kin, which are tiny and must get in.
   */
  async input(ref: TerminalRef, data: string): Promise<void> {
    const session = this.terminals.get(keyOf(ref));
    if (!session) return;
    const interrupt = isInterrupt(data);
    if (session.pendingInputBytes + data.length > WORKER_INPUT_LIMIT && !interrupt) {
      throw new InputBusyError("The shell is not taking input right now.");
    }
    if (interrupt && session.inputStalled) this.signalForeground(ref, data);
    await session.write(data);
  }

  /**
   * Ctrl-C into a terminal whose input queue is full (a program that does not read, under
   * typed-ahead input) would wait behind that input forever: the worker delivers the signal
   * the key stands for itself, to the terminal's foreground job.
   */
  private signalForeground(ref: TerminalRef, data: string) {
    const signal = SIGNAL_OF_KEY[data.at(-1) ?? ""];
    const key = keyOf(ref);
    if (!signal || Date.now() - (this.signalledAt.get(key) ?? 0) < SIGNAL_EVERY_MS) return;
    this.signalledAt.set(key, Date.now());
    void runScript(this.driver, { environmentId: ref.environmentId, script: signalScript(ref.terminalId, signal), timeoutSeconds: 5 }, "student").catch(
      (error: Error) =>
        this.log.warn({ environmentId: ref.environmentId, terminalId: ref.terminalId, err: error.message }, "could not signal a jammed terminal"),
    );
  }

  /** Input written to shells and not yet taken, across terminals (for metrics and tests). */
  get pendingInputBytes() {
    let total = 0;
    for (const session of this.terminals.values()) total += session.pendingInputBytes;
    return total;
  }

  /** The server link dropped or came back: output in flight is forgotten, and shells run again. */
  resetLinks() {
    for (const relay of this.relays.values()) relay.reset();
  }

  /** Bytes sent to the server and not yet acknowledged, across terminals (for metrics and tests). */
  get unacknowledgedOutputBytes() {
    let total = 0;
    for (const relay of this.relays.values()) total += relay.unacknowledgedBytes;
    return total;
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
    this.relays.clear();
  }

  private async sessionFor(ref: TerminalRef, size: TerminalSize): Promise<TerminalSession> {
    const key = keyOf(ref);
    const existing = this.terminals.get(key);
    if (existing?.isOpen) return existing;
    // Two tabs attaching at once must share one shell, not start two.
    const pending = this.opening.get(key);
    if (pending) return pending;
    // Counted with the shells still opening, in the same turn as the reservation below:
    // parallel attaches with new ids can never pass the check together.
    const shells = new Set([...this.terminals.keys(), ...this.opening.keys()].filter((other) => other !== key && other.startsWith(`${ref.environmentId}/`)));
    if (shells.size >= MAX_TERMINALS_PER_ENVIRONMENT) {
      throw new Error(`An environment can have at most ${MAX_TERMINALS_PER_ENVIRONMENT} terminals open. Close one first.`);
    }
    const opening = this.spawnShell(ref, size).finally(() => this.opening.delete(key));
    this.opening.set(key, opening);
    return opening;
  }

  private async spawnShell(ref: TerminalRef, size: TerminalSize) {
    if ((await this.driver.state(ref.environmentId)) !== "running") {
      throw new Error("This environment is not running. Start it again from the lab page.");
    }
    const shell = await this.driver.attachShell(ref.environmentId, ref.terminalId, shellCommand(ref.terminalId), size);
    let session: TerminalSession | undefined;
    const relay = new OutputRelay(this.events.link(ref), (held) => session?.hold("link", held));
    session = new TerminalSession(shell, size, (chunk, offset) => relay.push(chunk, offset), { outputBudget: this.terminalOutput });
    const key = keyOf(ref);
    this.terminals.set(key, session);
    this.relays.set(key, relay);
    const opened = session;
    void opened.exitCode.then((exitCode) => {
      if (this.terminals.get(key) === opened) {
        this.terminals.delete(key);
        this.relays.delete(key);
        this.signalledAt.delete(key);
      }
      this.events.exit(ref, exitCode);
      this.events.tabs(ref.environmentId, this.terminalIds(ref.environmentId));
    });
    this.log.info({ environmentId: ref.environmentId, terminalId: ref.terminalId }, "shell started");
    this.events.tabs(ref.environmentId, this.terminalIds(ref.environmentId));
    return session;
  }

  private closeTerminalsOf(environmentId: string) {
    for (const [key, session] of this.terminals) {
      if (key.startsWith(`${environmentId}/`)) {
        session.close();
        this.terminals.delete(key);
        this.relays.delete(key);
      }
    }
  }
}
