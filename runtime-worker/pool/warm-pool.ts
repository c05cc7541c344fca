/**
 * Warm pools: per template shape, `size` containers created and started ahead of time,
 * each with a fresh volume of its own. A student's first start takes one (it is renamed
 * to the environment, its volume becomes the workspace) and the pool refills in the
 * background. Each pooled container already runs its main terminal's shell (under the PTY
 * holder), so a student who takes one attaches to a prompt. Only first starts use the
 * pool: a resume needs the student's own volume, and Docker cannot add a mount to an
 * existing container.
 */
import { randomBytes } from "node:crypto";
import type { Logger } from "../../common/logger";
import { poolKeyOf } from "../../protocol/pool-key";
import type { ConfigurePools, PoolReadiness, PoolTemplate } from "../../protocol/worker-messages";
import type { RuntimeDriver, ShellToStart } from "../driver";

/** Containers with the same key are interchangeable for an environment. */
export { poolKeyOf };

/** Containers created (or removed) at once per pool: a class's pool fills fast without flooding the engine. */
export const DEFAULT_FILL_CONCURRENCY = 2;

export class WarmPool {
  private desired = new Map<string, { template: PoolTemplate; size: number; shrinkOnTake?: boolean }>();
  private readonly ready = new Map<string, string[]>();
  private filling: Promise<void> | null = null;
  /** Set when sizes change (or a container is taken) during a fill: fill again after it. */
  private dirty = false;
  private loaded = false;

  constructor(
    private readonly driver: RuntimeDriver,
    private readonly log: Logger,
    /** Started in every pooled container once it runs (off the students' path: fills are in the background). */
    private readonly shell?: ShellToStart,
    private readonly fillConcurrency = DEFAULT_FILL_CONCURRENCY,
  ) {}

  async configure(config: ConfigurePools) {
    this.desired = new Map(config.pools.map((pool) => [poolKeyOf(pool.template), pool]));
    if (!this.loaded) await this.adoptExisting();
    void this.fill();
  }

  /** A ready container for this template shape, if there is one (never handed out twice). */
  take(template: PoolTemplate): string | undefined {
    const key = poolKeyOf(template);
    const slot = this.ready.get(key)?.shift();
    if (slot) {
      // A class's pool is not refilled for a student it has just served (the server counts them).
      const pool = this.desired.get(key);
      if (pool?.shrinkOnTake && pool.size > 0) this.desired.set(key, { ...pool, size: pool.size - 1 });
      void this.fill();
    }
    return slot;
  }

  get size() {
    let count = 0;
    for (const slots of this.ready.values()) count += slots.length;
    return count;
  }

  /** Ready containers per pool (the heartbeat carries it: a class's preparation progress). */
  readiness(): PoolReadiness[] {
    return [...this.ready]
      .filter(([key, slots]) => slots.length > 0 || this.desired.has(key))
      .map(([key, slots]) => ({ key, ready: slots.length }))
      .slice(0, 200);
  }

  /** Resolves when every pool is at its size (tests and benchmarks wait on it). */
  async filled() {
    while (this.filling) await this.filling;
  }

  fill(): Promise<void> {
    if (this.filling) {
      this.dirty = true;
      return this.filling;
    }
    this.filling = (async () => {
      do {
        this.dirty = false;
        await this.fillAll();
      } while (this.dirty);
    })().finally(() => {
      this.filling = null;
    });
    return this.filling;
  }

  private async fillAll() {
    // Shrink first (a smaller size, or a template no longer pooled), then grow a few at a time
    // so a refill never competes with a class burst for the engine all at once.
    for (const [key, slots] of this.ready) {
      const wanted = this.desired.get(key)?.size ?? 0;
      await this.lanes(
        () => slots.length > wanted,
        () => this.driver.removePooled(slots.pop()!).catch(() => undefined),
      );
    }
    for (const [key, { template, size }] of this.desired) {
      const slots = this.ready.get(key) ?? [];
      this.ready.set(key, slots);
      let creating = 0;
      let failed = false;
      // A size changed meanwhile ends this round; the dirty flag brings another with the new size.
      const more = () => !failed && this.desired.get(key)?.size === size && slots.length + creating < size;
      await this.lanes(more, async () => {
        const slotId = randomBytes(6).toString("hex");
        creating += 1;
        try {
          await this.driver.createPooled(template, slotId, key, this.shell);
          slots.push(slotId);
        } catch (error) {
          failed = true;
          this.log.error({ poolKey: key, image: template.image, err: (error as Error).message }, "warm pool could not add a container");
        } finally {
          creating -= 1;
        }
      });
    }
  }

  /** Runs `step` while `more()` holds, at most `fillConcurrency` at once. */
  private async lanes(more: () => boolean, step: () => Promise<unknown>) {
    const lane = async () => {
      while (more()) await step();
    };
    await Promise.all(Array.from({ length: Math.max(1, this.fillConcurrency) }, lane));
  }

  /** After a restart: pooled containers still running are ready; stale ones go. */
  private async adoptExisting() {
    this.loaded = true;
    for (const pooled of await this.driver.listPooled()) {
      if (pooled.running && this.desired.has(pooled.poolKey)) {
        const slots = this.ready.get(pooled.poolKey) ?? [];
        slots.push(pooled.slotId);
        this.ready.set(pooled.poolKey, slots);
      } else {
        await this.driver.removePooled(pooled.slotId).catch(() => undefined);
      }
    }
  }
}
