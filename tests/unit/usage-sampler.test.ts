import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { UsageSampler } from "../../runtime-worker/usage-sampler";

const reading = (cpuPercent: number) => ({ env: { cpuPercent, memoryBytes: 1, memoryLimitBytes: 2, pids: 3, pidsLimit: 256, cpuLimitPercent: 100 } });
/** A sample that takes `ms` (of fake time). */
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Fake timers: the sampler's schedule runs in no time, and the same way on a loaded host.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("UsageSampler", () => {
  let sampler: UsageSampler | undefined;
  afterEach(() => sampler?.stop());

  it("hands each sample out once, and nothing before the first one is ready", async () => {
    let release!: () => void;
    const first = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    sampler = new UsageSampler(
      async () => {
        calls += 1;
        if (calls === 1) await first;
        return reading(calls);
      },
      10_000,
      () => undefined,
    );
    sampler.start();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(sampler.take()).toEqual({});
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(sampler.take()).toEqual(reading(1));
    expect(sampler.take()).toEqual({});
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sampler.take()).toEqual(reading(2));
  });

  it("never runs two samples at once, however slow one is", async () => {
    let running = 0;
    let most = 0;
    let calls = 0;
    sampler = new UsageSampler(
      async () => {
        calls += 1;
        running += 1;
        most = Math.max(most, running);
        await tick(30);
        running -= 1;
        return reading(calls);
      },
      1,
      () => undefined,
    );
    sampler.start();
    sampler.start();
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toBeGreaterThan(2);
    expect(most).toBe(1);
  });

  it("reports a failed sample and keeps sampling", async () => {
    const errors: unknown[] = [];
    let calls = 0;
    sampler = new UsageSampler(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error("docker is busy");
        return reading(calls);
      },
      1,
      (error) => errors.push(error),
    );
    sampler.start();
    await vi.advanceTimersByTimeAsync(1);
    expect(sampler.take()).toEqual(reading(2));
    expect(errors).toHaveLength(1);
  });
});

describe("UsageSampler's memory total", () => {
  it("keeps the environments' memory summed from the newest sample, after the sample is handed out", async () => {
    const sampler = new UsageSampler(
      async () => ({
        a: { cpuPercent: 0, memoryBytes: 3_000_000, memoryLimitBytes: 1, pids: 1, pidsLimit: 1, cpuLimitPercent: 1 },
        b: { cpuPercent: 0, memoryBytes: 2_000_000, memoryLimitBytes: 1, pids: 1, pidsLimit: 1, cpuLimitPercent: 1 },
      }),
      10_000,
      () => undefined,
    );
    expect(sampler.environmentsMemoryBytes).toBe(0);
    sampler.start();
    await vi.advanceTimersByTimeAsync(0);
    sampler.take();
    expect(sampler.environmentsMemoryBytes).toBe(5_000_000);
    sampler.stop();
  });
});
