/**
 * What the worker reports of its environments' use (the server's runaway and capacity rules
 * read it), on the fake runtime with fake timers: CPU as a percentage of one core since the
 * last reading, memory and processes against their limits, nothing for a stopped one.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fakeWorker, freshSpec, template } from "../support/fake-runtime/fake-worker";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("environment usage", () => {
  it("turns CPU time into a percentage of one core since the last reading, with the limits", async () => {
    const { driver, manager } = fakeWorker();
    const spec = freshSpec();
    await manager.start(spec);
    const first = await manager.usage();
    expect(first[spec.environmentId]).toEqual({
      cpuPercent: 0,
      memoryBytes: expect.any(Number),
      memoryLimitBytes: template.limits.memoryBytes,
      pids: 2,
      pidsLimit: template.limits.pidsLimit,
      cpuLimitPercent: 25,
    });
    driver.useCpu(spec.environmentId, 1_500_000_000);
    vi.advanceTimersByTime(3_000);
    expect((await manager.usage())[spec.environmentId]?.cpuPercent).toBe(50);
    vi.advanceTimersByTime(3_000);
    expect((await manager.usage())[spec.environmentId]?.cpuPercent).toBe(0);
  });

  it("leaves out a stopped environment, and starts its CPU reading afresh when it runs again", async () => {
    const { driver, manager } = fakeWorker();
    const spec = freshSpec();
    await manager.start(spec);
    await manager.usage();
    await manager.stop(spec.environmentId);
    expect(await manager.usage()).toEqual({});
    expect(await manager.runningCount()).toBe(0);
    await manager.start({ ...spec, volumeName: driver.container(spec.environmentId)!.volume });
    driver.useCpu(spec.environmentId, 9_000_000_000);
    vi.advanceTimersByTime(1_000);
    expect((await manager.usage())[spec.environmentId]?.cpuPercent).toBe(0);
    expect(await manager.runningCount()).toBe(1);
  });

  it("reports terminal activity per environment since a moment", async () => {
    const { manager } = fakeWorker();
    const spec = freshSpec();
    await manager.start(spec);
    const ref = { environmentId: spec.environmentId, terminalId: "main" };
    vi.useRealTimers(); // the terminal's screen mirror runs on timers of its own
    await manager.openTerminal({ ...ref, cols: 80, rows: 24 });
    const before = Date.now();
    await manager.input(ref, "true\r");
    expect(manager.activitySince(before - 1)[spec.environmentId]).toBeGreaterThanOrEqual(before);
    expect(manager.activitySince(Date.now() + 1)).toEqual({});
    manager.closeAll();
  });
});
