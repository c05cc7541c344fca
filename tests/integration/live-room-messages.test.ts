/**
 * The live room's messages through the real API, against real parts (server replicas on one
 * Redis channel, a worker on the real Docker engine, a database of its own): presence,
 * broadcasts, raised hands, and what the room refuses. The overview and the actions on
 * everyone are in live-room.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BrowserReply, CourseBroadcast } from "../../protocol/browser-contract";
import { createSession, generateSessionToken } from "../../server/auth/sessions";
import { SESSION_COOKIE } from "../../server/auth/cookies";
import { nextEvent, type Harness } from "../support/platform-harness";
import { collect, errorOf, INSTRUCTOR_NAME, liveRoomApi, startLiveRoom, type Overview } from "../support/live-room-api";
import { request } from "../support/socket-request";

let harness: Harness;
let instructorCookie: string;
let courseId: string;

beforeAll(async () => {
  ({ harness, courseId, instructorCookie } = await startLiveRoom());
});

afterAll(async () => {
  await harness?.close();
});

const { overview, cardOf } = liveRoomApi(() => ({ harness, courseId, instructorCookie }));

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
