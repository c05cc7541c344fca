/**
 * What a test can do to the fake runtime's engine calls: make the next one fail, hold every
 * one at the door until the test lets them through (a slow engine, without a sleep), and
 * count how many are in flight at once (the start-turn rules are about that).
 */

export type EngineCall = "create" | "start" | "stop" | "remove" | "createPooled" | "assignPooled" | "removePooled" | "runScript" | "attachShell";

/** Engine calls held until `release()`: `waiting` says how many have arrived. */
export interface Hold {
  readonly waiting: number;
  release(): void;
}

export class EngineFaults {
  private readonly failures = new Map<EngineCall, Error[]>();
  private readonly holds = new Map<EngineCall, { waiters: Array<() => void>; hold: Hold }>();
  private readonly inFlight = new Map<EngineCall, number>();
  private readonly most = new Map<EngineCall, number>();
  private readonly counts = new Map<EngineCall, number>();

  /** The next `call` throws `error` (each call queued fails once, in order). */
  failNext(call: EngineCall, error = new Error(`fake engine: ${call} failed`)) {
    this.failures.set(call, [...(this.failures.get(call) ?? []), error]);
  }

  /** Every `call` from now waits until the hold is released (then they all go on). */
  hold(call: EngineCall): Hold {
    const waiters: Array<() => void> = [];
    const hold: Hold = {
      get waiting() {
        return waiters.length;
      },
      release: () => {
        if (this.holds.get(call)?.hold === hold) this.holds.delete(call);
        for (const go of waiters.splice(0)) go();
      },
    };
    this.holds.set(call, { waiters, hold });
    return hold;
  }

  /** The most `call`s that were in flight at once. */
  mostInFlight(call: EngineCall) {
    return this.most.get(call) ?? 0;
  }

  /** How many `call`s were made. */
  count(call: EngineCall) {
    return this.counts.get(call) ?? 0;
  }

  /** Runs an engine call through its faults; the work itself happens after the door. */
  async through<T>(call: EngineCall, work: () => T | Promise<T>): Promise<T> {
    this.counts.set(call, this.count(call) + 1);
    const now = (this.inFlight.get(call) ?? 0) + 1;
    this.inFlight.set(call, now);
    this.most.set(call, Math.max(now, this.mostInFlight(call)));
    try {
      const held = this.holds.get(call);
      if (held) await new Promise<void>((resolve) => held.waiters.push(resolve));
      else await Promise.resolve(); // an engine answers later, never in the same turn
      const failure = this.failures.get(call)?.shift();
      if (failure) throw failure;
      return await work();
    } finally {
      this.inFlight.set(call, (this.inFlight.get(call) ?? 1) - 1);
    }
  }
}
