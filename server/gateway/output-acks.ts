/**
 * The server's half of output acknowledgements, per worker connection: output handed over to the
 * bus is acknowledged cumulatively (per terminal, the offset handed over up to), for every
 * terminal with news at once. They ride on the next input going to that worker (a typing
 * student's next keystroke carries the acknowledgement of the last echo: no message of its own);
 * when no input goes, they are sent alone once ACK_EVERY_BYTES have been handed over or
 * ACK_DELAY_MS after the first unacknowledged byte. A flood is acknowledged every 32 KiB, far
 * inside the worker's window, so it never waits. The delay is long enough for a typist's next
 * keystroke (100 to 300 ms apart) to carry the last echo's acknowledgement: at 5 ms, every
 * keystroke typed at a human pace cost a message of its own, and a wake-up of the server (its
 * timer) and of the worker. Less than 32 KiB waits on the timer, so the worker's 1 MiB window is
 * never near.
 */
import type { Socket } from "socket.io";
import type { OutputAck } from "../../protocol/worker-messages";

export const ACK_EVERY_BYTES = 32 * 1024;
export const ACK_DELAY_MS = 250;

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
    const acks = this.take();
    if (acks) this.send(acks);
  }

  /** The acknowledgements waiting, taken to ride on a message that goes to the worker anyway; undefined when none wait. */
  take(): OutputAck[] | undefined {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return undefined;
    const acks = [...this.pending.values()];
    this.pending.clear();
    this.pendingBytes = 0;
    return acks;
  }

  /** The connection is gone: nothing more is sent. */
  close() {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}

const batchers = new WeakMap<Socket, OutputAckBatcher>();

/** The batcher of a worker's socket, made on its connection (worker-gateway.ts); it is closed when the socket drops. */
export function outputAcksOn(socket: Socket, send: (acks: OutputAck[]) => void): OutputAckBatcher {
  const batcher = new OutputAckBatcher(send);
  batchers.set(socket, batcher);
  socket.once("disconnect", () => {
    batcher.close();
    batchers.delete(socket);
  });
  return batcher;
}

/** What input to the worker on `socket` carries: the acknowledgements waiting for it, if any. */
export const acksToCarry = (socket: Socket) => batchers.get(socket)?.take();
