import { describe, expect, it } from "vitest";
import { planImageSync, retryAtAfter, wantedInOrder, type SyncFacts } from "../../server/images/image-sync-plan";

const DEFAULT = "shellroom/default:1";
const COURSE = "shellroom/c-course-python:1";
const wanted = wantedInOrder([{ id: "image-1", tag: COURSE, dockerfile: `FROM ${DEFAULT}\nRUN true\n` }]);
const now = Date.parse("2026-12-01T16:00:00Z");
const ready = (workerId: string, tag: string) => ({ workerId, tag, status: "READY" as const, retryAt: null, attempts: 0 });
const facts = (over: Partial<SyncFacts>): SyncFacts => ({ now, workers: ["old", "new"], wanted, rows: [], busy: new Set(), canCopy: true, ...over });

describe("the fleet's image sync", () => {
  it("copies the default image first to a worker that joined empty, from one that holds it", () => {
    const plan = planImageSync(facts({ rows: [ready("old", DEFAULT), ready("old", COURSE)] }));
    expect(plan.jobs).toEqual([{ kind: "copy", workerId: "new", image: wanted[0], sources: ["old"] }]);
  });

  it("then the instructor's image: built from its Dockerfile on the default image there; after a failed build, copied", () => {
    const rows = [ready("old", DEFAULT), ready("old", COURSE), ready("new", DEFAULT)];
    const build = { kind: "build", workerId: "new", image: { tag: COURSE, imageId: "image-1", dockerfile: wanted[1]!.dockerfile } };
    expect(planImageSync(facts({ rows })).jobs).toEqual([build]);
    const failedBuild = { workerId: "new", tag: COURSE, status: "FAILED" as const, retryAt: new Date(now - 1), attempts: 1 };
    expect(planImageSync(facts({ rows: [...rows, failedBuild] })).jobs).toEqual([{ kind: "copy", workerId: "new", image: wanted[1], sources: ["old"] }]);
    // With nowhere to copy from, the build is tried again.
    expect(planImageSync(facts({ rows: [...rows, failedBuild], canCopy: false })).jobs).toEqual([build]);
  });

  it("copies an instructor's image with its base layers when the default image is not there to build on", () => {
    const rows = [
      ready("old", DEFAULT),
      ready("old", COURSE),
      { workerId: "new", tag: DEFAULT, status: "FAILED" as const, retryAt: new Date(now + 60_000), attempts: 3 },
    ];
    expect(planImageSync(facts({ rows })).jobs).toEqual([{ kind: "copy", workerId: "new", image: wanted[1], sources: ["old"] }]);
  });

  it("copies from a worker connected to another replica when streams cross replicas, and brings images only to its own", () => {
    const rows = [ready("elsewhere", DEFAULT), ready("elsewhere", COURSE)];
    // Alone, this replica's worker has nowhere to copy from.
    expect(planImageSync(facts({ workers: ["new"], rows })).jobs).toEqual([]);
    const plan = planImageSync(facts({ workers: ["new"], senders: ["new", "elsewhere"], rows }));
    expect(plan.jobs).toEqual([{ kind: "copy", workerId: "new", image: wanted[0], sources: ["elsewhere"] }]);
  });

  it("one job at a time per worker: a busy worker gets nothing more until its job ends", () => {
    expect(planImageSync(facts({ rows: [ready("old", DEFAULT), ready("old", COURSE)], busy: new Set(["new"]) })).jobs).toEqual([]);
  });

  it("waits, saying why, when nothing can bring an image: no holder to copy from, or no default image to build on", () => {
    const plan = planImageSync(facts({ workers: ["new"], rows: [] }));
    expect(plan.jobs).toEqual([]);
    expect(plan.waits.map((wait) => wait.tag)).toEqual([DEFAULT, COURSE]);
    expect(plan.waits[0]!.reason).toMatch(/no worker this server can copy from holds it/);
    expect(plan.waits[1]!.reason).toMatch(/waits for shellroom\/default:1/);
  });

  it("leaves a failed image alone until its retry time, and goes on with the next", () => {
    const failed = { workerId: "new", tag: DEFAULT, status: "FAILED" as const, retryAt: new Date(now + 10_000), attempts: 1 };
    const rows = [ready("old", DEFAULT), ready("old", COURSE), failed];
    expect(planImageSync(facts({ rows })).jobs).toEqual([{ kind: "copy", workerId: "new", image: wanted[1], sources: ["old"] }]);
    expect(planImageSync(facts({ rows, now: now + 10_001 })).jobs).toEqual([{ kind: "copy", workerId: "new", image: wanted[0], sources: ["old"] }]);
  });

  it("takes a copy or build left BUILDING or TRANSFERRING by work that is gone (no job here) up again", () => {
    const rows = [ready("old", DEFAULT), ready("old", COURSE), { workerId: "new", tag: DEFAULT, status: "TRANSFERRING" as const, retryAt: null, attempts: 0 }];
    expect(planImageSync(facts({ rows })).jobs).toMatchObject([{ kind: "copy", workerId: "new", image: { tag: DEFAULT } }]);
  });

  it("retries after 10 s, doubling, at most every 5 minutes", () => {
    expect(retryAtAfter(0, now).getTime() - now).toBe(10_000);
    expect(retryAtAfter(2, now).getTime() - now).toBe(40_000);
    expect(retryAtAfter(20, now).getTime() - now).toBe(300_000);
  });
});
