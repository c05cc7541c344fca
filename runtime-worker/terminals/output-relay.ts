/**
 * Sends one terminal's output to the server with flow control. Chunks that arrive
 * together are coalesced into one message; each message is acknowledged by the server,
 * and while more than WORKER_OUTPUT_WINDOW bytes are unacknowledged the terminal is held
 * (its shell blocks). So a flood costs bounded memory here and on the server, however
 * fast the shell writes. While the server is unreachable output is not queued at all:
 * the screen mirror keeps it, and browsers repaint from the mirror when they re-attach.
 */
import { WORKER_OUTPUT_WINDOW } from "../../protocol/worker-messages";

/** A coalesced message stays under this size (socket.io frames, the browser's parse steps). */
const MAX_MESSAGE_BYTES = 64 * 1024;
/** Resume once the unacknowledged bytes fall to this. */
const RESUME_BELOW = WORKER_OUTPUT_WINDOW / 4;

export interface OutputLink {
  /** False while the server is unreachable: nothing is sent (or queued). */
  readonly connected: boolean;
  /** Sends a message; `acked` runs when the server confirms it (never, if the link drops). */
  send(data: Uint8Array, offset: number, acked: () => void): void;
}

export class OutputRelay {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingOffset = 0;
  private flushScheduled = false;
  private unacked = 0;
  /** Bumped on every reconnect: acks of messages sent on an earlier connection are ignored. */
  private generation = 0;

  constructor(
    private readonly link: OutputLink,
    /** Called with true to hold the terminal's shell, false to let it run. */
    private readonly hold: (held: boolean) => void,
  ) {}

  push(chunk: Uint8Array, offset: number) {
    if (!this.link.connected) return;
    if (this.pendingBytes === 0) this.pendingOffset = offset;
    this.pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.pendingBytes += chunk.byteLength;
    if (this.pendingBytes >= MAX_MESSAGE_BYTES) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Whatever else the stream delivers in this turn rides in the same message.
      setImmediate(() => this.flush());
    }
  }

  /** The link dropped or came back: nothing in flight will be acknowledged any more. */
  reset() {
    this.generation += 1;
    this.pending = [];
    this.pendingBytes = 0;
    this.unacked = 0;
    this.hold(false);
  }

  get unacknowledgedBytes() {
    return this.unacked;
  }

  private flush() {
    this.flushScheduled = false;
    if (this.pendingBytes === 0) return;
    const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    const size = this.pendingBytes;
    const offset = this.pendingOffset;
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.link.connected) return;
    const generation = this.generation;
    this.unacked += size;
    if (this.unacked > WORKER_OUTPUT_WINDOW) this.hold(true);
    // A Buffer (a Uint8Array): MessagePack sends it as bytes, as they are.
    this.link.send(data, offset, () => {
      if (generation !== this.generation) return;
      this.unacked -= size;
      if (this.unacked <= RESUME_BELOW) this.hold(false);
    });
  }
}
