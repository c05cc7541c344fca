/**
 * The browser protocol end to end against real parts: a server (Redis adapter), a
 * worker on the real Docker engine, a database of its own. Socket.io clients play the
 * browser, exactly as the page speaks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import type { AttachReply } from "../../protocol/browser-contract";
import { startHarness, waitForOutput, type Harness } from "../support/platform-harness";
import { runInEnvironment } from "../support/run-in-environment";

let harness: Harness;
let student: { userId: string; cookie: string };
let environmentId: string;

const attach = (socket: Socket, payload: unknown) => new Promise<AttachReply>((resolve) => socket.emit("terminal:attach", payload, resolve));

beforeAll(async () => {
  harness = await startHarness();
  student = await harness.newStudent("Gateway Student");
  const started = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
  expect(started.status).toBe(200);
  environmentId = started.body.result.data.environmentId;
});

afterAll(async () => {
  await harness?.close();
});

describe("a student's terminal over the browser protocol", () => {
  it("starts a running environment recorded on this worker", async () => {
    const environment = await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } });
    expect(environment).toMatchObject({ state: "RUNNING", workerId: harness.workerId, userId: student.userId });
    expect(await harness.driver.state(environmentId)).toBe("running");
  });

  it("relays keystrokes to the shell and its output back", async () => {
    const socket = await harness.terminalSocket(student.cookie);
    const reply = await attach(socket, { environmentId, cols: 100, rows: 30 });
    expect(reply.ok).toBe(true);
    const seen = waitForOutput(socket, /[\r\n]42\r\n/);
    socket.emit("terminal:input", { environmentId, data: "echo $((6*7))\r" });
    await expect(seen).resolves.toContain("42");
    socket.close();
  });

  it("re-attaching after a closed tab reuses the same shell and repaints its screen", async () => {
    const first = await harness.terminalSocket(student.cookie);
    await attach(first, { environmentId, cols: 100, rows: 30 });
    const pid = waitForOutput(first, /SHELLPID=(\d+)/);
    first.emit("terminal:input", { environmentId, data: "echo SHELLPID=$$\r" });
    const firstPid = /SHELLPID=(\d+)/.exec(await pid)![1];
    first.close(); // the tab is gone

    const second = await harness.terminalSocket(student.cookie);
    const reply = await attach(second, { environmentId, cols: 100, rows: 30 });
    if (!reply.ok) throw new Error(reply.error);
    expect(reply.screen).toContain(`SHELLPID=${firstPid}`);
    const again = waitForOutput(second, /SHELLPID=(\d+)/);
    second.emit("terminal:input", { environmentId, data: "echo SHELLPID=$$\r" });
    expect(/SHELLPID=(\d+)/.exec(await again)![1]).toBe(firstPid);
    second.close();

    // Closed tabs do not leave shells behind: one interactive bash, however many attaches.
    // (The tab's login shell is the bash whose arguments end with its tag; its PTY holder is not a bash.)
    const shells = await runInEnvironment(harness.driver, environmentId, "ps -eo comm=,args= | grep -c '^bash .*shellroom-tab=main$' || true");
    expect(Number(shells.output.trim().split("\n").at(-1))).toBe(1);
  });

  it("a student cannot attach to another student's environment, by guessing or reusing its id", async () => {
    const intruder = await harness.newStudent("Curious Student");
    const socket = await harness.terminalSocket(intruder.cookie);
    const reply = await attach(socket, { environmentId, cols: 80, rows: 24 });
    expect(reply).toEqual({ ok: false, code: "forbidden", error: "You cannot open this terminal." });
    const guessed = await attach(socket, { environmentId: "clxxxxxxxxxxxxxxxxxxxxxxx", cols: 80, rows: 24 });
    expect(guessed).toEqual({ ok: false, code: "forbidden", error: "You cannot open this terminal." });

    // Typing without an authorized attach reaches nobody.
    const refused = new Promise<{ event: string; error: string }>((resolve) => socket.once("terminal:error", resolve));
    socket.emit("terminal:input", { environmentId, data: "touch /home/student/workspace/intruder\r" });
    expect((await refused).error).toMatch(/Attach to this terminal/);
    const check = await runInEnvironment(harness.driver, environmentId, "ls /home/student/workspace");
    expect(check.output).not.toContain("intruder");
    socket.close();
  });

  it("refuses a socket without a session, and one whose session was signed out", async () => {
    await expect(harness.terminalSocket()).rejects.toThrow(/sign in/);
    const leaving = await harness.newStudent("Leaving Student");
    const signedOut = await harness.trpc("auth.signOut", null, { cookie: leaving.cookie });
    expect(signedOut.status).toBe(200);
    await expect(harness.terminalSocket(leaving.cookie)).rejects.toThrow(/sign in/);
  });

  it("answers malformed socket messages with an error and keeps serving", async () => {
    const socket = await harness.terminalSocket(student.cookie);
    const garbage = [null, 42, "attach", { environmentId: "../../etc" }, { environmentId, cols: -1, rows: 1e9 }, { environmentId: "x".repeat(10_000) }];
    for (const payload of garbage) {
      const reply = await attach(socket, payload);
      expect(reply.ok).toBe(false);
      if (!reply.ok) expect(reply.error).toMatch(/Malformed terminal:attach/);
    }
    const errors: string[] = [];
    socket.on("terminal:error", (error: { error: string }) => errors.push(error.error));
    socket.emit("terminal:input", { environmentId, data: 123 });
    socket.emit("terminal:resize", "not an object");
    socket.emit("terminal:input", { environmentId, data: "x".repeat(70 * 1024) });
    await expect.poll(() => errors.length).toBe(3);
    expect(errors.every((error) => error.startsWith("Malformed"))).toBe(true);

    // Still alive and serving.
    const reply = await attach(socket, { environmentId, cols: 80, rows: 24 });
    expect(reply.ok).toBe(true);
    const health = await fetch(`${harness.url}/healthz`);
    expect(health.status).toBe(200);
    socket.close();
  });
});

describe("the tRPC API", () => {
  it("rejects malformed input with field errors and keeps serving", async () => {
    const bad = await harness.trpc("environment.startForLab", { labId: 12 }, { cookie: student.cookie });
    expect(bad.status).toBe(400);
    expect(bad.body.error.data.code).toBe("BAD_REQUEST");
    expect(bad.body.error.data.zodError.fieldErrors.labId).toBeDefined();
    const signIn = await harness.trpc("auth.signIn", { email: "not-an-email", password: "" });
    expect(signIn.status).toBe(400);
    expect(Object.keys(signIn.body.error.data.zodError.fieldErrors).sort()).toEqual(["email", "password"]);
    const me = await harness.trpc("auth.me", null, { cookie: student.cookie, method: "GET" });
    expect(me.body.result.data.id).toBe(student.userId);
  });

  it("requires a session to start an environment, and enrolment in the lab's course", async () => {
    const anonymous = await harness.trpc("environment.startForLab", { labId: harness.labId });
    expect(anonymous.status).toBe(401);
    const outsider = await harness.db.user.create({ data: { displayName: "Outsider" } });
    const { createSession, generateSessionToken } = await import("../../server/auth/sessions");
    const token = generateSessionToken();
    await createSession(harness.db, token, outsider.id);
    const refused = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: `shellroom_session=${token}` });
    expect(refused.status).toBe(404);
    expect(await harness.db.environment.count({ where: { userId: outsider.id } })).toBe(0);
  });

  it("refuses a cross-origin mutation", async () => {
    const forged = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie, origin: "https://evil.example" });
    expect(forged.status).toBe(403);
  });

  it("signs in with the demo student's password and sets an HttpOnly session cookie whose token is not stored", async () => {
    const response = await fetch(`${harness.url}/api/trpc/auth.signIn`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: harness.url },
      body: JSON.stringify({ email: "student@shellroom.local", password: "shellroom-student" }),
    });
    expect(response.status).toBe(200);
    const cookie = response.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^shellroom_session=[a-z2-7]{32}; HttpOnly; SameSite=Lax; Path=\//);
    const token = /shellroom_session=([a-z2-7]+)/.exec(cookie)![1]!;
    expect(await harness.db.authSession.findUnique({ where: { id: token } })).toBeNull();
    const wrong = await harness.trpc("auth.signIn", { email: "student@shellroom.local", password: "wrong-password" });
    expect(wrong.status).toBe(401);
  });
});
