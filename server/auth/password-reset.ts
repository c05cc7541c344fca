/**
 * One-time password reset links. The token lives only in the link; the database keeps its
 * SHA-256 (as sessions do), so a leaked table opens nothing. A link works once, within its
 * lifetime; using it sets the password, spends every other link of the user and ends all
 * their sessions.
 */
import type { Database } from "../database/client";
import { generateSessionToken, sessionIdOf } from "./sessions";

export const PASSWORD_RESET_LIFETIME_MS = 60 * 60_000;
export const RESET_PATH = "/reset-password/";

/** Makes a link's token for the user; `createdById` is the administrator who asked, if any. */
export async function createPasswordReset(db: Database, userId: string, createdById: string | null, lifetimeMs = PASSWORD_RESET_LIFETIME_MS) {
  const token = generateSessionToken();
  const expiresAt = new Date(Date.now() + lifetimeMs);
  await db.passwordReset.create({ data: { id: sessionIdOf(token), userId, createdById, expiresAt } });
  return { token, path: `${RESET_PATH}${token}`, expiresAt };
}

/** Whether the link still works (the page says so before asking for a password). */
export async function passwordResetUsable(db: Database, token: string): Promise<boolean> {
  if (!/^[a-z2-7]{32}$/.test(token)) return false;
  const row = await db.passwordReset.findUnique({ where: { id: sessionIdOf(token) }, select: { usedAt: true, expiresAt: true } });
  return Boolean(row && !row.usedAt && row.expiresAt.getTime() > Date.now());
}

/**
 * Spends the link and sets the password hash; returns the user's id, or null when the link is
 * unknown, used or expired. The spend is a compare-and-set, so two uses at once set it once.
 */
export async function usePasswordReset(db: Database, token: string, passwordHash: string): Promise<string | null> {
  if (!/^[a-z2-7]{32}$/.test(token)) return null;
  const id = sessionIdOf(token);
  const now = new Date();
  return db.$transaction(async (tx) => {
    const spent = await tx.passwordReset.updateMany({ where: { id, usedAt: null, expiresAt: { gt: now } }, data: { usedAt: now } });
    if (spent.count !== 1) return null;
    const { userId } = await tx.passwordReset.findUniqueOrThrow({ where: { id }, select: { userId: true } });
    await tx.user.update({ where: { id: userId }, data: { passwordHash } });
    await tx.passwordReset.updateMany({ where: { userId, usedAt: null }, data: { usedAt: now } });
    // invalidateAllSessions, inside this transaction: no session outlives the old password.
    await tx.authSession.deleteMany({ where: { userId } });
    return userId;
  });
}
