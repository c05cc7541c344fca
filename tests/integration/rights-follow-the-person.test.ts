/**
 * A live socket keeps only the rights its session still has: role changes, credential
 * changes and ended sessions reach sockets at once (on every replica), and a refused
 * attach cannot flood the audit trail. Real server replicas, Redis, Postgres and Docker.
 */
import type { Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AttachReply } from "../../protocol/browser-contract";
import { SESSION_COOKIE } from "../../server/auth/cookies";
import { createSession, generateSessionToken, sessionIdOf } from "../../server/auth/sessions";
import { cookieFrom, startHarness, type Harness } from "../support/platform-harness";

let harness: Harness;
let adminCookie: string;

beforeAll(async () => {
  // The periodic recheck is pushed out of the way: the role and credential tests see only
  // the immediate path, and the expiry test runs the recheck itself.
  harness = await startHarness({ server: { sessionRecheckMs: 3_600_000 } });
  adminCookie = await harness.signIn("admin@shellroom.local", "shellroom-admin");
});
afterAll(async () => {
  await harness?.close();
});

const uniqueEmail = (tag: string) => `${tag}-${Date.now()}-${Math.random().toString(36).slice(2, 7)}@example.test`;
const disconnection = (socket: Socket) => new Promise<string>((resolve) => socket.once("disconnect", resolve));
const attach = (socket: Socket, environmentId: string) =>
  new Promise<AttachReply>((resolve) => socket.emit("terminal:attach", { environmentId, cols: 80, rows: 24 }, resolve));

async function userWithSession(role: "ADMIN" | "INSTRUCTOR" | "STUDENT", name: string) {
  const user = await harness.db.user.create({ data: { displayName: name, role } });
  const token = generateSessionToken();
  await createSession(harness.db, token, user.id);
  return { userId: user.id, cookie: `${SESSION_COOKIE}=${token}`, sessionId: sessionIdOf(token) };
}

describe("rights follow the person", () => {
  it("an admin demoted on one replica stops watching a terminal on another at once, and cannot watch again", async () => {
    const student = await harness.newStudent("Watched Student");
    const started = await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie });
    const environmentId = started.body.result.data.environmentId as string;
    const owner = await harness.terminalSocket(student.cookie);
    expect(await attach(owner, environmentId)).toMatchObject({ ok: true, mode: "owner" });

    const other = await harness.startReplica();
    const watcher = await userWithSession("ADMIN", "Departing Admin");
    const watching = await harness.terminalSocket(watcher.cookie, { url: other.url });
    expect(await attach(watching, environmentId)).toMatchObject({ ok: true, mode: "watch" });

    const ended = disconnection(watching);
    const demoted = await harness.trpc("admin.setRole", { userId: watcher.userId, role: "STUDENT" }, { cookie: adminCookie });
    expect(demoted.status).toBe(200);
    await ended;

    const again = await harness.terminalSocket(watcher.cookie, { url: other.url });
    expect(await attach(again, environmentId)).toMatchObject({ ok: false });
    // The student's own terminal was not touched.
    expect(owner.connected).toBe(true);
  });

  it("changing the password ends the other sessions' live sockets, and keeps this one's", async () => {
    const email = uniqueEmail("stolen");
    const password = "0123456789ab";
    const mine = cookieFrom((await harness.trpc("auth.signUp", { displayName: "Careful Owner", email, password })).headers);
    const thief = await harness.signIn(email, password);
    const mySocket = await harness.terminalSocket(mine);
    const thiefSocket = await harness.terminalSocket(thief);
    const thiefEnded = disconnection(thiefSocket);

    const changed = await harness.trpc("auth.setCredentials", { email, password: "a-brand-new-passphrase", currentPassword: password }, { cookie: mine });
    expect(changed.status).toBe(200);
    await thiefEnded;
    // Still here and still answered: a round trip through the gateway after the disconnect went out.
    expect(await attach(mySocket, "no-such-environment")).toMatchObject({ ok: false });
    expect(mySocket.connected).toBe(true);
    await expect(harness.terminalSocket(thief)).rejects.toThrow(/sign in/);
  });

  it("a socket whose session expired or was deleted is ended by the periodic recheck", async () => {
    const expiring = await userWithSession("STUDENT", "Expiring Session");
    const deleted = await userWithSession("STUDENT", "Deleted Session");
    const expiringSocket = await harness.terminalSocket(expiring.cookie);
    const deletedSocket = await harness.terminalSocket(deleted.cookie);
    const ends = [disconnection(expiringSocket), disconnection(deletedSocket)];

    await harness.db.authSession.update({ where: { id: expiring.sessionId }, data: { expiresAt: new Date(Date.now() - 1000) } });
    await harness.db.authSession.delete({ where: { id: deleted.sessionId } });
    expect(expiringSocket.connected && deletedSocket.connected).toBe(true);
    await harness.server.sessions.recheck();
    await Promise.all(ends);
  });
});

describe("the audit trail under a flood of refused attaches", () => {
  it("writes the first refusal per user, not one row per attempt", async () => {
    const prober = await harness.newStudent("Prober");
    const socket = await harness.terminalSocket(prober.cookie);
    for (let attempt = 0; attempt < 40; attempt++) {
      expect(await attach(socket, `probe-${attempt}`)).toMatchObject({ ok: false });
    }
    const rows = () => harness.db.auditEvent.findMany({ where: { action: "environment.access_refused", actorId: prober.userId } });
    await expect.poll(async () => (await rows()).length, { timeout: 10_000 }).toBeGreaterThan(0);
    // Every refusal was answered before this point, and only the first was ever written.
    const written = await rows();
    expect(written).toHaveLength(1);
    expect(written[0]!.subjectId).toBe("probe-0");

    // Another user's first refusal is not swallowed by the first user's window.
    const second = await harness.newStudent("Second Prober");
    const secondSocket = await harness.terminalSocket(second.cookie);
    await attach(secondSocket, "probe-x");
    await expect
      .poll(() => harness.db.auditEvent.count({ where: { action: "environment.access_refused", actorId: second.userId } }), { timeout: 10_000 })
      .toBe(1);
  });
});
