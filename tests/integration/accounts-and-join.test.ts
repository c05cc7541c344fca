/**
 * Accounts, roles and the workshop join link, through the real API (tRPC over HTTP and
 * socket.io) against real Postgres, Redis and Docker.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AttachReply } from "../../protocol/browser-contract";
import { DEMO_JOIN_CODE } from "../../server/database/seed";
import { cookieFrom, startHarness, waitForOutput, type Harness } from "../support/platform-harness";

let harness: Harness;
let instructorCookie: string;
let adminCookie: string;

beforeAll(async () => {
  harness = await startHarness();
  instructorCookie = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
  adminCookie = await harness.signIn("admin@shellroom.local", "shellroom-admin");
});
afterAll(async () => {
  await harness?.close();
});

const uniqueEmail = (tag: string) => `${tag}-${Date.now()}-${Math.random().toString(36).slice(2, 7)}@example.test`;

describe("accounts", () => {
  it("signs up, keeps only an argon2id hash of the password, signs out and back in", async () => {
    const email = uniqueEmail("signup");
    const password = "correct horse battery";
    const signedUp = await harness.trpc("auth.signUp", { displayName: "New Person", email, password });
    expect(signedUp.status).toBe(200);
    const cookie = cookieFrom(signedUp.headers);
    expect((await harness.trpc("auth.me", null, { cookie, method: "GET" })).body.result.data).toMatchObject({ email, role: "STUDENT" });

    const stored = await harness.db.user.findUniqueOrThrow({ where: { email } });
    expect(stored.passwordHash).toMatch(/^\$argon2id\$/);
    expect(stored.passwordHash).not.toContain(password);

    const again = await harness.trpc("auth.signUp", { displayName: "Copycat", email, password });
    expect(again.status).toBe(409);

    expect((await harness.trpc("auth.signOut", null, { cookie })).status).toBe(200);
    expect((await harness.trpc("auth.me", null, { cookie, method: "GET" })).body.result.data).toBeNull();
    expect(await harness.signIn(email, password)).toMatch(/^shellroom_session=/);
  });

  it("a cookie from a signed-out session is refused", async () => {
    const email = uniqueEmail("signout");
    const cookie = cookieFrom((await harness.trpc("auth.signUp", { displayName: "Leaver", email, password: "0123456789ab" })).headers);
    await harness.trpc("auth.signOut", null, { cookie });
    const refused = await harness.trpc("course.mine", null, { cookie, method: "GET" });
    expect(refused.status).toBe(401);
  });

  it("signing out everywhere ends every session and disconnects live terminals", async () => {
    const email = uniqueEmail("everywhere");
    const password = "0123456789ab";
    const first = cookieFrom((await harness.trpc("auth.signUp", { displayName: "Two Browsers", email, password })).headers);
    const second = await harness.signIn(email, password);
    const socket = await harness.terminalSocket(second);
    const disconnected = new Promise((resolve) => socket.once("disconnect", resolve));
    expect((await harness.trpc("auth.signOutEverywhere", null, { cookie: first })).status).toBe(200);
    await disconnected;
    expect((await harness.trpc("course.mine", null, { cookie: second, method: "GET" })).status).toBe(401);
    expect(await harness.db.authSession.count({ where: { user: { email } } })).toBe(0);
  });

  it("brute-forcing a password gets 429 once the limit is reached", async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 12; attempt++) {
      statuses.push((await harness.trpc("auth.signIn", { email: "student@shellroom.local", password: `guess-${attempt}` })).status);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual([429, 429]);
    // Even the right password waits out the window from this address: the limit is per account and address.
    const right = await harness.trpc("auth.signIn", { email: "student@shellroom.local", password: "shellroom-student" });
    expect(right.status).toBe(429);
    expect(right.headers.get("retry-after")).toBeTruthy();
    expect(right.body.error.message).toMatch(/Too many attempts/);
  });
});

describe("the workshop join link", () => {
  it("lets a student in with just a name, straight to a working terminal; the same browser comes back as the same student", async () => {
    const preview = await harness.trpc("join.preview", { code: DEMO_JOIN_CODE }, { method: "GET" });
    expect(preview.body.result.data).toMatchObject({ courseTitle: "Intro to the Unix shell", status: "open", alreadyMember: false });

    const joined = await harness.trpc("join.join", { code: DEMO_JOIN_CODE, displayName: "Walk-in Student" });
    expect(joined.status).toBe(200);
    const cookie = cookieFrom(joined.headers);
    const { firstLabId } = joined.body.result.data;
    expect(firstLabId).toBe(harness.labId);

    const started = await harness.trpc("environment.startForLab", { labId: firstLabId }, { cookie });
    const environmentId = started.body.result.data.environmentId;
    const socket = await harness.terminalSocket(cookie);
    const reply = await new Promise<AttachReply>((resolve) => socket.emit("terminal:attach", { environmentId, cols: 80, rows: 24 }, resolve));
    expect(reply).toMatchObject({ ok: true, mode: "owner" });
    const seen = waitForOutput(socket, /[\r\n]42\r\n/);
    socket.emit("terminal:input", { environmentId, data: "echo $((6*7))\r" });
    await seen;

    const back = await harness.trpc("join.join", { code: DEMO_JOIN_CODE, displayName: "Walk-in Student" }, { cookie });
    expect(back.headers.get("set-cookie")).toBeNull();
    expect((await harness.trpc("join.preview", { code: DEMO_JOIN_CODE }, { cookie, method: "GET" })).body.result.data.alreadyMember).toBe(true);
    const again = await harness.trpc("environment.startForLab", { labId: firstLabId }, { cookie });
    expect(again.body.result.data.environmentId).toBe(environmentId);

    const events = await harness.db.auditEvent.findMany({ where: { action: "course.join", courseId: harness.courseId } });
    expect(events.length).toBeGreaterThanOrEqual(1);
  });

  it("says clearly when a link is turned off, expired, full or rotated away", async () => {
    const courseId = harness.courseId;
    const set = (enabled: boolean, expiresAt: string | null, seatLimit: number | null) =>
      harness.trpc("course.updateJoinLink", { courseId, enabled, expiresAt, seatLimit }, { cookie: instructorCookie });
    const tryJoin = () => harness.trpc("join.join", { code: DEMO_JOIN_CODE, displayName: "Latecomer" });

    expect((await set(false, null, null)).status).toBe(200);
    let refused = await tryJoin();
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toMatch(/turned off/);

    await set(true, new Date(Date.now() - 60_000).toISOString(), null);
    refused = await tryJoin();
    expect(refused.body.error.message).toMatch(/expired/);

    const seated = await harness.db.courseMember.count({ where: { courseId, role: "STUDENT" } });
    await set(true, null, seated);
    refused = await tryJoin();
    expect(refused.body.error.message).toMatch(/full/);
    expect((await harness.trpc("join.preview", { code: DEMO_JOIN_CODE }, { method: "GET" })).body.result.data.status).toBe("full");

    await set(true, null, null);
    const rotated = await harness.trpc("course.rotateJoinLink", { courseId }, { cookie: instructorCookie });
    const newCode = rotated.body.result.data.code;
    expect(newCode).not.toBe(DEMO_JOIN_CODE);
    refused = await tryJoin();
    expect(refused.status).toBe(404);
    expect(refused.body.error.message).toMatch(/does not exist/);
    expect((await harness.trpc("join.join", { code: newCode, displayName: "On Time" })).status).toBe(200);
    // Put the demo code back for the other tests in this file.
    await harness.db.course.update({ where: { id: courseId }, data: { joinCode: DEMO_JOIN_CODE } });
  });
});

describe("roles on the procedure ladder", () => {
  it("a student cannot call staff or admin procedures (FORBIDDEN)", async () => {
    const student = await harness.newStudent("Ambitious Student");
    const courseId = harness.courseId;
    for (const [path, input] of [
      ["course.rotateJoinLink", { courseId }],
      ["course.updateJoinLink", { courseId, enabled: false, expiresAt: null, seatLimit: null }],
      ["course.setMemberRole", { courseId, userId: student.userId, role: "INSTRUCTOR" }],
      ["admin.setRole", { userId: student.userId, role: "ADMIN" }],
      ["course.create", { title: "My own course", description: "" }],
    ] as const) {
      const response = await harness.trpc(path, input, { cookie: student.cookie });
      expect(response.status, path).toBe(403);
      expect(response.body.error.data.code).toBe("FORBIDDEN");
    }
    const staffRead = await harness.trpc("course.joinLink", { courseId }, { cookie: student.cookie, method: "GET" });
    expect(staffRead.status).toBe(403);
    expect((await harness.db.user.findUniqueOrThrow({ where: { id: student.userId } })).role).toBe("STUDENT");
  });

  it("a student cannot read another course", async () => {
    const created = await harness.trpc("course.create", { title: "Advanced shell", description: "" }, { cookie: instructorCookie });
    const otherCourseId = created.body.result.data.id;
    const student = await harness.newStudent("Nosy Student");
    const read = await harness.trpc("course.byId", { courseId: otherCourseId }, { cookie: student.cookie, method: "GET" });
    expect(read.status).toBe(404);
    const own = await harness.trpc("course.byId", { courseId: harness.courseId }, { cookie: student.cookie, method: "GET" });
    expect(own.body.result.data.role).toBe("STUDENT");
  });

  it("an admin grants the instructor role, which lets that user create courses; the change is audited", async () => {
    const email = uniqueEmail("promoted");
    const cookie = cookieFrom((await harness.trpc("auth.signUp", { displayName: "Future Instructor", email, password: "0123456789ab" })).headers);
    expect((await harness.trpc("course.create", { title: "Too early", description: "" }, { cookie })).status).toBe(403);
    const user = await harness.db.user.findUniqueOrThrow({ where: { email } });
    expect((await harness.trpc("admin.setRole", { userId: user.id, role: "INSTRUCTOR" }, { cookie: adminCookie })).status).toBe(200);
    expect((await harness.trpc("course.create", { title: "Now allowed", description: "" }, { cookie })).status).toBe(200);
    const audit = await harness.db.auditEvent.findFirst({ where: { action: "user.role_changed", subjectId: user.id } });
    expect(audit?.details).toEqual({ from: "STUDENT", to: "INSTRUCTOR" });
  });

  it("course staff may watch a student's terminal but not type into it; the access is audited", async () => {
    const student = await harness.newStudent("Watched Student");
    const started = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
    const environmentId = started.body.result.data.environmentId;
    const owner = await harness.terminalSocket(student.cookie);
    await new Promise<AttachReply>((resolve) => owner.emit("terminal:attach", { environmentId, cols: 80, rows: 24 }, resolve));

    const staff = await harness.terminalSocket(instructorCookie);
    const reply = await new Promise<AttachReply>((resolve) => staff.emit("terminal:attach", { environmentId, cols: 80, rows: 24 }, resolve));
    expect(reply).toMatchObject({ ok: true, mode: "watch" });
    const refused = new Promise<{ error: string }>((resolve) => staff.once("terminal:error", resolve));
    staff.emit("terminal:input", { environmentId, data: "echo staff-typed\r" });
    expect((await refused).error).toMatch(/watching/);

    const watched = waitForOutput(staff, /student-typed/);
    owner.emit("terminal:input", { environmentId, data: "echo student-typed\r" });
    await watched;
    const audit = await harness.db.auditEvent.findFirst({ where: { action: "environment.staff_access", subjectId: environmentId } });
    expect(audit?.courseId).toBe(harness.courseId);
  });
});
