/**
 * Password reset: a link an administrator makes, and a link mailed on request through a real
 * SMTP server (smtp-server on loopback). Each works once, expires, and ends the account's
 * sessions; the request answers the same whatever the email.
 */
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cookieFrom, startHarness, type Harness } from "../support/platform-harness";
import { until } from "../support/until";

interface ReceivedMail {
  to: string[];
  raw: string;
}

let harness: Harness;
let smtp: SMTPServer;
const mails: ReceivedMail[] = [];

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        mails.push({ to: session.envelope.rcptTo.map((rcpt) => rcpt.address), raw: Buffer.concat(chunks).toString("utf8") });
        done();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  const port = (smtp.server.address() as AddressInfo).port;
  harness = await startHarness({ server: { smtp: { url: `smtp://127.0.0.1:${port}`, from: "Shellroom <no-reply@shellroom.test>" } } });
});
afterAll(async () => {
  await harness?.close();
  await new Promise<void>((resolve) => smtp?.close(() => resolve()));
});

const uniqueEmail = (tag: string) => `${tag}-${Date.now()}-${Math.random().toString(36).slice(2, 7)}@example.test`;

/** The reset link in a mail (quoted-printable soft breaks undone). */
function linkIn(mail: ReceivedMail): URL {
  const match = /(https?:\/\/\S+\/reset-password\/[a-z2-7]{32})/.exec(mail.raw.replace(/=\r?\n/g, ""));
  if (!match) throw new Error(`no reset link in:\n${mail.raw}`);
  return new URL(match[1]!);
}
const tokenOf = (path: string) => path.split("/").pop()!;

async function newAccount(tag: string) {
  const email = uniqueEmail(tag);
  const signedUp = await harness.trpc("auth.signUp", { displayName: "Forgetful Person", email, password: "the old password" });
  expect(signedUp.status).toBe(200);
  return { email, cookie: cookieFrom(signedUp.headers), userId: signedUp.body.result.data.id as string };
}

const me = async (cookie: string) => (await harness.trpc("auth.me", null, { cookie, method: "GET" })).body.result.data;

describe("password reset", () => {
  it("a link mailed on request sets the password once and ends the account's sessions", async () => {
    const { email, cookie } = await newAccount("mailed");
    const asked = await harness.trpc("auth.requestPasswordReset", { email });
    const unknown = await harness.trpc("auth.requestPasswordReset", { email: uniqueEmail("nobody") });
    expect(asked.status).toBe(200);
    // Nothing in the answer says whether the email has an account.
    expect(unknown.status).toBe(200);
    expect(unknown.body).toEqual(asked.body);

    const mail = await until("the reset mail", () => mails.find((received) => received.to.includes(email)));
    const link = linkIn(mail);
    expect(link.origin).toBe(harness.url);
    const token = tokenOf(link.pathname);
    // Only the token's hash is kept.
    expect(await harness.db.passwordReset.count({ where: { id: token } })).toBe(0);
    expect((await harness.trpc("auth.passwordResetStatus", { token }, { method: "GET" })).body.result.data).toEqual({ usable: true });

    expect((await harness.trpc("auth.resetPassword", { token, password: "a brand new password" })).status).toBe(200);
    expect(await me(cookie)).toBeNull();
    expect(await harness.signIn(email, "a brand new password")).toMatch(/^shellroom_session=/);
    expect((await harness.trpc("auth.signIn", { email, password: "the old password" })).status).toBe(401);

    const again = await harness.trpc("auth.resetPassword", { token, password: "yet another password" });
    expect(again.status).toBe(400);
    expect(again.body.error.message).toMatch(/expired or was used/);
    expect((await harness.trpc("auth.passwordResetStatus", { token }, { method: "GET" })).body.result.data).toEqual({ usable: false });
  });

  it("asking again and again for one email is rate-limited", async () => {
    const email = uniqueEmail("flood");
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt++) statuses.push((await harness.trpc("auth.requestPasswordReset", { email })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it("an administrator's link is for administrators to make, works once, and not after it expires", async () => {
    const { email, cookie, userId } = await newAccount("by-admin");
    const adminCookie = await harness.signIn("admin@shellroom.local", "shellroom-admin");
    const studentTry = await harness.trpc("admin.createPasswordResetLink", { userId }, { cookie });
    expect(studentTry.status).toBe(403);

    const made = await harness.trpc("admin.createPasswordResetLink", { userId }, { cookie: adminCookie });
    expect(made.status).toBe(200);
    const token = tokenOf(made.body.result.data.path);
    const audit = await harness.db.auditEvent.findFirst({ where: { action: "auth.password_reset_link_created", subjectId: userId } });
    expect(audit?.actorId).toBe("demo-admin");

    const tooShort = await harness.trpc("auth.resetPassword", { token, password: "short" });
    expect(tooShort.status).toBe(400);
    expect(tooShort.body.error.data.zodError.fieldErrors.password).toBeTruthy();

    expect((await harness.trpc("auth.resetPassword", { token, password: "set by the admin's link" })).status).toBe(200);
    expect(await me(cookie)).toBeNull();
    expect(await harness.signIn(email, "set by the admin's link")).toMatch(/^shellroom_session=/);
    expect((await harness.trpc("auth.resetPassword", { token, password: "and once more please" })).status).toBe(400);

    const later = await harness.trpc("admin.createPasswordResetLink", { userId }, { cookie: adminCookie });
    const expiring = tokenOf(later.body.result.data.path);
    await harness.db.passwordReset.updateMany({ where: { userId, usedAt: null }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const expired = await harness.trpc("auth.resetPassword", { token: expiring, password: "too late for this one" });
    expect(expired.status).toBe(400);
    expect(await harness.signIn(email, "set by the admin's link")).toMatch(/^shellroom_session=/);
  });
});
