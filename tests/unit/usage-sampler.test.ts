import { afterEach, describe, expect, it } from "vitest";
import { UsageSampler } from "../../runtime-worker/usage-sampler";

const reading = (cpuPercent: number) => ({ env: { cpuPercent, memoryBytes: 1, memoryLimitBytes: 2, pids: 3, pidsLimit: 256, cpuLimitPercent: 100 } });
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("UsageSampler", () => {
  let sampler: UsageSampler | undefined;
  afterEach(() => sampler?.stop());

  it("hands each sample out once, and nothing before the first one is ready", async () => {
    let release!: () => void;
    const first = new Promise<void>((resolve) => { release = resolve; });
    let calls = 0;
    sampler = new UsageSampler(async () => {
      calls += 1;
      if (calls === 1) await first;
      return reading(calls);
    }, 10_000, () => undefined);
    sampler.start();
    expect(sampler.take()).toEqual({});
    release();
    await tick(5);
    expect(sampler.take()).toEqual(reading(1));
    expect(sampler.take()).toEqual({});
  });

  it("never runs two samples at once, however slow one is", async () => {
    let running = 0;
    let most = 0;
    let calls = 0;
    sampler = new UsageSampler(async () => {
      calls += 1;
      running += 1;
      most = Math.max(most, running);
      await tick(30);
      running -= 1;
      return reading(calls);
    }, 1, () => undefined);
    sampler.start();
    sampler.start();
    await tick(200);
    expect(calls).toBeGreaterThan(2);
    expect(most).toBe(1);
  });

  it("reports a failed sample and keeps sampling", async () => {
    const errors: unknown[] = [];
    let calls = 0;
    sampler = new UsageSampler(async () => {
      calls += 1;
      if (calls === 1) throw new Error("docker is busy");
      return reading(calls);
    }, 1, (error) => errors.push(error));
    sampler.start();
    await expect.poll(() => sampler!.take(), { timeout: 2000 }).not.toEqual({});
    expect(errors).toHaveLength(1);
  });
});

describe("UsageSampler's memory total", () => {
  it("keeps the environments' memory summed from the newest sample, after the sample is handed out", async () => {
    const sampler = new UsageSampler(async () => ({
      a: { cpuPercent: 0, memoryBytes: 3_000_000, memoryLimitBytes: 1, pids: 1, pidsLimit: 1, cpuLimitPercent: 1 },
      b: { cpuPercent: 0, memoryBytes: 2_000_000, memoryLimitBytes: 1, pids: 1, pidsLimit: 1, cpuLimitPercent: 1 },
    }), 10_000, () => undefined);
    expect(sampler.environmentsMemoryBytes).toBe(0);
    sampler.start();
    for (let attempt = 0; attempt < 100 && sampler.environmentsMemoryBytes === 0; attempt++) await new Promise((resolve) => setTimeout(resolve, 5));
    sampler.take();
    expect(sampler.environmentsMemoryBytes).toBe(5_000_000);
    sampler.stop();
  });
});
