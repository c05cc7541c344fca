/**
 * The instructor's live room through the real API, against real parts (server replicas on
 * one Redis channel, a worker on the real Docker engine, a database of its own): student
 * cards with progress and usage, and the whole-course actions (extend, reset, stop, end and
 * reopen the workshop) on the environment the first test starts. Presence, broadcasts and
 * raised hands are in live-room-messages.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EnvironmentNotice } from "../../protocol/browser-contract";
import { nextEvent, waitForOutput, type Harness } from "../support/platform-harness";
import { errorOf, liveRoomApi, startLiveRoom } from "../support/live-room-api";
import { runInEnvironment } from "../support/run-in-environment";

let harness: Harness;
let instructorCookie: string;
let courseId: string;
/** The one student with a running environment in this file (started in the first test). */
let runner: { userId: string; cookie: string; environmentId: string } | undefined;

beforeAll(async () => {
  ({ harness, courseId, instructorCookie } = await startLiveRoom());
});

afterAll(async () => {
  await harness?.close();
});

const { overview, cardOf, attachedOwner, finished } = liveRoomApi(() => ({ harness, courseId, instructorCookie }));

describe("the overview", () => {
  it("lists the course's students as cards: environment, lab, step progress and CPU/memory usage", { timeout: 90_000 }, async () => {
    const student = await harness.newStudent("Olive Overview");
    const started = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
    expect(started.status).toBe(200);
    runner = { ...student, environmentId: started.body.result.data.environmentId };
    const environmentId = runner.environmentId;

    const first = await overview();
    expect(first.course).toMatchObject({ id: courseId, title: "Intro to the Unix shell", endedAt: null });
    const instructor = await harness.db.user.findUniqueOrThrow({ where: { email: "instructor@shellroom.local" } });
    expect(first.students.some((card) => card.userId === instructor.id)).toBe(false);
    // The seeded demo student is a card too, without an environment.
    const sam = first.students.find((card) => card.name === "Sam Student");
    expect(sam).toMatchObject({ environment: null, hand: null, progress: { passed: 0, checks: 1 } });

    const card = first.students.find((candidate) => candidate.userId === student.userId);
    expect(card).toMatchObject({
      name: "Olive Overview",
      online: false,
      hand: null,
      environment: { id: environmentId, labId: harness.labId, labTitle: "First steps in the shell", state: "RUNNING", stopReason: null },
      progress: { passed: 0, checks: 1 },
    });

    // The demo lab's one checked step ("Make a file") passes once notes.txt has content.
    const step = await harness.db.labStep.findFirstOrThrow({ where: { labId: harness.labId, checkScript: { not: null } } });
    const failing = await harness.trpc("step.check", { labId: harness.labId, stepId: step.id }, { cookie: student.cookie });
    expect(failing.body.result.data).toMatchObject({ passed: false });
    expect((await cardOf(student.userId))!.progress).toEqual({ passed: 0, checks: 1 });

    const socket = await attachedOwner(student.cookie, environmentId);
    const written = waitForOutput(socket, /notes-written-2/);
    socket.emit("terminal:input", { environmentId, data: "echo 'my first file' > ~/workspace/notes.txt && echo notes-written-$((1+1))\r" });
    await written;
    socket.close();
    const passing = await harness.trpc("step.check", { labId: harness.labId, stepId: step.id }, { cookie: student.cookie });
    expect(passing.body.result.data).toMatchObject({ passed: true });
    expect((await cardOf(student.userId))!.progress).toEqual({ passed: 1, checks: 1 });
    // Filtered to the lab, the same card; an unknown lab is refused.
    const byLab = await overview({ labId: harness.labId });
    expect(byLab.students.find((candidate) => candidate.userId === student.userId)!.progress).toEqual({ passed: 1, checks: 1 });
    const unknownLab = await harness.trpc("live.overview", { courseId, labId: "no-such-lab" }, { cookie: instructorCookie, method: "GET" });
    expect(errorOf(unknownLab)).toMatchObject({ status: 404, code: "NOT_FOUND" });

    // Workers report CPU and memory with their heartbeats.
    const template = await harness.db.environmentTemplate.findFirstOrThrow({ where: { labs: { some: { id: harness.labId } } } });
    await expect.poll(async () => (await cardOf(student.userId))!.environment!.usage, { timeout: 20_000, interval: 500 }).not.toBeNull();
    const { usage } = (await cardOf(student.userId))!.environment!;
    expect(usage!.memoryBytes).toBeGreaterThan(0);
    expect(usage!.memoryBytes).toBeLessThanOrEqual(usage!.memoryLimitBytes);
    expect(usage!.memoryLimitBytes).toBe(template.memoryMb * 1024 * 1024);
    expect(usage!.cpuPercent).toBeGreaterThanOrEqual(0);
    // Processes and limits too (docker-init and sleep at least), so a runaway can be told.
    expect(usage!.pids).toBeGreaterThanOrEqual(2);
    expect(usage!.pidsLimit).toBe(template.pidsLimit);
    expect(usage!.cpuLimitPercent).toBe(template.cpuMillis / 10);
    expect((await cardOf(student.userId))!.environment!.runaway).toBeNull();
  });
});

// Last: these stop things.
describe("acting on everyone at once", () => {
  const runningInCourse = () => harness.db.environment.count({ where: { state: { in: ["RUNNING", "STARTING"] }, lab: { courseId } } });

  it("extends and resets every running environment (files kept)", { timeout: 90_000 }, async () => {
    if (!runner) throw new Error("the overview test did not start an environment");
    const { environmentId } = runner;
    const running = await runningInCourse();
    expect(running).toBeGreaterThanOrEqual(1);
    const socket = await attachedOwner(runner.cookie, environmentId);

    const before = await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } });
    const notice = nextEvent<EnvironmentNotice>(socket, "environment:notice");
    const extended = await harness.trpc("live.extendAll", { courseId, minutes: 30 }, { cookie: instructorCookie });
    expect(extended.body.result.data).toEqual({ actionId: expect.any(String), total: running });
    expect(await finished(extended)).toMatchObject({ done: running, failed: [] });
    expect(await notice).toEqual({ environmentId, kind: "info", message: "Your instructor gave you 30 more minutes." });
    const after = await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } });
    expect(after.expiresAt!.getTime()).toBe(before.expiresAt!.getTime() + 30 * 60_000);

    await runInEnvironment(harness.driver, environmentId, "echo kept-through-reset > ~/workspace/kept.txt");
    const reset = await harness.trpc("live.resetAll", { courseId }, { cookie: instructorCookie });
    expect(await finished(reset)).toMatchObject({ total: running, done: running, failed: [] });
    const fresh = await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } });
    expect(fresh.state).toBe("RUNNING");
    expect(fresh.containerId).not.toBe(before.containerId);
    expect((await runInEnvironment(harness.driver, environmentId, "cat ~/workspace/kept.txt")).output).toContain("kept-through-reset");
    socket.close();
  });

  it("ending the workshop stops everything and refuses new starts until it is reopened", { timeout: 90_000 }, async () => {
    if (!runner) throw new Error("the overview test did not start an environment");
    const { environmentId } = runner;
    const running = await runningInCourse();
    expect(running).toBeGreaterThanOrEqual(1);
    const socket = await attachedOwner(runner.cookie, environmentId);
    await harness.trpc("live.raiseHand", { labId: harness.labId, note: "one more question" }, { cookie: runner.cookie });

    const notice = nextEvent<EnvironmentNotice>(socket, "environment:notice", (message) => message.kind === "stopped");
    const ended = await harness.trpc("live.endWorkshop", { courseId }, { cookie: instructorCookie });
    // Ended at once (no new starts), whatever is still stopping.
    expect((await harness.db.course.findUniqueOrThrow({ where: { id: courseId } })).endedAt).not.toBeNull();
    expect(await finished(ended)).toMatchObject({ total: running, done: running, failed: [] });
    expect(await notice).toEqual({ environmentId, kind: "stopped", message: expect.stringMatching(/workshop has ended/) });
    expect(await runningInCourse()).toBe(0);
    expect(await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } })).toMatchObject({
      state: "STOPPED",
      stopReason: "STAFF",
      containerId: null,
    });
    expect(await harness.driver.state(environmentId)).toBe("missing");
    expect((await harness.db.course.findUniqueOrThrow({ where: { id: courseId } })).endedAt).not.toBeNull();
    expect((await overview()).course.endedAt).not.toBeNull();
    // Open hands are closed with the workshop.
    expect((await harness.trpc("live.myHand", { labId: harness.labId }, { cookie: runner.cookie, method: "GET" })).body.result.data).toBeNull();

    const refused = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: runner.cookie });
    expect(errorOf(refused)).toMatchObject({ status: 412, code: "PRECONDITION_FAILED", message: expect.stringMatching(/ended/) });
    expect((await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } })).state).toBe("STOPPED");

    expect((await harness.trpc("live.reopenWorkshop", { courseId }, { cookie: instructorCookie })).body.result.data).toEqual({ reopened: true });
    expect((await harness.db.course.findUniqueOrThrow({ where: { id: courseId } })).endedAt).toBeNull();
    const restarted = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: runner.cookie });
    expect(restarted.status).toBe(200);
    expect(restarted.body.result.data).toEqual({ environmentId, state: "RUNNING" });
    expect((await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } })).state).toBe("RUNNING");
    expect((await runInEnvironment(harness.driver, environmentId, "cat ~/workspace/kept.txt")).output).toContain("kept-through-reset");

    // Stop all: the same, without ending the workshop.
    const again = await attachedOwner(runner.cookie, environmentId);
    const stoppedNotice = nextEvent<EnvironmentNotice>(again, "environment:notice", (message) => message.kind === "stopped");
    const stopped = await harness.trpc("live.stopAll", { courseId }, { cookie: instructorCookie });
    expect(await finished(stopped)).toMatchObject({ total: 1, done: 1, failed: [] });
    expect(await stoppedNotice).toEqual({ environmentId, kind: "stopped", message: "Your instructor stopped this environment. Your files are kept." });
    expect(await runningInCourse()).toBe(0);
    expect((await harness.db.course.findUniqueOrThrow({ where: { id: courseId } })).endedAt).toBeNull();
    socket.close();
    again.close();
  });

  it("while the workshop is ended, a student cannot get a running environment back through environment.reset either", { timeout: 90_000 }, async () => {
    if (!runner) throw new Error("the overview test did not start an environment");
    const { environmentId } = runner;
    expect(await runningInCourse()).toBe(0);
    expect(await finished(await harness.trpc("live.endWorkshop", { courseId }, { cookie: instructorCookie }))).toMatchObject({ total: 0, done: 0, failed: [] });
    try {
      const reset = await harness.trpc("environment.reset", { labId: harness.labId, wipeWorkspace: false }, { cookie: runner.cookie });
      // A reset starts the container again, so it is refused like a start.
      expect(errorOf(reset), "environment.reset after the workshop ended").toMatchObject({
        status: 412,
        code: "PRECONDITION_FAILED",
        message: expect.stringMatching(/ended/),
      });
      expect((await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } })).state).toBe("STOPPED");
      expect(await harness.driver.state(environmentId)).toBe("missing");
    } finally {
      await harness.trpc("live.reopenWorkshop", { courseId }, { cookie: instructorCookie });
    }
  });
});
