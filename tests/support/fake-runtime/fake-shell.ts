/**
 * A terminal's shell in the fake runtime: a tiny line-oriented shell behind a TTY-like
 * stream. It echoes what is typed (as a terminal in cooked mode does), runs each line
 * with the mini-shell on Enter, prints a "$ " prompt, and ends on `exit n`. A held shell
 * (the PTY holder's kind) outlives its attachments: a reattach gets the same shell and its
 * output so far as history; a plain exec's shell ends when its input does.
 */
import { Duplex } from "node:stream";
import type { TerminalSize } from "../../../protocol/ids";
import type { ShellProcess } from "../../../runtime-worker/driver";
import { runLine } from "./mini-shell";

/** What a held shell keeps of its output for a reattach (the holder keeps 256 KiB). */
const REPLAY_BYTES = 256 * 1024;
export const PROMPT = "$ ";

export class FakeShell {
  private readonly output: Buffer[] = [];
  private outputBytes = 0;
  private line = "";
  private status = 0;
  private attachment: { stream: Duplex; detach: () => void } | null = null;
  private finish!: (code: number | null) => void;
  /** The shell's exit code once it ended (null when killed). */
  readonly ended: Promise<number | null>;
  exitCode: number | null | undefined = undefined;
  size: TerminalSize;

  constructor(
    readonly terminalId: string,
    readonly command: string[],
    size: TerminalSize,
    readonly held: boolean,
  ) {
    this.size = size;
    this.ended = new Promise((resolve) => (this.finish = resolve));
    this.emit(PROMPT);
  }

  get running() {
    return this.exitCode === undefined;
  }

  /** Everything the shell has written, as text (for tests). */
  get transcript() {
    return Buffer.concat(this.output).toString("utf8");
  }

  /** A connection to the shell; a held shell's earlier connection is let go (its process stays). */
  attach(): ShellProcess {
    this.attachment?.detach();
    const history = this.held ? this.history() : undefined;
    let detached!: () => void;
    const gone = new Promise<null>((resolve) => (detached = () => resolve(null)));
    const stream: Duplex = new Duplex({
      read: () => undefined,
      write: (chunk: Buffer | string, _encoding, done) => {
        if (this.running && this.attachment?.stream === stream) this.type(chunk.toString());
        done();
      },
      final: (done) => {
        // EOF on a plain exec's shell ends it; the holder only loses a connection.
        if (!this.held && this.attachment?.stream === stream) this.end(this.status);
        done();
      },
      destroy: (error, done) => {
        if (this.attachment?.stream === stream) this.attachment = null;
        detached();
        done(error);
      },
    });
    const attachment = {
      stream,
      detach: () => {
        if (this.attachment === attachment) this.attachment = null;
        stream.push(null);
        detached();
      },
    };
    this.attachment = attachment;
    if (!this.running) stream.push(null);
    return {
      stream,
      history,
      resize: async (size) => {
        this.size = size;
      },
      exited: () => Promise.race([this.ended, gone]),
    };
  }

  /** Ends the shell (its exit, a hang-up, a stop): its connection ends with it. */
  end(code: number | null) {
    if (!this.running) return;
    this.exitCode = code;
    this.finish(code);
    const attachment = this.attachment;
    this.attachment = null;
    attachment?.stream.push(null);
  }

  private history() {
    const all = Buffer.concat(this.output);
    const replay = all.subarray(Math.max(0, all.length - REPLAY_BYTES));
    return { offset: this.outputBytes - replay.length, replay: Buffer.from(replay) };
  }

  private emit(text: string) {
    const bytes = Buffer.from(text, "utf8");
    this.output.push(bytes);
    this.outputBytes += bytes.length;
    this.attachment?.stream.push(bytes);
  }

  private type(text: string) {
    for (const char of text) {
      if (!this.running) return;
      if (char === "\r" || char === "\n") {
        this.emit("\r\n");
        const line = this.line;
        this.line = "";
        const outcome = runLine(line, this.status);
        this.status = outcome.status;
        if (outcome.output) this.emit(outcome.output.replace(/\n/g, "\r\n"));
        if (outcome.exit !== undefined) return this.end(outcome.exit);
        this.emit(PROMPT);
      } else if (char === "\x03") {
        this.line = "";
        this.status = 130;
        this.emit(`^C\r\n${PROMPT}`);
      } else if (char === "\x7f") {
        if (this.line) this.emit("\b \b");
        this.line = this.line.slice(0, -1);
      } else {
        this.line += char;
        this.emit(char);
      }
    }
  }
}
