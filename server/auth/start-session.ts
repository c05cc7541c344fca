/** Every way in (password, sign-up, single sign-on) ends the same: a new session and its cookie. */
import type { Database } from "../database/client";
import { sessionCookie } from "./cookies";
import { createSession, generateSessionToken } from "./sessions";

/** Creates a session for the user; returns the Set-Cookie header value that carries its token. */
export async function startSession(db: Database, userId: string, secureCookies: boolean): Promise<string> {
  const token = generateSessionToken();
  const session = await createSession(db, token, userId);
  return sessionCookie(token, session.expiresAt, secureCookies);
}
