/**
 * Rights follow the person: a live socket keeps only the rights its session still has.
 * A role change, a credential change or a sign-out ends the user's (or one session's)
 * sockets at once, on every replica (the rooms span replicas through the Redis adapter).
 * The underlying connection is closed, so the browser reconnects and is authorised
 * afresh: with its new role, or not at all. A periodic recheck catches what no event
 * announces: a session that expired, or was deleted, or whose user changed role elsewhere.
 */
import type { Namespace, Socket } from "socket.io";
import type { Logger } from "../../common/logger";
import type { Database } from "../database/client";
import { sessionRoom, userRoom } from "./terminal-gateway";

export const SESSION_RECHECK_MS = 30_000;
/** Sessions looked up per query during a recheck. */
const RECHECK_BATCH = 500;

/** What the terminal gateway's handshake stores on every socket. */
interface GuardedSocketData {
  sessionId?: string;
  user?: { id: string; role: string };
}

export interface SessionGuard {
  /** Ends every socket opened under this session. */
  endSession: (sessionId: string) => void;
  /** Ends every socket of this user (role changed, signed out everywhere). */
  endUser: (userId: string) => void;
  /** Ends the user's sockets except this session's (credentials changed here). */
  endOtherSessions: (userId: string, keepSessionId: string) => void;
  /** Checks this replica's sockets against the database now (the timer does it periodically). */
  recheck(): Promise<void>;
  stop(): void;
}

export function guardSessions(terminals: Namespace, db: Database, log: Logger, recheckMs = SESSION_RECHECK_MS): SessionGuard {
  async function recheck() {
    const bySession = new Map<string, Socket[]>();
    for (const socket of terminals.sockets.values()) {
      const { sessionId } = socket.data as GuardedSocketData;
      if (sessionId) bySession.set(sessionId, [...(bySession.get(sessionId) ?? []), socket]);
    }
    const ids = [...bySession.keys()];
    const now = Date.now();
    for (let start = 0; start < ids.length; start += RECHECK_BATCH) {
      const rows = await db.authSession.findMany({
        where: { id: { in: ids.slice(start, start + RECHECK_BATCH) }, expiresAt: { gt: new Date(now) } },
        select: { id: true, user: { select: { role: true } } },
      });
      const roles = new Map(rows.map((row) => [row.id, row.user.role as string]));
      for (const sessionId of ids.slice(start, start + RECHECK_BATCH)) {
        for (const socket of bySession.get(sessionId) ?? []) {
          const role = roles.get(sessionId);
          if (role !== undefined && role === (socket.data as GuardedSocketData).user?.role) continue;
          log.info(
            { socketId: socket.id, sessionId: sessionId.slice(0, 8), reason: role === undefined ? "session ended" : "role changed" },
            "ending a socket whose rights changed",
          );
          socket.disconnect(true);
        }
      }
    }
  }

  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    recheck()
      .catch((error: Error) => log.error({ err: error.message }, "session recheck failed"))
      .finally(() => (running = false));
  }, recheckMs);
  timer.unref();

  return {
    endSession: (sessionId) => terminals.in(sessionRoom(sessionId)).disconnectSockets(true),
    endUser: (userId) => terminals.in(userRoom(userId)).disconnectSockets(true),
    endOtherSessions: (userId, keepSessionId) => terminals.in(userRoom(userId)).except(sessionRoom(keepSessionId)).disconnectSockets(true),
    recheck,
    stop: () => clearInterval(timer),
  };
}
