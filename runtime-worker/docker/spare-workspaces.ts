/**
 * A stock of workspace images made ahead of need (formatted and loop-mounted), so that a
 * start takes one instead of formatting and mounting on its critical path: under a class
 * burst those steps queue behind each other (mounts take turns) and were a third of a cold
 * start. The stock is kept per disk size, for the sizes starts have asked for (and the sizes
 * it was seeded with), and refilled one image at a time in the background.
 *
 * This module owns the bookkeeping; making and discarding an image are the caller's
 * (WorkspaceVolumes), which owns the images and mounts.
 */

export interface SpareImageMaker {
  /** Formats and mounts a new spare image of `diskBytes` under `name`. */
  make(name: string, diskBytes: number): Promise<void>;
  /** Unmounts and deletes a spare image. */
  discard(name: string): Promise<void>;
}

export const SPARE_PREFIX = "shellroom-spare-";
/** Refilling waits this long after the last take: a class burst (about 10 s for 100) keeps the CPU, the stock comes back after it. */
const REFILL_QUIET_MS = 10_000;

export class SpareWorkspaces {
  private readonly ready = new Map<number, string[]>();
  private readonly wanted = new Set<number>();
  private filling: Promise<void> | null = null;
  private closed = false;
  private counter = 0;
  private refillTimer?: NodeJS.Timeout;

  constructor(
    private readonly maker: SpareImageMaker,
    /** Spares kept per disk size (0: none). */
    readonly perSize: number,
    private readonly onError: (error: Error) => void = () => undefined,
  ) {}

  /** Keeps a stock of this size from now on (idempotent); starts filling. */
  want(diskBytes: number) {
    if (this.perSize <= 0 || this.closed || this.wanted.has(diskBytes)) return;
    this.wanted.add(diskBytes);
    this.fill();
  }

  /** A ready spare of this size, now taken (the caller adopts it), or undefined; notes the demand. */
  take(diskBytes: number): string | undefined {
    this.want(diskBytes);
    const name = this.ready.get(diskBytes)?.shift();
    if (name) {
      clearTimeout(this.refillTimer);
      this.refillTimer = setTimeout(() => {
        this.refillTimer = undefined;
        this.fill();
      }, REFILL_QUIET_MS);
      this.refillTimer.unref();
    }
    return name;
  }

  /** Spares ready to take, all sizes. */
  get count() {
    let total = 0;
    for (const names of this.ready.values()) total += names.length;
    return total;
  }

  /** Whether every wanted size has its full stock. */
  get full() {
    return [...this.wanted].every((size) => (this.ready.get(size)?.length ?? 0) >= this.perSize);
  }

  /** Resolves once no fill is due or running (tests wait on it). */
  async settled() {
    for (;;) {
      if (this.filling) await this.filling;
      else if (this.refillTimer && !this.closed) await new Promise((resolve) => setTimeout(resolve, 100));
      else return;
    }
  }

  /** Stops filling and discards the stock (a worker shutting down leaves no spares mounted). */
  async close() {
    this.closed = true;
    clearTimeout(this.refillTimer);
    await this.settled();
    for (const names of this.ready.values()) {
      for (const name of names.splice(0)) await this.maker.discard(name).catch((error: Error) => this.onError(error));
    }
  }

  private fill() {
    if (this.filling || this.closed) return;
    this.filling = this.fillUntilFull().finally(() => {
      this.filling = null;
    });
  }

  /** One image at a time: the stock is for later, not a burst of its own beside a class's starts. */
  private async fillUntilFull() {
    for (;;) {
      const size = [...this.wanted].find((wanted) => (this.ready.get(wanted)?.length ?? 0) < this.perSize);
      if (size === undefined || this.closed) return;
      const name = `${SPARE_PREFIX}${process.pid.toString(36)}-${(this.counter++).toString(36)}-${Date.now().toString(36)}`;
      try {
        await this.maker.make(name, size);
      } catch (error) {
        this.onError(error as Error);
        await this.maker.discard(name).catch(() => undefined);
        return; // a host that cannot make one now will not make the next: try again on the next demand
      }
      if (this.closed) {
        await this.maker.discard(name).catch(() => undefined);
        return;
      }
      const names = this.ready.get(size) ?? [];
      names.push(name);
      this.ready.set(size, names);
    }
  }
}
