/**
 * Fairness for the screen mirrors. Every terminal's headless xterm parses, reflows and
 * serializes on the worker's one thread, so one student's dense output or resize loop
 * would otherwise take the thread from everyone (xterm parses a backlog for up to 12 ms
 * at a time, and a reflow is one synchronous call). Here each terminal's mirror work is a
 * queue, and one shared scheduler runs it round-robin: a terminal gets one slice (at most
 * SLICE_BYTES of output, or one resize, or one snapshot) per turn, then the event loop
 * breathes (keystrokes, acks) and the next terminal with work goes. A flooding terminal gets
 * the thread when nobody else wants it, and a fair share when they do.
 */

/** Output parsed per turn while others wait: a few milliseconds of dense output. */
export const SLICE_BYTES = 32 * 1024;
/**
 * Per turn when no other terminal's mirror is waiting: a little more, but still a couple of
 * milliseconds. xterm parses one write without yielding, and other students' keystrokes and
 * echoes (which are not mirror work) wait behind it: a 512 KiB slice held them ~15 ms.
 */
export const ALONE_SLICE_BYTES = 64 * 1024;

/** One terminal's mirror work, run a slice at a time by the scheduler. */
export interface MirrorQueue {
  /** True while the queue has work for another turn. */
  readonly hasWork: boolean;
  /** Runs one slice of at most `budgetBytes` of output; resolves when it is done (or the terminal is gone). */
  runSlice(budgetBytes: number): Promise<void>;
}

export class MirrorScheduler {
  private readonly ready: MirrorQueue[] = [];
  private readonly queued = new Set<MirrorQueue>();
  private running = false;
  /** Slices run so far, per queue (for tests and metrics). */
  readonly turns = new WeakMap<MirrorQueue, number>();

  /** The queue has (more) work: it joins the end of the round if it is not in it already. */
  wake(queue: MirrorQueue) {
    if (this.queued.has(queue)) return;
    this.queued.add(queue);
    this.ready.push(queue);
    if (!this.running) void this.run();
  }

  private async run() {
    this.running = true;
    try {
      for (let queue = this.ready.shift(); queue; queue = this.ready.shift()) {
        this.queued.delete(queue);
        if (!queue.hasWork) continue;
        try {
          await queue.runSlice(this.ready.length === 0 ? ALONE_SLICE_BYTES : SLICE_BYTES);
        } catch {
          // One terminal's mirror failing (a disposed xterm) must not stop the others'.
        }
        this.turns.set(queue, (this.turns.get(queue) ?? 0) + 1);
        if (queue.hasWork) this.wake(queue);
        // Let I/O in between slices: other students' keystrokes and output go first.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.running = false;
    }
  }
}

/** The worker's one scheduler: every terminal shares it. */
export const sharedMirrorScheduler = new MirrorScheduler();
