/**
 * The worker's half of output acknowledgements. The server acknowledges output cumulatively and
 * in batches (`terminal:output-acked`: per terminal, the output offset it has handed over), not
 * one reply per message: a keystroke's echo then costs one message fewer on the link. Each sent
 * message waits here for the acknowledgement that covers its end, then runs its `acked` (which
 * moves the OutputRelay's window).
 */
import type { TerminalRef } from "../../protocol/worker-messages";

const keyOf = (ref: TerminalRef) => `${ref.environmentId}/${ref.terminalId}`;

export class OutputAcks {
  private readonly waiting = new Map<string, Array<{ end: number; acked: () => void }>>();

  /** A message ending at output offset `end` was sent; `acked` runs once the server covers it. */
  wait(ref: TerminalRef, end: number, acked: () => void) {
    const key = keyOf(ref);
    const list = this.waiting.get(key);
    if (list) list.push({ end, acked });
    else this.waiting.set(key, [{ end, acked }]);
  }

  /** The server handed over the terminal's output up to `offset`. */
  acked(ref: TerminalRef, offset: number) {
    const key = keyOf(ref);
    const list = this.waiting.get(key);
    if (!list) return;
    // Messages go out (and are acknowledged) in order: the covered ones are at the front.
    let covered = 0;
    while (covered < list.length && list[covered]!.end <= offset) covered++;
    const done = list.splice(0, covered);
    if (list.length === 0) this.waiting.delete(key);
    for (const waiter of done) waiter.acked();
  }

  /** The terminal's shell ended: a new one starts its offsets again, and nothing older will be acknowledged. */
  forget(ref: TerminalRef) {
    this.waiting.delete(keyOf(ref));
  }

  /** The link dropped: nothing sent on it will be acknowledged (the relays reset themselves). */
  clear() {
    this.waiting.clear();
  }

  /** Messages waiting, across terminals (for tests and metrics). */
  get size() {
    let total = 0;
    for (const list of this.waiting.values()) total += list.length;
    return total;
  }
}
