/**
 * One tab: its xterm, the element it lives in, and its output bookkeeping (cursor for
 * no-loss/no-duplicate joins, acks for flow control, the wait for a repaint after a gap).
 * It knows nothing of the socket: the connection tells it what arrived and gives it a way
 * to send acks.
 */
import type { IDisposable, Terminal } from "@xterm/xterm";
import type { FitAddon } from "@xterm/addon-fit";
import { MAX_TERMINAL_CELLS, MAX_TERMINAL_COLS, MAX_TERMINAL_ROWS, MIN_TERMINAL_COLS, MIN_TERMINAL_ROWS } from "../../protocol/ids";
import { RenderedOffsetAcks } from "./terminal-flow";
import { attachInspect } from "./terminal-inspect";
import { TerminalOutputCursor } from "./terminal-output-cursor";
import type { TerminalRenderer } from "./terminal-renderer";
import type { TabSearch } from "./terminal-search";

/** After output skipped ahead, how long to wait for the server's repaint before attaching again. */
export const GAP_REPAINT_WAIT_MS = 3000;
/** Keystrokes typed while a tab is (re)attaching wait for it, up to this much. */
const MAX_QUEUED_INPUT = 64 * 1024;
/** RIS, sent in-band: output still queued in xterm lands before the reset, not on the new screen. */
const FULL_RESET = "\x1bc";

export class TerminalTab {
  /** The shell behind the tab ended (its exit, or it left the server's list). */
  ended = false;
  /** The "shell has ended" line has been written for this ending. */
  endShown = false;
  /** Opened here with "+" and never attached: a failed attach removes it. */
  fresh: boolean;

  private state: "detached" | "attaching" | "attached" = "detached";
  private attachSeq = 0;
  private readonly cursor = new TerminalOutputCursor();
  private acks: RenderedOffsetAcks | null = null;
  private gapTimer: ReturnType<typeof setTimeout> | undefined;
  private queued: string[] = [];
  private queuedLength = 0;
  private opened = false;
  private readonly subscriptions: IDisposable[];

  constructor(
    /** Changes only when the last tab left becomes "main" again (see TerminalConnection). */
    public id: string,
    readonly host: HTMLElement,
    readonly terminal: Terminal,
    private readonly fit: FitAddon,
    handlers: { input: (data: string) => void; resize: () => void },
    fresh: boolean,
    /** What draws it (WebGL while in view, where it can), and search in its scrollback. */
    readonly parts: { renderer?: TerminalRenderer; search?: TabSearch } = {},
  ) {
    this.fresh = fresh;
    this.subscriptions = [terminal.onData(handlers.input), terminal.onResize(handlers.resize)];
    attachInspect(host, terminal);
  }

  get attached() {
    return this.state === "attached";
  }
  get attaching() {
    return this.state === "attaching";
  }

  /** Starts an attach: anything from before is forgotten. Returns its number, to spot stale replies. */
  beginAttach(): number {
    this.state = "attaching";
    this.forgetStream();
    return ++this.attachSeq;
  }

  isCurrentAttach(seq: number) {
    return this.state === "attaching" && seq === this.attachSeq;
  }

  attachFailed() {
    this.state = "detached";
  }

  /** The attach reply's screen: everything up to `offset`, then what overtook the reply. */
  attachedWith(screen: string, offset: number, sendAck: (offset: number) => void) {
    this.state = "attached";
    this.fresh = false;
    this.ended = false;
    this.endShown = false;
    this.acks = new RenderedOffsetAcks(sendAck);
    return this.paint(screen, offset);
  }

  /**
   * The server's repaint after this tab fell behind. Ignored while attaching (the reply
   * brings its own screen) or when nothing is missing. Returns whether output is still held.
   */
  repaint(screen: string, offset: number): boolean {
    if (this.state !== "attached") return false;
    const position = this.cursor.position;
    if (position !== null && offset <= position) return false;
    this.stopGapWatch();
    return this.paint(screen, offset);
  }

  /** Live output. Returns true when it revealed a gap (the caller waits for a repaint). */
  output(chunk: Uint8Array, offset: number): boolean {
    const fresh = this.cursor.accept(chunk, offset);
    if (fresh.byteLength > 0) this.write(fresh, offset + chunk.byteLength);
    return this.state === "attached" && this.cursor.holding;
  }

  /** After a gap: if no repaint came in time, `reattach` (the fallback). */
  watchGap(reattach: () => void) {
    if (this.gapTimer !== undefined) return;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = undefined;
      if (this.state === "attached" && this.cursor.holding) reattach();
    }, GAP_REPAINT_WAIT_MS);
  }

  /** The connection dropped or the shell ended: nothing flows until the next attach. */
  detach() {
    this.state = "detached";
    this.forgetStream();
  }

  queueInput(data: string) {
    if (this.queuedLength + data.length > MAX_QUEUED_INPUT) return;
    this.queued.push(data);
    this.queuedLength += data.length;
  }

  takeQueuedInput(): string[] {
    const queued = this.queued;
    this.queued = [];
    this.queuedLength = 0;
    return queued;
  }

  /** Shows the tab. xterm measures its cells when opened, so it opens on first show. */
  show() {
    this.host.hidden = false;
    this.host.dataset.testid = "terminal";
    if (!this.opened) {
      this.terminal.open(this.host);
      this.opened = true;
    }
    this.parts.renderer?.activate();
    this.fitToHost();
  }

  /** Hidden tabs stay mounted (output keeps flowing) but out of layout and out of tests' sight; they give their WebGL context back. */
  hide() {
    this.host.hidden = true;
    delete this.host.dataset.testid;
    this.parts.renderer?.release();
    this.parts.search?.clear();
  }

  /** Fills the host, within the protocol's size caps (a huge screen gets a smaller terminal). */
  fitToHost() {
    if (!this.opened || this.host.hidden) return;
    const proposed = this.fit.proposeDimensions();
    if (!proposed || !Number.isFinite(proposed.cols) || !Number.isFinite(proposed.rows)) return;
    const cols = Math.max(MIN_TERMINAL_COLS, Math.min(MAX_TERMINAL_COLS, proposed.cols));
    const rows = Math.max(MIN_TERMINAL_ROWS, Math.min(MAX_TERMINAL_ROWS, proposed.rows, Math.floor(MAX_TERMINAL_CELLS / cols)));
    if (cols === proposed.cols && rows === proposed.rows) this.fit.fit();
    else if (cols !== this.terminal.cols || rows !== this.terminal.rows) this.terminal.resize(cols, rows);
  }

  /** A dim line from the panel itself, not from the shell. */
  note(text: string) {
    this.terminal.write(`\r\n\x1b[2m[${text}]\x1b[0m\r\n`);
  }

  dispose() {
    this.forgetStream();
    for (const subscription of this.subscriptions) subscription.dispose();
    this.parts.renderer?.release();
    this.terminal.dispose();
    this.host.remove();
  }

  private forgetStream() {
    this.cursor.reset();
    this.acks?.dispose();
    this.acks = null;
    this.stopGapWatch();
  }

  private stopGapWatch() {
    clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
  }

  /** Replaces the screen; returns whether held output still waits behind a gap. */
  private paint(screen: string, offset: number): boolean {
    const acks = this.acks;
    this.terminal.write(FULL_RESET);
    this.terminal.write(screen, () => acks?.rendered(offset));
    // What start() hands back is contiguous from `offset`.
    let end = offset;
    for (const chunk of this.cursor.start(offset)) {
      end += chunk.byteLength;
      this.write(chunk, end);
    }
    return this.cursor.holding;
  }

  /** Writes output and acks it once xterm has parsed it (not merely queued it). */
  private write(chunk: Uint8Array, end: number) {
    const acks = this.acks;
    this.terminal.write(chunk, () => acks?.rendered(end));
  }
}
