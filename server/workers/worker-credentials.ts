/**
 * Each worker has a credential of its own that binds its id: HMAC(server secret, worker id).
 * The server keeps one secret and derives any worker's token on demand, so a token leaked
 * from one host lets nobody speak for another host's id, and nothing per worker is stored.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** Versioned, so the derivation can change without confusing old tokens for new ones. */
const TOKEN_PREFIX = "wk1.";

/** The token the worker with this id presents (give it to that worker only). */
export function workerTokenFor(secret: string, workerId: string): string {
  return TOKEN_PREFIX + createHmac("sha256", secret).update(`shellroom-worker:${workerId}`).digest("base64url");
}

/** Whether `token` is this worker id's token; constant-time in the token's content. */
export function workerTokenValid(secret: string, workerId: string, token: string): boolean {
  const expected = Buffer.from(workerTokenFor(secret, workerId));
  const presented = Buffer.from(token);
  return expected.length === presented.length && timingSafeEqual(expected, presented);
}
