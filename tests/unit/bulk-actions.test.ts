/**
 * The runner behind "Reset all" and friends, with the in-process store: a bounded number at
 * a time, progress reported in order to the end, failures listed by student while the rest
 * go on, one action per course. (The Redis store and the real actions: tests/integration/bulk-room-actions.)
 */
import { describe, expect, it } from "vitest";
import { TRPCError } from "@trpc/server";
import { rootLogger } from "../../common/logger";
import type { BulkActionProgress } from "../../protocol/browser-contract";
import { BulkActions, MemoryBulkActionStore } from "../../server/live/bulk-actions";

const log = rootLogger.child({ test: "bulk-actions" });
log.level = "silent";

function runner(concurrency: number) {
  const reports: BulkActionProgress[] = [];
  const changed: string[] = [];
  const store = new MemoryBulkActionStore();
  const bulk = new BulkActions(
    store,
    { bulkProgress: (progress) => reports.push(structuredClone(progress)), changed: (courseId) => changed.push(courseId) },
    log,
    concurrency,
  );
  return { bulk, store, reports, changed };
}

const targets = (count: number) => Array.from({ length: count }, (_, index) => ({ environmentId: `env-${index}`, name: `Student ${index}` }));
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const finishedOf = (reports: BulkActionProgress[], id: string) => reports.find((report) => report.id === id && report.finished);

describe("actions on everyone", () => {
  it("never runs more than the bound at once, and reports every step in order to the end", async () => {
    const { bulk, reports, changed } = runner(3);
    let running = 0;
    let most = 0;
    const started = await bulk.begin("course-a", "reset", {
      prepare: async () => targets(10),
      act: async () => {
        running += 1;
        most = Math.max(most, running);
        await tick(5);
        running -= 1;
      },
    });
    expect(started).toMatchObject({ total: 10, done: 0, finished: false });
    await expect.poll(() => finishedOf(reports, started.id)).toBeDefined();
    expect(most).toBe(3);
    const processed = reports.map((report) => report.done + report.failed.length);
    expect(processed).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10]);
    expect(reports.every((report) => report.inFlight <= 3)).toBe(true);
    expect(reports.at(-1)).toMatchObject({ finished: true, done: 10, failed: [], inFlight: 0 });
    expect(changed).toEqual(["course-a"]);
  });

  it("lists what failed by student and carries on with the rest", async () => {
    const { bulk, reports } = runner(2);
    const started = await bulk.begin("course-b", "stop", {
      prepare: async () => targets(5),
      act: async (target) => {
        if (target.environmentId === "env-2") throw new Error("The machine is not reachable.");
      },
    });
    await expect.poll(() => finishedOf(reports, started.id)).toBeDefined();
    expect(finishedOf(reports, started.id)).toMatchObject({
      done: 4,
      failed: [{ environmentId: "env-2", name: "Student 2", error: "The machine is not reachable." }],
    });
  });

  it("refuses a second action in the same course while one runs (CONFLICT, saying how far the first is), not in another course", async () => {
    const { bulk, reports } = runner(1);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = await bulk.begin("course-c", "reset", { prepare: async () => targets(2), act: () => gate });
    let prepared = false;
    const second = bulk.begin("course-c", "extend", {
      prepare: async () => {
        prepared = true;
        return targets(2);
      },
      act: async () => undefined,
    });
    await expect(second).rejects.toBeInstanceOf(TRPCError);
    await expect(second).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/^Resetting 0 of 2 is still going/) });
    expect(prepared).toBe(false);
    const elsewhere = await bulk.begin("course-d", "extend", { prepare: async () => targets(1), act: async () => undefined });
    expect(elsewhere.total).toBe(1);

    release();
    await expect.poll(() => finishedOf(reports, first.id)).toBeDefined();
    const next = await bulk.begin("course-c", "stop", { prepare: async () => [], act: async () => undefined });
    expect(next.total).toBe(0);
  });

  it("a failed preparation frees the course", async () => {
    const { bulk } = runner(1);
    await expect(
      bulk.begin("course-e", "end", {
        prepare: async () => {
          throw new Error("database down");
        },
        act: async () => undefined,
      }),
    ).rejects.toThrow("database down");
    await expect(bulk.begin("course-e", "end", { prepare: async () => [], act: async () => undefined })).resolves.toMatchObject({ total: 0 });
  });

  it("an unfinished action nobody reported on for minutes reads as interrupted (its server stopped)", async () => {
    const store = new MemoryBulkActionStore();
    const old = new Date(Date.now() - 10 * 60_000).toISOString();
    await store.save({
      id: "a",
      courseId: "course-f",
      kind: "reset",
      total: 200,
      done: 45,
      failed: [],
      inFlight: 8,
      finished: false,
      interrupted: false,
      startedAt: old,
      updatedAt: old,
    });
    expect(await store.latest("course-f")).toMatchObject({ finished: true, interrupted: true, inFlight: 0, done: 45 });
  });
});
