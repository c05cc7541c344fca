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
 *
 * A second, tighter bucket applies only while someone else on this worker is typing
 * (typing-watch.ts): alone, a student's output flows at the full budget; beside a class, a
 * flood is held to what does not slow the others' echo. Held, the flooding program itself
 * blocks on the pty and stops taking a core too.
 */

/** Bytes per second, sustained (SHELLROOM_TERMINAL_OUTPUT_RATE on the worker overrides it). */
export const DEFAULT_OUTPUT_RATE = 8 * 1024 * 1024;
/** Bytes that pass at full speed before the rate applies. */
export const DEFAULT_OUTPUT_BURST = 32 * 1024 * 1024;
/**
 * Bytes per second while another terminal of the worker is typed in (SHELLROOM_TERMINAL_CONTENDED_RATE
 * overrides it): far more than anyone reads, and a build's log still flows.
 */
export const DEFAULT_CONTENDED_RATE = 1024 * 1024;
/** What passes at once when contention begins (or between floods). */
export const DEFAULT_CONTENDED_BURST = 2 * 1024 * 1024;

export interface RateLimit {
  bytesPerSecond: number;
  burstBytes: number;
}

export interface OutputBudgetOptions extends RateLimit {
  /** The bucket spent only while others type; absent: none. */
  contended?: RateLimit;
  now?: () => number;
}

class Bucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly limit: RateLimit,
    now: number,
  ) {
    this.tokens = limit.burstBytes;
    this.updatedAt = now;
  }

  /** Spends `bytes` at time `now` (none when `spend` is false: the bucket only refills); how long (ms) the terminal must now wait. */
  spend(bytes: number, now: number, spend = true): number {
    this.tokens = Math.min(this.limit.burstBytes, this.tokens + ((now - this.updatedAt) / 1000) * this.limit.bytesPerSecond);
    this.updatedAt = now;
    if (spend) this.tokens -= bytes;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.limit.bytesPerSecond) * 1000);
  }
}

export class OutputBudget {
  private readonly bucket: Bucket;
  private readonly contended: Bucket | null;
  private readonly now: () => number;

  constructor(options: OutputBudgetOptions) {
    this.now = options.now ?? (() => performance.now());
    this.bucket = new Bucket(options, this.now());
    this.contended = options.contended ? new Bucket(options.contended, this.now()) : null;
  }

  /** Spends `bytes` (from the contended bucket too while `othersTyping`); returns how long (ms) the terminal must now wait, 0 when it may go on. */
  spend(bytes: number, othersTyping = false): number {
    const now = this.now(); // once per chunk, for both buckets
    const wait = this.bucket.spend(bytes, now);
    return this.contended ? Math.max(wait, this.contended.spend(bytes, now, othersTyping)) : wait;
  }
}

const rateFrom = (value: string | undefined, fallback: number) => {
  const rate = Number(value);
  return Number.isFinite(rate) && rate >= 64 * 1024 ? rate : fallback;
};

/** The budget every terminal of this worker gets (the operator may change the rates). */
export function outputBudgetFromEnv(env: Record<string, string | undefined> = process.env): OutputBudgetOptions {
  const bytesPerSecond = rateFrom(env.SHELLROOM_TERMINAL_OUTPUT_RATE, DEFAULT_OUTPUT_RATE);
  const contendedRate = Math.min(bytesPerSecond, rateFrom(env.SHELLROOM_TERMINAL_CONTENDED_RATE, DEFAULT_CONTENDED_RATE));
  return {
    bytesPerSecond,
    burstBytes: Math.max(DEFAULT_OUTPUT_BURST, bytesPerSecond * 2),
    contended: { bytesPerSecond: contendedRate, burstBytes: Math.max(DEFAULT_CONTENDED_BURST, contendedRate * 2) },
  };
}
