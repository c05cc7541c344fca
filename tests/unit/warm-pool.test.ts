/**
 * The warm pool's sizes on the fake runtime: pooled creates are held at the engine's door
 * (no sleeps), so "while a fill is still running" is a state the test sets up, not a race.
 */
import { describe, expect, it, vi } from "vitest";
import { WarmPool, poolKeyOf } from "../../runtime-worker/pool/warm-pool";
import { FakeRuntimeDriver } from "../support/fake-runtime/fake-runtime-driver";
import { quietLog, template } from "../support/fake-runtime/fake-worker";

const pooledCount = async (driver: FakeRuntimeDriver) => (await driver.listPooled()).length;

describe("warm pool sizes", () => {
  it("shrinks to a size set while a fill is still running", async () => {
    const driver = new FakeRuntimeDriver();
    const pool = new WarmPool(driver, quietLog());
    const slowCreates = driver.faults.hold("createPooled");
    await pool.configure({ pools: [{ template, size: 8 }] });
    await vi.waitFor(() => expect(slowCreates.waiting).toBe(2)); // part-way through the fill
    await pool.configure({ pools: [{ template, size: 0 }] });
    slowCreates.release();
    await pool.filled();
    expect(pool.size).toBe(0);
    expect(await pooledCount(driver)).toBe(0);
    expect(driver.faults.count("createPooled")).toBe(2);
  });

  it("grows to a size raised while a fill is still running, and refills after a take", async () => {
    const driver = new FakeRuntimeDriver();
    const pool = new WarmPool(driver, quietLog());
    const slowCreates = driver.faults.hold("createPooled");
    await pool.configure({ pools: [{ template, size: 2 }] });
    await vi.waitFor(() => expect(slowCreates.waiting).toBe(2));
    await pool.configure({ pools: [{ template, size: 6 }] });
    slowCreates.release();
    await pool.filled();
    expect([pool.size, await pooledCount(driver)]).toEqual([6, 6]);
    const taken = pool.take(template);
    expect(taken).toBeDefined();
    await driver.assignPooled(taken!, "env-took-one");
    await pool.filled();
    expect(pool.size).toBe(6);
    expect(pool.take({ ...template, image: "other:1" })).toBeUndefined();
  });

  it("fills a class-sized pool a bounded number at a time, reports readiness per pool, and drains", async () => {
    const driver = new FakeRuntimeDriver();
    const pool = new WarmPool(driver, quietLog(), undefined, 3);
    const slowCreates = driver.faults.hold("createPooled");
    await pool.configure({ pools: [{ template, size: 20 }] });
    await vi.waitFor(() => expect(slowCreates.waiting).toBe(3));
    slowCreates.release();
    await pool.filled();
    expect(await pooledCount(driver)).toBe(20);
    expect(driver.faults.mostInFlight("createPooled")).toBe(3);
    expect(pool.readiness()).toEqual([{ key: poolKeyOf(template), ready: 20 }]);
    await pool.configure({ pools: [{ template, size: 2 }] });
    await pool.filled();
    expect(await pooledCount(driver)).toBe(2);
    expect(pool.readiness()).toEqual([{ key: poolKeyOf(template), ready: 2 }]);
  });

  it("does not refill a class's pool for a container it handed out, until it is configured again", async () => {
    const driver = new FakeRuntimeDriver();
    const pool = new WarmPool(driver, quietLog());
    await pool.configure({ pools: [{ template, size: 3, shrinkOnTake: true }] });
    await pool.filled();
    expect(pool.take(template)).toBeDefined();
    await pool.filled();
    // Two pooled and the one handed out (still a pooled container until assigned): nothing new was created.
    expect([pool.size, await pooledCount(driver)]).toEqual([2, 3]);
    await pool.configure({ pools: [{ template, size: 3 }] });
    expect(pool.take(template)).toBeDefined();
    await pool.filled();
    expect(pool.size).toBe(3);
  });
});
