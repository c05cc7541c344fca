/**
 * The /terminal namespace: browsers attach to terminals and type into them. Every
 * connection is authenticated from the session cookie (and its Origin checked); every
 * event is parsed with zod and authorized: input reaches a worker only for a terminal
 * this socket was allowed to attach to, as its owner or as staff holding the keyboard.
 * This module authenticates and wires; the jobs live in terminal-attach.ts (attach and
 * output), terminal-control.ts (input, resize, close, keyboard) and terminal-room.ts (course rooms).
 */
import type { Namespace, Socket } from "socket.io";
import type { Logger } from "../../common/logger";
import type { ConnectRefusal } from "../../protocol/browser-contract";
import { SESSION_COOKIE, readCookie } from "../auth/cookies";
import { originAllowed } from "../auth/origin";
import { validateSessionToken } from "../auth/sessions";
import type { AuditLog } from "../audit";
import type { Database } from "../database/client";
import type { WorkerLink } from "../workers/worker-link";
import { handleAttach } from "./terminal-attach";
import { handleControl } from "./terminal-control";
import { handleRooms } from "./terminal-room";
import { socketScope, type GatewayContext, type TerminalSocketData } from "./terminal-socket";

/** Rooms that let sign-out end a session's (or a user's) live terminals at once. */
export const sessionRoom = (sessionId: string) => `session:${sessionId}`;
export const userRoom = (userId: string) => `user:${userId}`;

/** A refused connection: the browser decides on `data.code` (socket.io hands it over with connect_error). */
const refusal = (code: ConnectRefusal, message: string) => Object.assign(new Error(message), { data: { code } });

export function attachTerminalGateway(options: {
  terminals: Namespace;
  db: Database;
  workers: WorkerLink;
  audit: AuditLog;
  publicUrl: string | undefined;
  log: Logger;
}) {
  const { terminals, db, workers, audit, log } = options;
  const context: GatewayContext = { terminals, db, workers, audit, log };

  terminals.use(async (socket, next) => {
    if (!originAllowed(socket.request.headers, options.publicUrl)) return next(refusal("cross_origin", "cross-origin connection refused"));
    const token = readCookie(socket.request.headers.cookie, SESSION_COOKIE);
    const auth = token
      ? await validateSessionToken(db, token).catch((error: Error) => {
          log.error({ err: error.message }, "session lookup failed");
          return null;
        })
      : null;
    if (!auth) return next(refusal("unauthenticated", "sign in to open a terminal"));
    const data: TerminalSocketData = { user: auth.user, sessionId: auth.session.id, attached: new Map(), controlling: new Set() };
    socket.data = data;
    next();
  });

  terminals.on("connection", (socket: Socket) => {
    const data = socket.data as TerminalSocketData;
    const scope = socketScope(socket, log.child({ userId: data.user.id, socketId: socket.id }));
    void socket.join([sessionRoom(data.sessionId), userRoom(data.user.id)]);
    handleRooms(context, scope);
    const flow = handleAttach(context, scope);
    handleControl(context, scope, flow);
  });
}
