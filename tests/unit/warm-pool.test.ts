import { describe, expect, it } from "vitest";
import { rootLogger } from "../../common/logger";
import type { RuntimeDriver } from "../../runtime-worker/driver";
import { WarmPool, poolKeyOf } from "../../runtime-worker/pool/warm-pool";
import type { PoolTemplate } from "../../protocol/worker-messages";

/** Pool bookkeeping only: a stand-in driver whose containers take a moment to create. */
function slowDriver() {
  const containers = new Set<string>();
  const driver = {
    containers,
    async createPooled(_template: PoolTemplate, slotId: string) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      containers.add(slotId);
    },
    async removePooled(slotId: string) {
      containers.delete(slotId);
    },
    async listPooled() {
      return [];
    },
  };
  return driver as unknown as RuntimeDriver & { containers: Set<string> };
}

const template: PoolTemplate = {
  image: "shellroom/default:1", network: "none", workingDir: "/home/student/workspace", user: "student",
  limits: { memoryBytes: 128 * 1024 * 1024, nanoCpus: 250_000_000, pidsLimit: 64 },
};
const log = rootLogger.child({});
log.level = "silent";

describe("warm pool sizes", () => {
  it("shrinks to a size set while a fill is still running", async () => {
    const driver = slowDriver();
    const pool = new WarmPool(driver, log);
    await pool.configure({ pools: [{ template, size: 8 }] });
    await new Promise((resolve) => setTimeout(resolve, 12)); // part-way through the fill
    await pool.configure({ pools: [{ template, size: 0 }] });
    await pool.filled();
    expect(pool.size).toBe(0);
    expect(driver.containers.size).toBe(0);
  });

  it("grows to a size raised while a fill is still running, and refills after a take", async () => {
    const driver = slowDriver();
    const pool = new WarmPool(driver, log);
    await pool.configure({ pools: [{ template, size: 2 }] });
    await pool.configure({ pools: [{ template, size: 6 }] });
    await pool.filled();
    expect([pool.size, driver.containers.size]).toEqual([6, 6]);
    const taken = pool.take(template);
    expect(taken).toBeDefined();
    await pool.filled();
    expect(pool.size).toBe(6);
    expect(pool.take({ ...template, image: "other:1" })).toBeUndefined();
  });

  it("fills a class-sized pool a bounded number at a time, reports readiness per pool, and drains", async () => {
    const driver = slowDriver();
    let creating = 0;
    let most = 0;
    const create = driver.createPooled.bind(driver);
    driver.createPooled = async (...args: Parameters<typeof create>) => {
      creating += 1;
      most = Math.max(most, creating);
      try {
        await create(...args);
      } finally {
        creating -= 1;
      }
    };
    const pool = new WarmPool(driver, log, undefined, 3);
    await pool.configure({ pools: [{ template, size: 20 }] });
    await pool.filled();
    expect(driver.containers.size).toBe(20);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(3);
    expect(pool.readiness()).toEqual([{ key: poolKeyOf(template), ready: 20 }]);
    await pool.configure({ pools: [{ template, size: 2 }] });
    await pool.filled();
    expect(driver.containers.size).toBe(2);
    expect(pool.readiness()).toEqual([{ key: poolKeyOf(template), ready: 2 }]);
  });

  it("does not refill a class's pool for a container it handed out, until it is configured again", async () => {
    const driver = slowDriver();
    const pool = new WarmPool(driver, log);
    await pool.configure({ pools: [{ template, size: 3, shrinkOnTake: true }] });
    await pool.filled();
    expect(pool.take(template)).toBeDefined();
    await pool.filled();
    // Two pooled and the one handed out: nothing new was created.
    expect([pool.size, driver.containers.size]).toEqual([2, 3]);
    await pool.configure({ pools: [{ template, size: 3 }] });
    expect(pool.take(template)).toBeDefined();
    await pool.filled();
    expect(pool.size).toBe(3);
  });
});
