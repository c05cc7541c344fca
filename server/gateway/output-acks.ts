/**
 * The server's half of output acknowledgements, per worker connection: output handed over to the
 * bus is acknowledged cumulatively (per terminal, the offset handed over up to), in one message
 * for every terminal with news, sent once ACK_EVERY_BYTES have been handed over or ACK_DELAY_MS
 * after the first unacknowledged byte. A typing student's echoes share one acknowledgement; a
 * flood is acknowledged every 32 KiB, far inside the worker's 256 KiB window, so it never waits.
 */
import type { OutputAck } from "../../protocol/worker-messages";

export const ACK_EVERY_BYTES = 32 * 1024;
export const ACK_DELAY_MS = 5;

export class OutputAckBatcher {
  private readonly pending = new Map<string, OutputAck>();
  private pendingBytes = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly send: (acks: OutputAck[]) => void) {}

  /** Output of `ref` up to `end` (`bytes` of it new) was handed over. */
  handed(ref: { environmentId: string; terminalId: string }, end: number, bytes: number) {
    const key = `${ref.environmentId}/${ref.terminalId}`;
    const known = this.pending.get(key);
    this.pending.set(key, { environmentId: ref.environmentId, terminalId: ref.terminalId, offset: Math.max(end, known?.offset ?? 0) });
    this.pendingBytes += bytes;
    if (this.pendingBytes >= ACK_EVERY_BYTES) this.flush();
    else if (this.timer === undefined) this.timer = setTimeout(() => this.flush(), ACK_DELAY_MS);
  }

  flush() {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const acks = [...this.pending.values()];
    this.pending.clear();
    this.pendingBytes = 0;
    this.send(acks);
  }

  /** The connection is gone: nothing more is sent. */
  close() {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}
