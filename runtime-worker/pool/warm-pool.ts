/**
 * Warm pools: per template shape, `size` containers created and started ahead of time,
 * each with a fresh volume of its own. A student's first start takes one (it is renamed
 * to the environment, its volume becomes the workspace) and the pool refills in the
 * background. Each pooled container already runs its main terminal's shell (under the PTY
 * holder), so a student who takes one attaches to a prompt. Only first starts use the
 * pool: a resume needs the student's own volume, and Docker cannot add a mount to an
 * existing container.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Logger } from "../../common/logger";
import type { ConfigurePools, PoolTemplate } from "../../protocol/worker-messages";
import type { RuntimeDriver, ShellToStart } from "../driver";

/** Containers with the same key are interchangeable for an environment. */
export function poolKeyOf(template: PoolTemplate): string {
  const canonical = JSON.stringify([template.image, template.limits.memoryBytes, template.limits.nanoCpus, template.limits.pidsLimit, template.limits.diskBytes ?? null, template.network, template.workingDir, template.user]);
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}

export class WarmPool {
  private desired = new Map<string, { template: PoolTemplate; size: number }>();
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
  ) {}

  async configure(config: ConfigurePools) {
    this.desired = new Map(config.pools.map((pool) => [poolKeyOf(pool.template), pool]));
    if (!this.loaded) await this.adoptExisting();
    void this.fill();
  }

  /** A ready container for this template shape, if there is one (never handed out twice). */
  take(template: PoolTemplate): string | undefined {
    const slot = this.ready.get(poolKeyOf(template))?.shift();
    if (slot) void this.fill();
    return slot;
  }

  get size() {
    let count = 0;
    for (const slots of this.ready.values()) count += slots.length;
    return count;
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
    // Shrink first (a smaller size, or a template no longer pooled), then grow one by one
    // so a refill never competes with a class burst for the engine all at once.
    for (const [key, slots] of this.ready) {
      const wanted = this.desired.get(key)?.size ?? 0;
      while (slots.length > wanted) await this.driver.removePooled(slots.pop()!).catch(() => undefined);
    }
    for (const [key, { template, size }] of this.desired) {
      const slots = this.ready.get(key) ?? [];
      this.ready.set(key, slots);
      while (slots.length < size && this.desired.get(key)?.size === size) {
        const slotId = randomBytes(6).toString("hex");
        try {
          await this.driver.createPooled(template, slotId, key, this.shell);
          slots.push(slotId);
        } catch (error) {
          this.log.error({ poolKey: key, image: template.image, err: (error as Error).message }, "warm pool could not add a container");
          break;
        }
      }
    }
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
