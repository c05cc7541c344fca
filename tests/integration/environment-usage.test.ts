/**
 * CPU/memory readings: fresh ones are read back, stale ones are not, and nothing stays
 * behind for environments that stopped reporting (a long course must not grow Redis or
 * the server's memory). Redis is the real one; the in-process store needs none.
 */
import { randomUUID } from "node:crypto";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { MemoryUsageStore, RedisUsageStore, type RunawayPolicy, type UsageStore } from "../../server/workers/environment-usage";

const reading = (memoryBytes: number, pids = 3) => ({
  cpuPercent: 12.5,
  memoryBytes,
  memoryLimitBytes: 512 * 1024 * 1024,
  pids,
  pidsLimit: 64,
  cpuLimitPercent: 100,
});
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

const SECOND = 1000;
/** Flagged after 20 s and 3 readings at the pids limit (5 min at the CPU limit); stopped after 10 min. */
const policy: RunawayPolicy = { pidsAfterMs: 20 * SECOND, cpuAfterMs: 5 * MINUTE, minSamples: 3, stopAfterMs: 10 * MINUTE };
const FORK_BOMB = 63; // of a pids limit of 64
const cpuBound = { ...reading(1), cpuPercent: 99 };

describe.each([
  ["in process", () => new MemoryUsageStore(policy)],
  ["Redis", () => new RedisUsageStore(redis, `${prefix}:${randomUUID()}`, policy)],
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

  it("an environment at its pids limit for the configured time (in consecutive readings) is flagged, once, and cleared when it calms down", async () => {
    const store = makeStore();
    // Recent enough that the last readings are still fresh when read back.
    const start = Date.now() - 40 * SECOND;
    // A fork bomb's first readings: at the limit, but not for long enough yet.
    expect(await store.record({ bomb: reading(1, FORK_BOMB), calm: reading(1) }, start)).toEqual([]);
    expect(await store.record({ bomb: reading(1, FORK_BOMB) }, start + 10 * SECOND)).toEqual([]);
    // Long enough, but only two readings: one sample must not decide.
    const early = makeStore();
    await early.record({ bomb: reading(1, FORK_BOMB) }, start);
    expect(await early.record({ bomb: reading(1, FORK_BOMB) }, start + 25 * SECOND)).toEqual([]);

    expect(await store.record({ bomb: reading(1, FORK_BOMB), calm: reading(1) }, start + 21 * SECOND)).toEqual([
      { environmentId: "bomb", change: "flagged", reason: "pids", since: start },
    ]);
    // Reported once, not on every reading after.
    expect(await store.record({ bomb: reading(1, FORK_BOMB) }, start + 25 * SECOND)).toEqual([]);
    const read = await store.read(["bomb", "calm"]);
    expect(read.get("bomb")!.streak).toMatchObject({ reason: "pids", since: start, runaway: true });
    expect(read.get("calm")!.streak).toBeNull();

    // One reading below the limit ends the streak: the flag goes.
    expect(await store.record({ bomb: reading(1, 5) }, start + 30 * SECOND)).toEqual([
      { environmentId: "bomb", change: "cleared", reason: "pids", since: start },
    ]);
    expect((await store.read(["bomb"])).get("bomb")!.streak).toBeNull();
    // A new streak starts from scratch.
    expect(await store.record({ bomb: reading(1, FORK_BOMB) }, start + 35 * SECOND)).toEqual([]);
  });

  it("a reading gap (the environment stopped reporting) ends a streak", async () => {
    const store = makeStore();
    const start = Date.now() - 5 * MINUTE;
    await store.record({ gap: reading(1, FORK_BOMB) }, start);
    await store.record({ gap: reading(1, FORK_BOMB) }, start + 10 * SECOND);
    // Next reading a minute later: the previous one is stale, so this starts over.
    expect(await store.record({ gap: reading(1, FORK_BOMB) }, start + 70 * SECOND)).toEqual([]);
    expect(await store.record({ gap: reading(1, FORK_BOMB) }, start + 80 * SECOND)).toEqual([]);
  });

  it("the CPU limit counts only after its own, longer time; a runaway past the stop time is reported overdue once", async () => {
    const store = makeStore();
    const start = Date.now() - 20 * MINUTE;
    for (let at = start; at <= start + 4 * MINUTE; at += 20 * SECOND) expect(await store.record({ hog: cpuBound }, at)).toEqual([]);
    const flagged = [];
    for (let at = start + 4 * MINUTE + 20 * SECOND; at <= start + 11 * MINUTE; at += 20 * SECOND) flagged.push(...(await store.record({ hog: cpuBound }, at)));
    expect(flagged).toEqual([
      { environmentId: "hog", change: "flagged", reason: "cpu", since: start },
      { environmentId: "hog", change: "overdue", reason: "cpu", since: start },
    ]);
  });

  it("forgetting an environment drops its reading and its streak", async () => {
    const store = makeStore();
    await store.record({ gone: reading(1, FORK_BOMB) });
    await store.forget("gone");
    expect(await store.read(["gone"])).toEqual(new Map());
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
