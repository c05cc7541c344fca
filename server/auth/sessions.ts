/**
 * Sessions as Lucia's guide describes them: a random token lives only in the browser's
 * cookie; the database keeps its SHA-256, so a leaked table cannot be replayed. Sessions
 * slide: used in their second half, they are extended.
 */
import { sha256 } from "@oslojs/crypto/sha2";
import { encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from "@oslojs/encoding";
import type { Database } from "../database/client";
import type { GlobalRole } from "../../generated/prisma/client";

const DAY_MS = 24 * 60 * 60 * 1000;
export const SESSION_LIFETIME_MS = 30 * DAY_MS;
const SESSION_RENEW_WITHIN_MS = 15 * DAY_MS;

export interface SessionUser {
  id: string;
  displayName: string;
  email: string | null;
  role: GlobalRole;
}

export interface ValidSession {
  session: { id: string; expiresAt: Date };
  user: SessionUser;
}

export function generateSessionToken(): string {
  const bytes = new Uint8Array(20);
  crypto.getRandomValues(bytes);
  return encodeBase32LowerCaseNoPadding(bytes);
}

/** SHA-256 (hex) of a secret: what is stored in place of a session's or an API token's secret. */
export function secretDigest(secret: string): string {
  return encodeHexLowerCase(sha256(new TextEncoder().encode(secret)));
}

export function sessionIdOf(token: string): string {
  return secretDigest(token);
}

export async function createSession(db: Database, token: string, userId: string) {
  return db.authSession.create({
    data: { id: sessionIdOf(token), userId, expiresAt: new Date(Date.now() + SESSION_LIFETIME_MS) },
  });
}

export async function validateSessionToken(db: Database, token: string): Promise<ValidSession | null> {
  if (!/^[a-z2-7]{32}$/.test(token)) return null;
  const sessionId = sessionIdOf(token);
  const row = await db.authSession.findUnique({
    where: { id: sessionId },
    include: { user: { select: { id: true, displayName: true, email: true, role: true } } },
  });
  if (!row) return null;
  const now = Date.now();
  if (now >= row.expiresAt.getTime()) {
    await db.authSession.deleteMany({ where: { id: sessionId } });
    return null;
  }
  let expiresAt = row.expiresAt;
  if (now >= expiresAt.getTime() - SESSION_RENEW_WITHIN_MS) {
    expiresAt = new Date(now + SESSION_LIFETIME_MS);
    await db.authSession.update({ where: { id: sessionId }, data: { expiresAt } });
  }
  return { session: { id: sessionId, expiresAt }, user: row.user };
}

export async function invalidateSession(db: Database, sessionId: string) {
  await db.authSession.deleteMany({ where: { id: sessionId } });
}

export async function invalidateAllSessions(db: Database, userId: string) {
  await db.authSession.deleteMany({ where: { userId } });
}
