/**
 * From the worker's usage report to the server's runaway decision, without Docker or Redis:
 * the fake runtime's environment sits at its pids or CPU limit, the worker reports it every
 * few seconds (fake timers), and the server's usage store (the single-node one; the Redis one
 * applies the same rules) flags it, says when it is overdue for a stop, and clears it.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_RUNAWAY_POLICY, MemoryUsageStore, type RunawayChange } from "../../server/workers/environment-usage";
import { fakeWorker, freshSpec, template } from "../support/fake-runtime/fake-worker";

const REPORT_EVERY_MS = 3_000;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

async function reportingWorker() {
  const worker = fakeWorker();
  const spec = freshSpec();
  await worker.manager.start(spec);
  const store = new MemoryUsageStore();
  const changes: RunawayChange[] = [];
  /** The worker samples and the server records, `times` reports apart. */
  const report = async (times = 1, during: () => void = () => undefined) => {
    for (let index = 0; index < times; index++) {
      during();
      vi.advanceTimersByTime(REPORT_EVERY_MS);
      changes.push(...(await store.record(await worker.manager.usage(), Date.now())));
    }
  };
  return { ...worker, environmentId: spec.environmentId, store, changes, report };
}

describe("runaway environments", () => {
  it("flags one at its pids limit once it has stayed there long enough, and clears it when it drops", async () => {
    const { driver, environmentId, changes, report } = await reportingWorker();
    driver.runProcesses(environmentId, template.limits.pidsLimit);
    const reportsToFlag = Math.ceil(DEFAULT_RUNAWAY_POLICY.pidsAfterMs / REPORT_EVERY_MS) + 1;
    await report(reportsToFlag - 1);
    expect(changes).toEqual([]);
    await report(1);
    expect(changes).toEqual([expect.objectContaining({ environmentId, change: "flagged", reason: "pids" })]);
    driver.runProcesses(environmentId, 3);
    await report(1);
    expect(changes.at(-1)).toMatchObject({ environmentId, change: "cleared" });
  });

  it("says a runaway is overdue for a stop once it has gone on past the stop limit", async () => {
    const { driver, environmentId, changes, report } = await reportingWorker();
    driver.runProcesses(environmentId, template.limits.pidsLimit);
    await report(Math.ceil(DEFAULT_RUNAWAY_POLICY.stopAfterMs / REPORT_EVERY_MS) + 1);
    expect(changes.map((change) => change.change)).toEqual(["flagged", "overdue"]);
  });

  it("gives a program at its CPU limit minutes before calling it a runaway (a compile may saturate a core)", async () => {
    const { driver, environmentId, changes, report } = await reportingWorker();
    const atCpuLimit = () => driver.useCpu(environmentId, (template.limits.nanoCpus / 1e9) * REPORT_EVERY_MS * 1e6);
    await report(1, atCpuLimit); // the first reading has no CPU percentage yet
    await report(Math.floor(DEFAULT_RUNAWAY_POLICY.cpuAfterMs / REPORT_EVERY_MS) - 1, atCpuLimit);
    expect(changes).toEqual([]);
    await report(2, atCpuLimit);
    expect(changes).toEqual([expect.objectContaining({ environmentId, change: "flagged", reason: "cpu" })]);
  });

  it("forgets the readings of an environment that stopped reporting", async () => {
    const { manager, driver, environmentId, store, report } = await reportingWorker();
    driver.runProcesses(environmentId, template.limits.pidsLimit);
    await report(3);
    expect((await store.read([environmentId])).get(environmentId)?.streak?.samples).toBe(3);
    await manager.stop(environmentId);
    await report(11); // 33 s of reports without it
    expect((await store.read([environmentId])).size).toBe(0);
  });
});
