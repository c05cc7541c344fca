/**
 * How fast one terminal's output may flow: a token bucket of bytes. Every byte a shell
 * prints costs the worker (the relay, and the screen mirror's parse unless it scrolls away
 * unseen), the server (the relay) and every browser watching; without a bound, one student's
 * `yes` takes a core of each and everyone else's keystrokes wait behind it. A burst passes at
 * full speed (a `cat` of a log, a build's output); past it the terminal is held (the kernel
 * blocks the writer) until the bucket refills. Ctrl-C is unaffected (input is not counted).
 * Since the mirror stopped parsing plain text that scrolls away (scrolled-away.ts), a flood
 * costs the worker a fraction of what it did: the budget went from 8 MiB then 2 MiB/s to
 * 32 MiB then 8 MiB/s (issue #13; measured with the bench's wire phase, docs/CONTAINMENT.md).
 */

/** Bytes per second, sustained (SHELLROOM_TERMINAL_OUTPUT_RATE on the worker overrides it). */
export const DEFAULT_OUTPUT_RATE = 8 * 1024 * 1024;
/** Bytes that pass at full speed before the rate applies. */
export const DEFAULT_OUTPUT_BURST = 32 * 1024 * 1024;

export interface OutputBudgetOptions {
  bytesPerSecond: number;
  burstBytes: number;
  now?: () => number;
}

export class OutputBudget {
  private tokens: number;
  private updatedAt: number;
  private readonly now: () => number;

  constructor(private readonly options: OutputBudgetOptions) {
    this.now = options.now ?? (() => performance.now());
    this.tokens = options.burstBytes;
    this.updatedAt = this.now();
  }

  /** Spends `bytes`; returns how long (ms) the terminal must now wait, 0 when it may go on. */
  spend(bytes: number): number {
    this.refill();
    this.tokens -= bytes;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.options.bytesPerSecond) * 1000);
  }

  private refill() {
    const now = this.now();
    this.tokens = Math.min(this.options.burstBytes, this.tokens + ((now - this.updatedAt) / 1000) * this.options.bytesPerSecond);
    this.updatedAt = now;
  }
}

/** The budget every terminal of this worker gets (the operator may change the rate). */
export function outputBudgetFromEnv(env: Record<string, string | undefined> = process.env): OutputBudgetOptions {
  const rate = Number(env.SHELLROOM_TERMINAL_OUTPUT_RATE);
  const bytesPerSecond = Number.isFinite(rate) && rate >= 64 * 1024 ? rate : DEFAULT_OUTPUT_RATE;
  return { bytesPerSecond, burstBytes: Math.max(DEFAULT_OUTPUT_BURST, bytesPerSecond * 2) };
}
