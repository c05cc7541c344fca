/**
 * Input flow control toward workers, per socket. Each terminal has a window of input the
 * server passed on and the worker has not yet handed to the shell (the worker acknowledges
 * once the shell's stream took it); input past the window is refused with "input_busy", and
 * the socket's input is rate limited in bytes per second. A student flooding a shell that
 * does not read therefore costs a bounded amount here and on the worker, and the server
 * never queues input at all: it forwards or refuses.
 */
import { BROWSER_INPUT_WINDOW, isInterrupt } from "../../protocol/browser-messages";
import { type TerminalErrorCode } from "../../protocol/browser-contract";
import { TokenBucket } from "./token-bucket";

/** Sustained input per socket: far above typing and ordinary pastes. */
export const INPUT_BYTES_PER_SECOND = 256 * 1024;
/** A large paste goes through at once up to this. */
export const INPUT_BURST_BYTES = 1024 * 1024;
/** Each message costs at least this much: a spray of one-byte messages is limited too. */
const MESSAGE_COST = 64;

export class InputFlow {
  private readonly unacked = new Map<string, number>();
  private readonly rate = new TokenBucket(INPUT_BURST_BYTES, INPUT_BYTES_PER_SECOND);
  private held = 0;

  /** Null when `data` may go to the worker now (and is counted); else why not. */
  admit(terminalKey: string, data: string): TerminalErrorCode | null {
    const size = data.length;
    const inFlight = this.unacked.get(terminalKey) ?? 0;
    if (!isInterrupt(data)) {
      if (inFlight + size > BROWSER_INPUT_WINDOW) return "input_busy";
      if (!this.rate.take(Math.max(size, MESSAGE_COST))) return "rate_limited";
    }
    this.unacked.set(terminalKey, inFlight + size);
    this.held += size;
    return null;
  }

  /** The worker answered for `size` bytes of this terminal (taken, refused, or gone). */
  settled(terminalKey: string, size: number) {
    const left = (this.unacked.get(terminalKey) ?? 0) - size;
    if (left > 0) this.unacked.set(terminalKey, left);
    else this.unacked.delete(terminalKey);
    this.held -= size;
  }

  /** Input bytes in flight from this socket to workers. */
  get inFlightBytes() {
    return this.held;
  }
}
