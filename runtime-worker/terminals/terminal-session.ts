/**
 * One interactive shell inside an environment, owned by the worker. It outlives browser
 * tabs: a reload re-attaches to the same shell, and a headless xterm mirrors the screen
 * so the new tab is repainted from it. Output carries byte offsets, so a viewer can
 * join mid-stream without losing or duplicating bytes.
 *
 * The mirror's work (parsing, reflow on resize, serializing a snapshot) is queued and run a
 * slice at a time by the worker's shared MirrorScheduler, so one terminal cannot take the
 * worker's thread from the others. Its memory is capped by cells, not only by lines.
 * Output is parsed lazily: when a snapshot or a resize needs it, when the terminal has been
 * quiet a moment, or when PARSE_AT bytes wait; and plain text that would scroll out of the
 * mirror's buffer before anyone could see it is not parsed at all (scrolled-away.ts).
 */
import xtermHeadless from "@xterm/headless";
import serializeAddon from "@xterm/addon-serialize";
import unicode11Addon from "@xterm/addon-unicode11";
import type { TerminalSize } from "../../protocol/ids";
import type { ShellProcess } from "../driver";
import { SLICE_BYTES, sharedMirrorScheduler, type MirrorQueue, type MirrorScheduler } from "./mirror-scheduler";
import { OutputBudget, outputBudgetFromEnv, type OutputBudgetOptions } from "./output-budget";
import { sharedTypingWatch, type TypingWatch } from "./typing-watch";
import { serializeCapped } from "./capped-screen";
import { CRLF, ScrollRegionWatch, linesThatHide, outputPiece, scrolledAwayPart, type OutputPiece } from "./scrolled-away";
import { WorkerRequestError } from "../request-error";

// Both packages ship CommonJS only; named imports fail under Node's ESM loader.
const { Terminal } = xtermHeadless;
const { SerializeAddon } = serializeAddon;
const { Unicode11Addon } = unicode11Addon;

export { MAX_SNAPSHOT_CHARS } from "./capped-screen";

const SCROLLBACK_LINES = 1000;
/**
 * The mirror's buffer (screen + scrollback) holds at most this many cells (xterm keeps
 * 12 bytes per cell: about 5 MB): a wide terminal keeps fewer lines of scrollback.
 */
const MIRROR_CELLS = 400_000;
/**
 * Backpressure: while the mirror has this much output still to parse, the shell's stream
 * is paused (the kernel then blocks the writing process). xterm drops data and throws
 * past 50 MB pending, so a flood must never get near that.
 */
const MIRROR_HIGH_WATER = 2 * 1024 * 1024;
const MIRROR_LOW_WATER = 256 * 1024;
/**
 * Unparsed output up to this much waits for a reason to parse it (a snapshot, a resize, a quiet
 * moment): a typing student's echoes are parsed together, and a flood is parsed only past what
 * scrolls away. Over it, the mirror works through it (in the scheduler's fair slices).
 */
const PARSE_AT = 256 * 1024;
/**
 * Output waiting this long after the terminal went quiet is parsed, so a repaint finds it ready.
 * Longer than a typist's pause between keys (100 to 300 ms): at 50 ms, every keystroke typed at a
 * human pace woke the worker once more to parse its echo alone. A repaint before then parses what
 * waits first (at most PARSE_AT: a few milliseconds).
 */
const QUIET_PARSE_MS = 1000;
/** A look for a run to leave out that found none is repeated only once this much more output came. */
const LEAVE_OUT_RETRY_BYTES = 64 * 1024;
/** A terminal reflows (and its shell gets SIGWINCH) at most once per this interval; the last size wins. */
export const RESIZE_INTERVAL_MS = 200;
/** Input not taken by the shell for this long means its terminal's input queue is full. */
const INPUT_STALL_MS = 500;

export interface TerminalSnapshot {
  /** The screen (and scrollback) as escape sequences that repaint it. */
  screen: string;
  /** How many output bytes the snapshot includes; later output starts here. */
  offset: number;
}

export type OutputListener = (chunk: Uint8Array, offset: number) => void;

/** The shell has not taken earlier input yet; the caller holds this input and retries. */
export class InputBusyError extends WorkerRequestError {
  constructor(message: string) {
    super("input_busy", message);
  }
}

type MirrorWork =
  | ({ kind: "output" } & OutputPiece)
  /** Output that scrolls away unseen: replaced by CR LF when its turn comes (scrolled-away.ts). */
  | { kind: "leave-out"; bytes: Uint8Array }
  | { kind: "resize"; size: TerminalSize }
  | { kind: "snapshot"; resolve: (snapshot: TerminalSnapshot) => void };

const scrollbackFor = (size: TerminalSize) => Math.max(0, Math.min(SCROLLBACK_LINES, Math.floor(MIRROR_CELLS / size.cols) - size.rows));

/** Why a shell's output is paused: its mirror is behind, the server link is, or its output budget is spent. */
type HoldReason = "mirror" | "link" | "rate";

export class TerminalSession implements MirrorQueue {
  private readonly mirror: InstanceType<typeof Terminal>;
  private readonly serializer: InstanceType<typeof SerializeAddon>;
  /** Output bytes since the shell started: the one offset counter. */
  private emittedBytes = 0;
  private parsedBytes = 0;
  private pendingMirrorBytes = 0;
  private readonly work: MirrorWork[] = [];
  /** Resizes and snapshots in `work`: output ahead of them must be parsed now. */
  private controlItems = 0;
  /** Output up to this offset is parsed now (the terminal went quiet). */
  private parseUntil = 0;
  private quietTimer: ReturnType<typeof setTimeout> | undefined;
  /** Where the last look for a run to leave out ended (emitted offset). */
  private leaveOutTriedAt = -Infinity;
  private readonly scrollRegion: ScrollRegionWatch;
  /** Runs this terminal's mirror work, fairly with every other terminal's (one per worker). */
  private readonly scheduler: MirrorScheduler;
  /** Who else on the worker is typing: this terminal's output is held tighter while someone is (output-budget.ts). */
  private readonly typing: TypingWatch;
  /** Resolves the mirror write in flight when the shell ends (xterm may never call back). */
  private abandonSlice: (() => void) | null = null;
  /** The last snapshot, reused while nothing was parsed and the size is the same. */
  private lastSnapshot: TerminalSnapshot | null = null;
  private wantedSize: TerminalSize | null = null;
  private resizeWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private resizeTimer: ReturnType<typeof setTimeout> | undefined;
  private lastResizeAt = 0;
  /** What holds the shell's output now (it flows when nothing does). */
  private readonly holds = new Set<HoldReason>();
  private readonly budget: OutputBudget;
  private budgetTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private writesInFlight = 0;
  private writingSince = 0;
  readonly exitCode: Promise<number | null>;
  lastActivityAt = Date.now();

  constructor(
    private readonly shell: ShellProcess,
    size: TerminalSize,
    private readonly onOutput: OutputListener,
    options: { scheduler?: MirrorScheduler; outputBudget?: OutputBudgetOptions; typing?: TypingWatch } = {},
  ) {
    this.scheduler = options.scheduler ?? sharedMirrorScheduler;
    this.typing = options.typing ?? sharedTypingWatch;
    this.budget = new OutputBudget(options.outputBudget ?? outputBudgetFromEnv());
    this.mirror = new Terminal({ cols: size.cols, rows: size.rows, scrollback: scrollbackFor(size), allowProposedApi: true });
    this.serializer = new SerializeAddon();
    this.mirror.loadAddon(this.serializer);
    // The same character widths as the browsers' xterm, so a repainted screen lines up.
    this.mirror.loadAddon(new Unicode11Addon());
    this.mirror.unicode.activeVersion = "11";
    this.scrollRegion = new ScrollRegionWatch(this.mirror);
    // A shell reattached through the PTY holder: offsets go on from where the shell is, and
    // the mirror is rebuilt from its recent output, so a repaint shows what was on screen.
    if (shell.history) {
      this.emittedBytes = this.parsedBytes = shell.history.offset;
      this.relay(shell.history.replay, { mirrorOnly: true });
    }
    shell.stream.on("data", (chunk: Buffer) => this.relay(chunk));
    shell.stream.resume(); // handed over paused (nothing is lost before this listener)
    this.exitCode = shell.exited().finally(() => {
      this.closed = true;
      this.typing.forget(this);
      clearTimeout(this.resizeTimer);
      clearTimeout(this.budgetTimer);
      clearTimeout(this.quietTimer);
      for (const waiter of this.resizeWaiters.splice(0)) waiter.resolve();
      for (const item of this.work.splice(0)) if (item.kind === "snapshot") item.resolve({ screen: "", offset: this.emittedBytes });
      this.abandonSlice?.();
      this.mirror.dispose();
    });
  }

  get isOpen() {
    return !this.closed;
  }

  /** Input bytes written to the shell's stream and not yet taken by it. */
  get pendingInputBytes() {
    return this.closed ? 0 : this.shell.stream.writableLength;
  }

  /** Output bytes the mirror left out because they scrolled away unseen (for tests and metrics). */
  leftOutBytes = 0;

  /** Output bytes waiting for the mirror (for tests and metrics). */
  get unparsedBytes() {
    return this.pendingMirrorBytes;
  }

  /**
   * True while input has waited long for the shell: the program in front does not read,
   * and the terminal's input queue is full, so a typed Ctrl-C cannot reach the line
   * discipline either (it queues behind the rest).
   */
  get inputStalled() {
    return !this.closed && this.writesInFlight > 0 && Date.now() - this.writingSince > INPUT_STALL_MS;
  }

  /** Resolves once the shell's stream has taken the input (its write callback): the input ack. */
  write(data: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.lastActivityAt = Date.now();
    this.typing.typed(this);
    if (this.writesInFlight++ === 0) this.writingSince = Date.now();
    return new Promise((resolve) =>
      this.shell.stream.write(data, () => {
        this.writesInFlight -= 1;
        resolve();
      }),
    );
  }

  /**
   * Resizes the shell and the mirror, at most once per RESIZE_INTERVAL_MS: requests in
   * between are coalesced, the last size wins, and every caller resolves once it applied.
   */
  resize(size: TerminalSize): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.wantedSize = size;
    const applied = new Promise<void>((resolve, reject) => this.resizeWaiters.push({ resolve, reject }));
    const wait = this.lastResizeAt + RESIZE_INTERVAL_MS - Date.now();
    if (wait <= 0) void this.applyResize();
    else this.resizeTimer ??= setTimeout(() => void this.applyResize(), wait);
    return applied;
  }

  /** The screen once the mirror has parsed everything emitted so far (a pending resize first). */
  async snapshot(): Promise<TerminalSnapshot> {
    if (this.wantedSize) await this.applyResize();
    if (this.closed) return { screen: "", offset: this.emittedBytes };
    return new Promise((resolve) => this.enqueue({ kind: "snapshot", resolve }));
  }

  close() {
    if (this.closed) return;
    // Ending stdin makes the shell read EOF and exit; the exec ends with it.
    this.shell.stream.end();
    this.shell.stream.destroy();
  }

  // ---- The mirror's queue (run by the scheduler) ----

  get hasWork() {
    if (this.closed || this.work.length === 0) return false;
    return this.controlItems > 0 || this.pendingMirrorBytes >= PARSE_AT || this.parsedBytes < this.parseUntil;
  }

  async runSlice(budgetBytes = SLICE_BYTES): Promise<void> {
    const head = this.work[0];
    if (!head || this.closed) return;
    if (head.kind === "resize") {
      this.work.shift();
      this.controlItems -= 1;
      this.mirror.resize(head.size.cols, head.size.rows);
      this.mirror.options.scrollback = scrollbackFor(head.size);
      this.lastSnapshot = null;
      return;
    }
    if (head.kind === "snapshot") {
      this.work.shift();
      this.controlItems -= 1;
      head.resolve(this.serialize());
      return;
    }
    if (head.kind === "leave-out") {
      this.work.shift();
      const leave = this.scrollRegion.whole;
      this.work.unshift({ kind: "output", ...(leave ? { bytes: CRLF, plainTo: CRLF.length, plainFrom: 0 } : outputPiece(head.bytes)) });
      if (leave) {
        // Counted as parsed: offsets and the backlog stay those of the shell's output.
        const removed = head.bytes.byteLength - CRLF.length;
        this.parsedBytes += removed;
        this.pendingMirrorBytes -= removed;
        this.leftOutBytes += removed;
        if (this.pendingMirrorBytes < MIRROR_LOW_WATER) this.hold("mirror", false);
      }
      return;
    }
    this.findScrolledAway();
    const slice = this.takeOutputSlice(budgetBytes);
    await new Promise<void>((resolve) => {
      this.abandonSlice = resolve;
      this.mirror.write(slice, resolve);
    });
    this.abandonSlice = null;
    this.parsedBytes += slice.byteLength;
    this.pendingMirrorBytes -= slice.byteLength;
    if (this.pendingMirrorBytes < MIRROR_LOW_WATER) this.hold("mirror", false);
  }

  /** Up to `budget` bytes of the output at the head of the queue, in order. */
  private takeOutputSlice(budget: number): Uint8Array {
    const pieces: Uint8Array[] = [];
    let size = 0;
    while (size < budget) {
      const head = this.work[0];
      if (head?.kind !== "output") break;
      const room = budget - size;
      if (head.bytes.byteLength <= room) {
        this.work.shift();
        pieces.push(head.bytes);
        size += head.bytes.byteLength;
      } else {
        // xterm decodes UTF-8 across writes, so a cut inside a character is harmless.
        pieces.push(head.bytes.subarray(0, room));
        head.bytes = head.bytes.subarray(room);
        size += room;
      }
    }
    return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, size);
  }

  private enqueue(item: MirrorWork) {
    const last = this.work.at(-1);
    // Resizes queued back to back: only the last one reflows.
    if (item.kind === "resize" && last?.kind === "resize") last.size = item.size;
    else {
      this.work.push(item);
      if (item.kind !== "output") this.controlItems += 1;
    }
    if (this.hasWork) this.scheduler.wake(this);
  }

  /** Marks output at the head of the queue that would scroll away unseen, to be left out in its turn. */
  private findScrolledAway() {
    if (this.emittedBytes - this.leaveOutTriedAt < LEAVE_OUT_RETRY_BYTES) return;
    this.leaveOutTriedAt = this.emittedBytes;
    let length = 0;
    while (this.work[length]?.kind === "output") length++;
    const run = this.work.slice(0, length) as OutputPiece[];
    const found = scrolledAwayPart(run, linesThatHide(this.mirror.rows, this.mirror.options.scrollback ?? SCROLLBACK_LINES));
    if (!found) return;
    const output = (piece: OutputPiece): MirrorWork => ({ kind: "output", ...piece });
    this.work.splice(0, length, ...found.before.map(output), { kind: "leave-out", bytes: found.part }, ...found.after.map(output));
  }

  /** The terminal went quiet: what it printed is parsed now, in the scheduler's slices. */
  private parseWhenQuiet() {
    if (this.quietTimer) this.quietTimer.refresh();
    else
      this.quietTimer = setTimeout(() => {
        this.parseUntil = this.emittedBytes;
        if (this.hasWork) this.scheduler.wake(this);
      }, QUIET_PARSE_MS);
  }

  private async applyResize() {
    clearTimeout(this.resizeTimer);
    this.resizeTimer = undefined;
    const size = this.wantedSize;
    const waiters = this.resizeWaiters.splice(0);
    this.wantedSize = null;
    if (!size || this.closed) return waiters.forEach((waiter) => waiter.resolve());
    this.lastResizeAt = Date.now();
    this.enqueue({ kind: "resize", size });
    try {
      await this.shell.resize(size);
      waiters.forEach((waiter) => waiter.resolve());
    } catch (error) {
      waiters.forEach((waiter) => waiter.reject(error as Error));
    }
  }

  /** The mirror as escape sequences (capped-screen.ts), reused while nothing more was parsed. */
  private serialize(): TerminalSnapshot {
    if (this.lastSnapshot?.offset === this.parsedBytes) return this.lastSnapshot;
    this.lastSnapshot = { screen: serializeCapped(this.mirror, this.serializer), offset: this.parsedBytes };
    return this.lastSnapshot;
  }

  /** `mirrorOnly`: output from before a reattach, which browsers had (or get in the repaint). */
  private relay(chunk: Buffer, { mirrorOnly = false } = {}) {
    if (this.closed) return;
    const offset = this.emittedBytes;
    this.emittedBytes += chunk.length;
    this.lastActivityAt = Date.now();
    this.pendingMirrorBytes += chunk.length;
    if (this.pendingMirrorBytes > MIRROR_HIGH_WATER) this.hold("mirror", true);
    this.enqueue({ kind: "output", ...outputPiece(chunk) });
    this.parseWhenQuiet();
    if (mirrorOnly) return;
    this.onOutput(chunk, offset);
    const waitMs = this.budget.spend(chunk.length, this.typing.othersTyping(this));
    if (waitMs > 0 && !this.budgetTimer) {
      this.hold("rate", true);
      this.budgetTimer = setTimeout(() => {
        this.budgetTimer = undefined;
        this.hold("rate", false);
      }, waitMs);
    }
  }

  /**
   * Pauses (or resumes) reading the shell's output for one reason; it flows only when no
   * reason holds it. A paused stream fills the pty, and the kernel blocks the writer: a
   * flood slows to what the slowest necessary reader (mirror, server link) can take.
   * Input still flows the other way, so Ctrl-C gets through.
   */
  hold(reason: HoldReason, held: boolean) {
    if (this.closed) return;
    if (held) this.holds.add(reason);
    else this.holds.delete(reason);
    if (this.holds.size > 0) this.shell.stream.pause();
    else if (this.shell.stream.isPaused()) this.shell.stream.resume();
  }
}
