/**
 * The worker's terminal host: the shells inside running environments (one per tab), their
 * sessions and output relays, attaches and snapshots, input with its limits and the jammed
 * terminal's signals, and closing tabs. The lifecycle (runtime-worker/environments.ts) starts
 * and stops the containers; this module only opens and ends the shells inside them.
 */
import { MAX_TERMINALS_PER_ENVIRONMENT, isInterrupt } from "../../protocol/browser-messages";
import { WORKER_INPUT_LIMIT, type OpenTerminalRequest, type SnapshotPartRequest, type TerminalRef } from "../../protocol/worker-messages";
import type { TerminalSize } from "../../protocol/ids";
import { runScript } from "../checks/run-check";
import type { RuntimeDriver } from "../driver";
import type { Logger } from "../../common/logger";
import { OutputRelay, type OutputLink } from "./output-relay";
import { InputBusyError, TerminalSession, type TerminalSnapshot } from "./terminal-session";
import { outputBudgetFromEnv, type OutputBudgetOptions } from "./output-budget";
import { SnapshotParts } from "./snapshot-parts";
import { SIGNAL_OF_KEY, hangUpScript, shellCommand, signalScript } from "./shell-scripts";
import { WorkerRequestError } from "../request-error";

/** A jammed terminal is signalled at most this often (an interrupt spam must not spawn an exec each). */
const SIGNAL_EVERY_MS = 1000;

export interface TerminalEvents {
  /** Where a terminal's output goes (the server link, with acknowledgements). */
  link(ref: TerminalRef): OutputLink;
  exit(ref: TerminalRef, exitCode: number | null): void;
  /** The environment's set of open terminals changed. */
  tabs(environmentId: string, terminalIds: string[]): void;
}

/** A snapshot's first piece; `snapshotId` and `parts` when more are to be fetched (see SnapshotParts). */
export type TerminalSummary = TerminalSnapshot & { terminalIds: string[]; snapshotId?: string; parts?: number };

const keyOf = (ref: TerminalRef) => `${ref.environmentId}/${ref.terminalId}`;

export class TerminalHost {
  private readonly terminals = new Map<string, TerminalSession>();
  private readonly relays = new Map<string, OutputRelay>();
  private readonly opening = new Map<string, Promise<TerminalSession>>();
  private readonly snapshotParts = new SnapshotParts();
  private readonly signalledAt = new Map<string, number>();

  constructor(
    private readonly driver: RuntimeDriver,
    private readonly events: TerminalEvents,
    private readonly log: Logger,
    /** How fast each terminal's output may flow (the worker's setting when unset). */
    private readonly terminalOutput: OutputBudgetOptions = outputBudgetFromEnv(),
  ) {}

  /** Attaches to the terminal's shell, starting it if needed, and returns its screen. */
  async openTerminal(request: OpenTerminalRequest): Promise<TerminalSummary> {
    const session = await this.sessionFor(request, request);
    await session.resize(request);
    return this.summary(request, await session.snapshot());
  }

  /** The screen of a terminal that is open, without resizing or starting anything (viewers, repaints). */
  async snapshot(ref: TerminalRef): Promise<TerminalSummary> {
    const session = this.terminals.get(keyOf(ref));
    if (!session?.isOpen) throw new WorkerRequestError("terminal_closed", "This terminal is not open.");
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

  async resize(ref: TerminalRef, size: TerminalSize) {
    await this.terminals.get(keyOf(ref))?.resize(size);
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
      throw new WorkerRequestError("too_many_terminals", `An environment can have at most ${MAX_TERMINALS_PER_ENVIRONMENT} terminals open. Close one first.`);
    }
    const opening = this.spawnShell(ref, size).finally(() => this.opening.delete(key));
    this.opening.set(key, opening);
    return opening;
  }

  private async spawnShell(ref: TerminalRef, size: TerminalSize) {
    if ((await this.driver.state(ref.environmentId)) !== "running") {
      throw new WorkerRequestError("not_running", "This environment is not running. Start it again from the lab page.");
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

  /** Closes every terminal of an environment (it is stopping or going away). */
  closeTerminalsOf(environmentId: string) {
    for (const [key, session] of this.terminals) {
      if (key.startsWith(`${environmentId}/`)) {
        session.close();
        this.terminals.delete(key);
        this.relays.delete(key);
      }
    }
  }
}
