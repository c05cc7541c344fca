/**
 * CPU/memory readings: fresh ones are read back, stale ones are not, and nothing stays
 * behind for environments that stopped reporting (a long course must not grow Redis or
 * the server's memory). Redis is the real one; the in-process store needs none.
 */
import { randomUUID } from "node:crypto";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { MemoryUsageStore, RedisUsageStore, type UsageStore } from "../../server/workers/environment-usage";

const reading = (memoryBytes: number) => ({ cpuPercent: 12.5, memoryBytes, memoryLimitBytes: 512 * 1024 * 1024 });
const MINUTE = 60_000;

let redis: ReturnType<typeof createClient>;
const prefix = `shellroom-test-usage-${randomUUID()}`;
beforeAll(async () => {
  redis = createClient({ url: inject("redisUrl") });
  await redis.connect();
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(keys);
  await redis.quit();
});

describe.each([
  ["in process", () => new MemoryUsageStore()],
  ["Redis", () => new RedisUsageStore(redis, prefix)],
] as Array<[string, () => UsageStore]>)("usage readings (%s)", (_name, makeStore) => {
  it("reads back the latest fresh reading and leaves out stale and unknown environments", async () => {
    const store = makeStore();
    await store.record({ "env-a": reading(1), "env-b": reading(2) }, Date.now() - 2 * MINUTE);
    await store.record({ "env-a": reading(3) });
    const read = await store.read(["env-a", "env-b", "env-never"]);
    expect([...read.keys()]).toEqual(["env-a"]);
    expect(read.get("env-a")).toMatchObject(reading(3));
    expect(await store.read([])).toEqual(new Map());
  });
});

describe("nothing stays behind", () => {
  it("Redis keeps each reading only as long as it is fresh", async () => {
    const store = new RedisUsageStore(redis, prefix);
    await store.record({ "env-ttl": reading(4) });
    const [key] = await redis.keys(`${prefix}:*env-ttl`);
    expect(key).toBeDefined();
    const ttl = await redis.pTTL(key!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });

  it("the in-process store drops readings once they are stale", async () => {
    const store = new MemoryUsageStore();
    const old = Date.now() - 2 * MINUTE;
    await store.record(Object.fromEntries(Array.from({ length: 1000 }, (_, index) => [`old-${index}`, reading(index)])), old);
    await store.record({ "env-now": reading(5) });
    expect((store as unknown as { readings: Map<string, unknown> }).readings.size).toBe(1);
  });
});
