/**
 * The instructor's live room through the real API, against real parts (server replicas on
 * one Redis channel, a worker on the real Docker engine, a database of its own): student
 * cards with progress, usage and presence, broadcasts, raised hands, and the whole-course
 * actions (extend, reset, stop, end and reopen the workshop).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import type { AttachReply, BrowserReply, CourseBroadcast, EnvironmentNotice } from "../../protocol/browser-contract";
import { createSession, generateSessionToken } from "../../server/auth/sessions";
import { SESSION_COOKIE } from "../../server/auth/cookies";
import { nextEvent, startHarness, waitForOutput, type Harness } from "../support/platform-harness";
import { runInEnvironment } from "../support/run-in-environment";

const INSTRUCTOR_NAME = "Ines Instructor";
const REPLY_TIMEOUT_MS = 20_000;

let harness: Harness;
let instructorCookie: string;
let courseId: string;
/** The one student with a running environment in this file (started in the first test). */
let runner: { userId: string; cookie: string; environmentId: string } | undefined;

beforeAll(async () => {
  harness = await startHarness();
  courseId = harness.courseId;
  instructorCookie = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
});

afterAll(async () => {
  await harness?.close();
});

type Card = {
  userId: string;
  name: string;
  online: boolean;
  hand: { id: string; note: string } | null;
  environment: {
    id: string;
    labId: string;
    labTitle: string;
    state: string;
    stopReason: string | null;
    expiresAt: string | null;
    usage: { cpuPercent: number; memoryBytes: number; memoryLimitBytes: number; pids: number; pidsLimit: number; cpuLimitPercent: number } | null;
    runaway: { reason: string; since: string } | null;
  } | null;
  progress: { passed: number; checks: number };
};
type Overview = {
  course: { id: string; title: string; endedAt: string | null };
  students: Card[];
  hands: Array<{ id: string; userId: string; name: string; note: string; environmentId: string | null }>;
};

async function overview(input: Record<string, unknown> = {}): Promise<Overview> {
  const response = await harness.trpc("live.overview", { courseId, ...input }, { cookie: instructorCookie, method: "GET" });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.result.data;
}
const cardOf = async (userId: string) => (await overview()).students.find((card) => card.userId === userId);

const request = <R>(socket: Socket, event: string, payload: unknown) => socket.timeout(REPLY_TIMEOUT_MS).emitWithAck(event, payload) as Promise<R>;

/** Collects every `event` a socket receives. */
function collect<T>(socket: Socket, event: string): T[] {
  const seen: T[] = [];
  socket.on(event, (message: T) => seen.push(message));
  return seen;
}

async function attachedOwner(cookie: string, environmentId: string) {
  const socket = await harness.terminalSocket(cookie);
  const reply = await request<AttachReply>(socket, "terminal:attach", { environmentId, cols: 80, rows: 24 });
  expect(reply).toMatchObject({ ok: true, mode: "owner" });
  return socket;
}

/** An action on everyone returns at once; this waits (through the overview) until it has finished. */
async function finished(started: { status: number; body: any }): Promise<{ done: number; failed: unknown[]; total: number }> {
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  const { actionId } = started.body.result.data;
  await expect
    .poll(
      async () => {
        const bulk = ((await overview()) as Overview & { bulk: { id: string; finished: boolean } | null }).bulk;
        return bulk !== null && bulk.id === actionId && bulk.finished;
      },
      { timeout: 60_000, interval: 250 },
    )
    .toBe(true);
  return ((await overview()) as Overview & { bulk: { done: number; failed: unknown[]; total: number } }).bulk;
}

const errorOf = (response: { status: number; body: any }) => ({
  status: response.status,
  code: response.body?.error?.data?.code,
  message: response.body?.error?.message,
});

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

describe("presence and broadcasts", () => {
  it("a student with an open socket is online, on either replica; closing it makes them offline", async () => {
    const student = await harness.newStudent("Pia Presence");
    const socket = await harness.terminalSocket(student.cookie);
    await expect.poll(async () => (await cardOf(student.userId))!.online).toBe(true);
    socket.close();
    await expect.poll(async () => (await cardOf(student.userId))!.online).toBe(false);

    const replica = await harness.startReplica();
    const remote = await harness.terminalSocket(student.cookie, { url: replica.url });
    // Asked of the first server, answered through Redis.
    await expect.poll(async () => (await cardOf(student.userId))!.online).toBe(true);
    remote.close();
    await expect.poll(async () => (await cardOf(student.userId))!.online).toBe(false);
  });

  it("a broadcast on one replica reaches the course's students on another, and nobody outside the course", async () => {
    const replica = await harness.startReplica();
    const student = await harness.newStudent("Bea Broadcast");
    const inCourse = await harness.terminalSocket(student.cookie, { url: replica.url });
    const received = collect<CourseBroadcast>(inCourse, "course:broadcast");

    // A student of another course only.
    const created = await harness.trpc("course.create", { title: "Another workshop", description: "" }, { cookie: instructorCookie });
    const otherCourseId: string = created.body.result.data.id;
    const outsiderUser = await harness.db.user.create({ data: { displayName: "Otto Outsider", role: "STUDENT" } });
    await harness.db.courseMember.create({ data: { courseId: otherCourseId, userId: outsiderUser.id, role: "STUDENT" } });
    const token = generateSessionToken();
    await createSession(harness.db, token, outsiderUser.id);
    const outsider = await harness.terminalSocket(`${SESSION_COOKIE}=${token}`, { url: replica.url });
    const outsiderReceived = collect<CourseBroadcast>(outsider, "course:broadcast");

    // Both have joined their course rooms (presence is those rooms).
    await expect.poll(async () => (await cardOf(student.userId))!.online).toBe(true);
    await expect
      .poll(async () => {
        const other = await harness.trpc("live.overview", { courseId: otherCourseId }, { cookie: instructorCookie, method: "GET" });
        return (other.body.result.data as Overview).students.find((card) => card.userId === outsiderUser.id)?.online;
      })
      .toBe(true);
    expect(await cardOf(outsiderUser.id)).toBeUndefined();

    const arrived = nextEvent<CourseBroadcast>(inCourse, "course:broadcast");
    const sent = await harness.trpc("live.broadcast", { courseId, message: "  Break until 11:00  " }, { cookie: instructorCookie });
    expect(sent.status).toBe(200);
    expect(await arrived).toEqual({
      id: sent.body.result.data.id,
      courseId,
      from: INSTRUCTOR_NAME,
      message: "Break until 11:00",
      at: sent.body.result.data.at,
    });

    // Sent after the first on the same channel: once the outsider has this one, the first
    // would have arrived before it had it been sent to them.
    const barrier = nextEvent<CourseBroadcast>(outsider, "course:broadcast");
    await harness.trpc("live.broadcast", { courseId: otherCourseId, message: "Only for the other course" }, { cookie: instructorCookie });
    await barrier;
    expect(outsiderReceived.map((message) => message.message)).toEqual(["Only for the other course"]);
    expect(received.map((message) => message.message)).toEqual(["Break until 11:00"]);
    const audit = await harness.db.auditEvent.findFirst({ where: { action: "course.broadcast", courseId } });
    expect(audit?.details).toEqual({ message: "Break until 11:00" });

    // Students cannot broadcast.
    const byStudent = await harness.trpc("live.broadcast", { courseId, message: "free pizza" }, { cookie: student.cookie });
    expect(errorOf(byStudent)).toMatchObject({ status: 403, code: "FORBIDDEN" });
    inCourse.close();
    outsider.close();
  });

  it("a student who connects after a broadcast still gets the recent ones of their courses, and not old ones", async () => {
    const instructor = await harness.db.user.findFirstOrThrow({ where: { email: "instructor@shellroom.local" } });
    await harness.db.broadcast.create({
      data: { courseId, authorId: instructor.id, fromName: INSTRUCTOR_NAME, message: "Yesterday's news", createdAt: new Date(Date.now() - 3 * 60 * 60_000) },
    });
    const sent = await harness.trpc("live.broadcast", { courseId, message: "Lab 2 starts now" }, { cookie: instructorCookie });
    expect(sent.status).toBe(200);

    const student = await harness.newStudent("Lou Latecomer");
    let received: CourseBroadcast[] = [];
    const late = await harness.terminalSocket(student.cookie, {
      listen: (socket) => {
        received = collect<CourseBroadcast>(socket, "course:broadcast");
      },
    });
    await expect.poll(() => received.map((message) => message.id)).toContain(sent.body.result.data.id);
    expect(received.find((message) => message.id === sent.body.result.data.id)).toEqual({
      id: sent.body.result.data.id,
      courseId,
      from: INSTRUCTOR_NAME,
      message: "Lab 2 starts now",
      at: sent.body.result.data.at,
    });
    expect(received.map((message) => message.message)).not.toContain("Yesterday's news");
    expect(received.every((message) => message.courseId === courseId)).toBe(true);
    // Oldest first, each once.
    expect(received.map((message) => message.at)).toEqual(received.map((message) => message.at).sort());
    expect(new Set(received.map((message) => message.id)).size).toBe(received.length);
    late.close();
  });
});

describe("raised hands", () => {
  it("a student raises a hand; staff with the room open are nudged, see it queued, and resolve it", async () => {
    const student = await harness.newStudent("Hana Hand");
    const staff = await harness.terminalSocket(instructorCookie);
    expect(await request<BrowserReply>(staff, "room:join", { courseId })).toEqual({ ok: true });

    let nudged = nextEvent<{ courseId: string }>(staff, "room:changed");
    const raised = await harness.trpc("live.raiseHand", { labId: harness.labId, note: "stuck on step 2" }, { cookie: student.cookie });
    expect(raised.status).toBe(200);
    const hand = raised.body.result.data;
    expect(hand).toMatchObject({ id: expect.any(String), note: "stuck on step 2" });
    expect(await nudged).toEqual({ courseId });

    let room = await overview();
    expect(room.hands.filter((queued) => queued.userId === student.userId)).toEqual([
      { id: hand.id, userId: student.userId, name: "Hana Hand", note: "stuck on step 2", raisedAt: hand.createdAt, environmentId: null },
    ]);
    expect(room.students.find((card) => card.userId === student.userId)!.hand).toEqual({ id: hand.id, note: "stuck on step 2", raisedAt: hand.createdAt });

    // Raising again keeps the place in the queue and updates the note.
    nudged = nextEvent(staff, "room:changed");
    const again = await harness.trpc("live.raiseHand", { labId: harness.labId, note: "now stuck on step 3" }, { cookie: student.cookie });
    expect(again.body.result.data).toMatchObject({ id: hand.id, note: "now stuck on step 3", createdAt: hand.createdAt });
    await nudged;
    room = await overview();
    expect(room.hands.filter((queued) => queued.userId === student.userId).map((queued) => queued.note)).toEqual(["now stuck on step 3"]);
    const mine = await harness.trpc("live.myHand", { labId: harness.labId }, { cookie: student.cookie, method: "GET" });
    expect(mine.body.result.data).toEqual({ id: hand.id, note: "now stuck on step 3", createdAt: hand.createdAt });

    nudged = nextEvent(staff, "room:changed");
    const resolved = await harness.trpc("live.resolveHand", { courseId, handId: hand.id }, { cookie: instructorCookie });
    expect(resolved.body.result.data).toEqual({ resolved: true });
    await nudged;
    expect((await overview()).hands.some((queued) => queued.userId === student.userId)).toBe(false);
    expect((await cardOf(student.userId))!.hand).toBeNull();
    expect((await harness.trpc("live.myHand", { labId: harness.labId }, { cookie: student.cookie, method: "GET" })).body.result.data).toBeNull();
    const twice = await harness.trpc("live.resolveHand", { courseId, handId: hand.id }, { cookie: instructorCookie });
    expect(errorOf(twice)).toMatchObject({ status: 404, code: "NOT_FOUND", message: "That hand is already lowered." });

    // A new hand (a new place in the queue), lowered by the student.
    const third = await harness.trpc("live.raiseHand", { labId: harness.labId }, { cookie: student.cookie });
    expect(third.body.result.data).toMatchObject({ note: "" });
    expect(third.body.result.data.id).not.toBe(hand.id);
    expect((await overview()).hands.filter((queued) => queued.userId === student.userId)).toHaveLength(1);
    const lowered = await harness.trpc("live.lowerHand", { labId: harness.labId }, { cookie: student.cookie });
    expect(lowered.body.result.data).toEqual({ lowered: true });
    expect((await harness.trpc("live.myHand", { labId: harness.labId }, { cookie: student.cookie, method: "GET" })).body.result.data).toBeNull();
    expect((await overview()).hands.some((queued) => queued.userId === student.userId)).toBe(false);
    staff.close();
  });

  it("students cannot read the room, resolve hands or open the room's socket feed", async () => {
    const student = await harness.newStudent("Nosy Student");
    const raised = await harness.trpc("live.raiseHand", { labId: harness.labId, note: "help" }, { cookie: student.cookie });
    const handId = raised.body.result.data.id;

    const read = await harness.trpc("live.overview", { courseId }, { cookie: student.cookie, method: "GET" });
    expect(errorOf(read)).toMatchObject({ status: 403, code: "FORBIDDEN" });
    const resolve = await harness.trpc("live.resolveHand", { courseId, handId }, { cookie: student.cookie });
    expect(errorOf(resolve)).toMatchObject({ status: 403, code: "FORBIDDEN" });
    expect((await harness.db.handRaise.findUniqueOrThrow({ where: { id: handId } })).resolvedAt).toBeNull();
    for (const path of ["live.stopAll", "live.endWorkshop", "live.resetAll"]) {
      expect(errorOf(await harness.trpc(path, { courseId }, { cookie: student.cookie })), path).toMatchObject({ status: 403, code: "FORBIDDEN" });
    }

    const socket = await harness.terminalSocket(student.cookie);
    const joined = await request<BrowserReply>(socket, "room:join", { courseId });
    expect(joined).toEqual({ ok: false, code: "forbidden", error: "Only the course's instructors and assistants can open its live room." });
    // Not in the staff room: a change in the room does not reach this socket.
    const nudges = collect(socket, "room:changed");
    const staff = await harness.terminalSocket(instructorCookie);
    await request<BrowserReply>(staff, "room:join", { courseId });
    const staffNudged = nextEvent(staff, "room:changed");
    await harness.trpc("live.lowerHand", { labId: harness.labId }, { cookie: student.cookie });
    await staffNudged;
    expect(nudges).toEqual([]);
    socket.close();
    staff.close();
  });
});

describe("input validation", () => {
  it("refuses empty or over-long broadcasts and over-long hand notes with a clear message", async () => {
    for (const [message, expected] of [
      ["", "Write a message first"],
      ["   ", "Write a message first"],
      ["m".repeat(501), "Keep the message under 500 characters"],
    ] as const) {
      const response = await harness.trpc("live.broadcast", { courseId, message }, { cookie: instructorCookie });
      expect(errorOf(response)).toMatchObject({ status: 400, code: "BAD_REQUEST" });
      expect(response.body.error.data.zodError.fieldErrors.message).toEqual([expected]);
    }
    expect((await harness.trpc("live.broadcast", { courseId, message: "m".repeat(500) }, { cookie: instructorCookie })).status).toBe(200);

    const student = await harness.newStudent("Verbose Student");
    const long = await harness.trpc("live.raiseHand", { labId: harness.labId, note: "n".repeat(201) }, { cookie: student.cookie });
    expect(errorOf(long)).toMatchObject({ status: 400, code: "BAD_REQUEST" });
    expect(long.body.error.data.zodError.fieldErrors.note).toEqual(["Keep the note under 200 characters"]);
    expect(await harness.db.handRaise.count({ where: { userId: student.userId } })).toBe(0);
    const fits = await harness.trpc("live.raiseHand", { labId: harness.labId, note: "n".repeat(200) }, { cookie: student.cookie });
    expect(fits.status).toBe(200);
    await harness.trpc("live.lowerHand", { labId: harness.labId }, { cookie: student.cookie });

    const tooShort = await harness.trpc("live.extendAll", { courseId, minutes: 2 }, { cookie: instructorCookie });
    expect(errorOf(tooShort)).toMatchObject({ status: 400, code: "BAD_REQUEST" });
    expect(tooShort.body.error.data.zodError.fieldErrors.minutes).toEqual(["At least 5 minutes"]);
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
