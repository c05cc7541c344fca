/**
 * Input flow control, the browser's half, for one tab. Input goes one message at a time:
 * the next leaves once the server says the shell took the previous one, and keystrokes
 * typed meanwhile ride together in it. A shell that does not read therefore holds one
 * message, and what is typed after it waits here, up to MAX_WAITING characters; past that
 * it is dropped and the panel says so. Ctrl-C (and its kin) never waits: it goes at once,
 * and the server lets it through whatever is in flight. "input_busy" and "rate_limited"
 * refusals are retried after a pause, in order.
 */
import { MAX_INPUT_MESSAGE, isInterrupt } from "../../protocol/browser-messages";
import { type TerminalErrorCode } from "../../protocol/browser-contract";

/** Characters waiting to be sent, at most (a large paste fits). */
export const MAX_WAITING = 1024 * 1024;
/** A message carries at most this much (the server's limit is 64 KiB). */
const PIECE = Math.min(16 * 1024, MAX_INPUT_MESSAGE);
const RETRY_MS = 300;

export type InputReply = { ok: true } | { ok: false; error: string; code?: TerminalErrorCode } | null;

export class TerminalInputSender {
  private waiting = "";
  private inFlight = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped by reset(): replies to messages sent before it are ignored. */
  private generation = 0;

  constructor(
    /** Sends one message; `reply` runs with the server's answer (null: none came). */
    private readonly emit: (data: string, reply: (answer: InputReply) => void) => void,
    /** Input was dropped because too much was waiting. */
    private readonly onDropped: () => void,
  ) {}

  send(data: string) {
    if (isInterrupt(data)) {
      // An interrupt may be what unblocks the shell: it does not queue behind the rest.
      this.emit(data, () => undefined);
      return;
    }
    if (this.waiting.length + data.length > MAX_WAITING) {
      this.onDropped();
      return;
    }
    this.waiting += data;
    this.pump();
  }

  /** Characters not yet taken by the shell (waiting here, or in flight). */
  get pending() {
    return this.waiting.length;
  }

  /** A new connection: nothing in flight will be answered; what waits is dropped with it. */
  reset() {
    this.generation += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.waiting = "";
    this.inFlight = false;
  }

  private pump() {
    if (this.inFlight || this.retryTimer !== undefined || this.waiting.length === 0) return;
    let piece = this.waiting.slice(0, PIECE);
    // Never half a surrogate pair: the shell would get U+FFFD instead of the character.
    const last = piece.charCodeAt(piece.length - 1);
    if (piece.length > 1 && last >= 0xd800 && last <= 0xdbff) piece = piece.slice(0, -1);
    const generation = this.generation;
    this.inFlight = true;
    this.emit(piece, (answer) => {
      if (generation !== this.generation) return;
      this.inFlight = false;
      const retry = answer && !answer.ok && (answer.code === "input_busy" || answer.code === "rate_limited");
      if (retry) {
        // Kept at the front: it goes again, before anything typed after it.
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.pump();
        }, RETRY_MS);
        return;
      }
      // Taken (or refused for good: the server said why elsewhere): the rest moves on.
      this.waiting = this.waiting.slice(piece.length);
      this.pump();
    });
  }
}
