/**
 * Actions on everyone ("Reset all", ...) against the real parts: several students' real
 * containers, a server whose bound on concurrent work is small so that it shows. The
 * request returns at once; staff with the room open get progress until the end; a second
 * action in the course is refused while one runs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BulkActionProgress } from "../../protocol/browser-contract";
import { startHarness, type Harness } from "../support/platform-harness";
import { runInEnvironment } from "../support/run-in-environment";

const STUDENTS = 6;
const CONCURRENCY = 2;

let harness: Harness;
let instructorCookie: string;
let courseId: string;
const students: Array<{ userId: string; cookie: string; environmentId: string }> = [];

beforeAll(async () => {
  harness = await startHarness({ server: { bulkConcurrency: CONCURRENCY } });
  courseId = harness.courseId;
  instructorCookie = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
  for (let index = 0; index < STUDENTS; index++) {
    const student = await harness.newStudent(`Bulk Student ${index + 1}`);
    const started = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
    if (started.status !== 200) throw new Error(`could not start: ${JSON.stringify(started.body)}`);
    students.push({ ...student, environmentId: started.body.result.data.environmentId });
  }
}, 180_000);

afterAll(async () => {
  await harness?.close();
});

const environmentIds = () => students.map((student) => student.environmentId);

/** The staff room's progress reports, as a page with the room open gets them. */
async function watchProgress() {
  const staff = await harness.terminalSocket(instructorCookie);
  expect(await staff.timeout(20_000).emitWithAck("room:join", { courseId })).toEqual({ ok: true });
  const events: BulkActionProgress[] = [];
  staff.on("room:bulk-progress", (progress: BulkActionProgress) => events.push(progress));
  return { staff, events };
}

/** Polls the database while an action runs: the most environments seen mid-reset at once. */
function watchResets() {
  let most = 0;
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const resetting = await harness.db.environment.count({ where: { id: { in: environmentIds() }, state: { not: "RUNNING" } } });
      most = Math.max(most, resetting);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await done;
      return most;
    },
  };
}

async function untilFinished(events: BulkActionProgress[], actionId: string) {
  await expect.poll(() => events.some((event) => event.id === actionId && event.finished), { timeout: 120_000, interval: 200 }).toBe(true);
  return events.filter((event) => event.id === actionId);
}

describe("actions on everyone", () => {
  it("reset all on N students runs with bounded concurrency and reports progress to the end", { timeout: 180_000 }, async () => {
    const { staff, events } = await watchProgress();
    await runInEnvironment(harness.driver, students[0]!.environmentId, "echo survives-reset-all > ~/workspace/kept.txt");
    const before = await harness.db.environment.findMany({ where: { id: { in: environmentIds() } }, select: { id: true, containerId: true } });
    const resets = watchResets();

    const response = await harness.trpc("live.resetAll", { courseId }, { cookie: instructorCookie });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const { actionId, total } = response.body.result.data;
    expect(total).toBe(STUDENTS);

    const reports = await untilFinished(events, actionId);
    const mostResettingAtOnce = await resets.stop();
    // Every step reported, in order, up to the last, never more at once than the bound.
    const processed = reports.map((report) => report.done + report.failed.length);
    expect(processed).toEqual([...processed].sort((a, b) => a - b));
    expect(processed[0]).toBe(0);
    expect(processed.at(-1)).toBe(STUDENTS);
    expect(new Set(processed)).toEqual(new Set(Array.from({ length: STUDENTS + 1 }, (_, index) => index)));
    expect(reports.every((report) => report.kind === "reset" && report.total === STUDENTS && report.inFlight <= CONCURRENCY)).toBe(true);
    expect(reports.at(-1)).toMatchObject({ finished: true, done: STUDENTS, failed: [], inFlight: 0, interrupted: false });
    // Seen from outside too: the database never had more environments mid-reset than the bound.
    expect(mostResettingAtOnce).toBeLessThanOrEqual(CONCURRENCY);

    const after = await harness.db.environment.findMany({ where: { id: { in: environmentIds() } }, select: { id: true, state: true, containerId: true } });
    for (const environment of after) {
      expect(environment.state).toBe("RUNNING");
      expect(environment.containerId).not.toBe(before.find((old) => old.id === environment.id)!.containerId);
    }
    expect((await runInEnvironment(harness.driver, students[0]!.environmentId, "cat ~/workspace/kept.txt")).output).toContain("survives-reset-all");

    // A page opened now (or reloaded) reads the same outcome from the overview.
    const overview = await harness.trpc("live.overview", { courseId }, { cookie: instructorCookie, method: "GET" });
    expect(overview.body.result.data.bulk).toMatchObject({ id: actionId, kind: "reset", finished: true, done: STUDENTS, total: STUDENTS });
    staff.close();
  });

  it("a second bulk action while one runs is refused with a code", { timeout: 180_000 }, async () => {
    const { staff, events } = await watchProgress();
    const first = await harness.trpc("live.resetAll", { courseId }, { cookie: instructorCookie });
    expect(first.status, JSON.stringify(first.body)).toBe(200);

    // All at once, right away: the reset takes several rounds of CONCURRENCY containers.
    const attempts = [
      ["live.extendAll", { courseId, minutes: 30 }],
      ["live.stopAll", { courseId }],
      ["live.endWorkshop", { courseId }],
    ] as const;
    const seconds = await Promise.all(attempts.map(([path, input]) => harness.trpc(path, input, { cookie: instructorCookie })));
    for (const [index, second] of seconds.entries()) {
      expect({ status: second.status, code: second.body?.error?.data?.code }, attempts[index]![0]).toEqual({ status: 409, code: "CONFLICT" });
      expect(second.body.error.message).toMatch(new RegExp(`Resetting \\d+ of ${STUDENTS} is still going`));
    }
    // Refused means not done: the workshop was not ended.
    expect((await harness.db.course.findUniqueOrThrow({ where: { id: courseId } })).endedAt).toBeNull();

    await untilFinished(events, first.body.result.data.actionId);
    // Once it has finished, the course is free for the next one.
    const stop = await harness.trpc("live.stopAll", { courseId }, { cookie: instructorCookie });
    expect(stop.status, JSON.stringify(stop.body)).toBe(200);
    const reports = await untilFinished(events, stop.body.result.data.actionId);
    expect(reports.at(-1)).toMatchObject({ kind: "stop", finished: true, done: STUDENTS, failed: [] });
    expect(await harness.db.environment.count({ where: { id: { in: environmentIds() }, state: "RUNNING" } })).toBe(0);
    staff.close();
  });

  it("ending the workshop refuses new starts at once, and it cannot be reopened until every environment has stopped", { timeout: 180_000 }, async () => {
    for (const student of students) {
      expect((await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie })).status).toBe(200);
    }
    const { staff, events } = await watchProgress();
    const ended = await harness.trpc("live.endWorkshop", { courseId }, { cookie: instructorCookie });
    expect(ended.status, JSON.stringify(ended.body)).toBe(200);
    expect((await harness.db.course.findUniqueOrThrow({ where: { id: courseId } })).endedAt).not.toBeNull();
    const early = await harness.trpc("live.reopenWorkshop", { courseId }, { cookie: instructorCookie });
    expect({ status: early.status, code: early.body?.error?.data?.code }).toEqual({ status: 409, code: "CONFLICT" });
    const start = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: students[0]!.cookie });
    expect(start.status).toBe(412);

    const reports = await untilFinished(events, ended.body.result.data.actionId);
    expect(reports.at(-1)).toMatchObject({ kind: "end", finished: true, done: STUDENTS, failed: [] });
    expect(await harness.db.environment.count({ where: { id: { in: environmentIds() }, state: "RUNNING" } })).toBe(0);
    const reopened = await harness.trpc("live.reopenWorkshop", { courseId }, { cookie: instructorCookie });
    expect(reopened.body.result.data).toEqual({ reopened: true });
    staff.close();
  });
});
