/**
 * One interactive shell inside an environment, owned by the worker. It outlives browser
 * tabs: a reload re-attaches to the same shell, and a headless xterm mirrors the screen
 * so the new tab is repainted from it. Output carries byte offsets, so a viewer can
 * join mid-stream without losing or duplicating bytes.
 */
import xtermHeadless from "@xterm/headless";
import serializeAddon from "@xterm/addon-serialize";
import unicode11Addon from "@xterm/addon-unicode11";
import type { TerminalSize } from "../../protocol/ids";
import type { ShellProcess } from "../driver";

// Both packages ship CommonJS only; named imports fail under Node's ESM loader.
const { Terminal } = xtermHeadless;
const { SerializeAddon } = serializeAddon;
const { Unicode11Addon } = unicode11Addon;

const SCROLLBACK_LINES = 1000;
/**
 * Backpressure: while the mirror has this much output still to parse, the shell's stream
 * is paused (the kernel then blocks the writing process). xterm drops data and throws
 * past 50 MB pending, so a flood must never get near that.
 */
const MIRROR_HIGH_WATER = 2 * 1024 * 1024;
const MIRROR_LOW_WATER = 256 * 1024;

export interface TerminalSnapshot {
  /** The screen (and scrollback) as escape sequences that repaint it. */
  screen: string;
  /** How many output bytes the snapshot includes; later output starts here. */
  offset: number;
}

export type OutputListener = (chunk: Uint8Array, offset: number) => void;

export class TerminalSession {
  private readonly mirror: InstanceType<typeof Terminal>;
  private readonly serializer: InstanceType<typeof SerializeAddon>;
  private emittedBytes = 0;
  private parsedBytes = 0;
  private pendingMirrorBytes = 0;
  /** Why the shell's output is paused: the mirror is behind, or the server link is. */
  private readonly holds = new Set<"mirror" | "link">();
  private closed = false;
  readonly exitCode: Promise<number | null>;
  lastActivityAt = Date.now();

  constructor(
    private readonly shell: ShellProcess,
    size: TerminalSize,
    private readonly onOutput: OutputListener,
  ) {
    this.mirror = new Terminal({ cols: size.cols, rows: size.rows, scrollback: SCROLLBACK_LINES, allowProposedApi: true });
    this.serializer = new SerializeAddon();
    this.mirror.loadAddon(this.serializer);
    // The same character widths as the browsers' xterm, so a repainted screen lines up.
    this.mirror.loadAddon(new Unicode11Addon());
    this.mirror.unicode.activeVersion = "11";
    shell.stream.on("data", (chunk: Buffer) => this.relay(chunk));
    this.exitCode = shell.exited().finally(() => {
      this.closed = true;
      this.mirror.dispose();
    });
  }

  get isOpen() {
    return !this.closed;
  }

  write(data: string) {
    if (this.closed) return;
    this.lastActivityAt = Date.now();
    this.shell.stream.write(data);
  }

  async resize(size: TerminalSize) {
    if (this.closed) return;
    this.mirror.resize(size.cols, size.rows);
    await this.shell.resize(size);
  }

  /** Waits until the mirror has parsed everything emitted so far, then serializes it. */
  snapshot(): Promise<TerminalSnapshot> {
    if (this.closed) return Promise.resolve({ screen: "", offset: this.emittedBytes });
    return new Promise((resolve) => {
      this.mirror.write("", () => resolve({ screen: this.serializer.serialize({ scrollback: SCROLLBACK_LINES }), offset: this.parsedBytes }));
    });
  }

  close() {
    if (this.closed) return;
    // Ending stdin makes the shell read EOF and exit; the exec ends with it.
    this.shell.stream.end();
    this.shell.stream.destroy();
  }

  private relay(chunk: Buffer) {
    if (this.closed) return;
    const offset = this.emittedBytes;
    this.emittedBytes += chunk.length;
    this.lastActivityAt = Date.now();
    this.pendingMirrorBytes += chunk.length;
    if (this.pendingMirrorBytes > MIRROR_HIGH_WATER) this.hold("mirror", true);
    this.mirror.write(chunk, () => {
      this.parsedBytes += chunk.length;
      this.pendingMirrorBytes -= chunk.length;
      if (this.pendingMirrorBytes < MIRROR_LOW_WATER) this.hold("mirror", false);
    });
    this.onOutput(chunk, offset);
  }

  /**
   * Pauses (or resumes) reading the shell's output for one reason; it flows only when no
   * reason holds it. A paused stream fills the pty, and the kernel blocks the writer: a
   * flood slows to what the slowest necessary reader (mirror, server link) can take.
   * Input still flows the other way, so Ctrl-C gets through.
   */
  hold(reason: "mirror" | "link", held: boolean) {
    if (this.closed) return;
    if (held) this.holds.add(reason);
    else this.holds.delete(reason);
    if (this.holds.size > 0) this.shell.stream.pause();
    else if (this.shell.stream.isPaused()) this.shell.stream.resume();
  }
}
