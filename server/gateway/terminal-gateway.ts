/**
 * The /terminal namespace: browsers attach to terminals and type into them. Every
 * connection is authenticated from the session cookie (and its Origin checked); every
 * event is parsed with zod and authorized: input reaches a worker only for a terminal
 * this socket was allowed to attach to.
 */
import type { Namespace, Socket } from "socket.io";
import type { z } from "zod";
import type { Logger } from "../../common/logger";
import {
  AttachRequest, BrowserInput, BrowserResize, BrowserToServer, ServerToBrowser,
  type AttachReply, type BrowserError,
} from "../../protocol/browser-messages";
import { ServerToWorker, type OpenTerminalReply } from "../../protocol/worker-messages";
import { SESSION_COOKIE, readCookie } from "../auth/cookies";
import { originAllowed } from "../auth/origin";
import { validateSessionToken, type SessionUser } from "../auth/sessions";
import type { AuditLog } from "../audit";
import type { Database } from "../database/client";
import { WorkerUnavailableError, type WorkerLink } from "../workers/worker-link";
import { environmentRoom, terminalRoom } from "./rooms";

const OPEN_TERMINAL_TIMEOUT_MS = 15_000;

/** Rooms that let sign-out end a session's (or a user's) live terminals at once. */
export const sessionRoom = (sessionId: string) => `session:${sessionId}`;
export const userRoom = (userId: string) => `user:${userId}`;

interface Attachment {
  workerId: string;
  /** The owner types; staff watch (taking the keyboard is an explicit, separate act). */
  mode: "owner" | "watch";
}

interface TerminalSocketData {
  user: SessionUser;
  sessionId: string;
  /** `${environmentId}/${terminalId}` -> attachment; filled only by an authorized attach. */
  attached: Map<string, Attachment>;
}

const attachmentKey = (environmentId: string, terminalId: string) => `${environmentId}/${terminalId}`;

export function attachTerminalGateway(options: {
  terminals: Namespace;
  db: Database;
  workers: WorkerLink;
  audit: AuditLog;
  publicUrl: string | undefined;
  log: Logger;
}) {
  const { terminals, db, workers, audit, log } = options;

  terminals.use(async (socket, next) => {
    if (!originAllowed(socket.request.headers, options.publicUrl)) return next(new Error("cross-origin connection refused"));
    const token = readCookie(socket.request.headers.cookie, SESSION_COOKIE);
    const auth = token ? await validateSessionToken(db, token).catch((error: Error) => { log.error({ err: error.message }, "session lookup failed"); return null; }) : null;
    if (!auth) return next(new Error("sign in to open a terminal"));
    const data: TerminalSocketData = { user: auth.user, sessionId: auth.session.id, attached: new Map() };
    socket.data = data;
    next();
  });

  /** Owner, course staff (watch), or nobody: the one place that decides. */
  async function accessTo(environmentId: string, user: SessionUser): Promise<{ mode: Attachment["mode"]; workerId: string | null; state: string; courseId: string } | null> {
    const environment = await db.environment.findUnique({
      where: { id: environmentId },
      select: {
        userId: true, workerId: true, state: true,
        lab: { select: { courseId: true, course: { select: { members: { where: { userId: user.id }, select: { role: true } } } } } },
      },
    });
    if (!environment) return null;
    const base = { workerId: environment.workerId, state: environment.state, courseId: environment.lab.courseId };
    if (environment.userId === user.id) return { ...base, mode: "owner" };
    const role = environment.lab.course.members[0]?.role;
    if (role === "INSTRUCTOR" || role === "ASSISTANT" || user.role === "ADMIN") return { ...base, mode: "watch" };
    return null;
  }

  terminals.on("connection", (socket: Socket) => {
    const data = socket.data as TerminalSocketData;
    const socketLog = log.child({ userId: data.user.id, socketId: socket.id });
    void socket.join([sessionRoom(data.sessionId), userRoom(data.user.id)]);

    const refuse = (event: string, error: string, ack?: unknown) => {
      if (typeof ack === "function") ack({ ok: false, error });
      else socket.emit(ServerToBrowser.error, { event, error } satisfies BrowserError);
    };

    /** Parses a payload; a bad one is answered in words and dropped. */
    function parse<S extends z.ZodType>(event: string, schema: S, payload: unknown, ack?: unknown): z.infer<S> | null {
      const parsed = schema.safeParse(payload);
      if (parsed.success) return parsed.data;
      refuse(event, `Malformed ${event}: ${parsed.error.issues.map((issue) => `${issue.path.join(".") || "message"} ${issue.message}`).join("; ")}`, ack);
      return null;
    }

    socket.on(BrowserToServer.attach, async (payload: unknown, ack?: (reply: AttachReply) => void) => {
      const request = parse(BrowserToServer.attach, AttachRequest, payload, ack);
      if (!request) return;
      const reply = typeof ack === "function" ? ack : () => undefined;
      try {
        const environment = await accessTo(request.environmentId, data.user);
        // Someone else's environment and a made-up id get the same answer.
        if (!environment) {
          socketLog.warn({ environmentId: request.environmentId }, "refused attach to an environment the user may not see");
          void audit.record({ action: "environment.access_refused", actorId: data.user.id, subjectType: "Environment", subjectId: request.environmentId, ip: socket.handshake.address });
          return reply({ ok: false, error: "You cannot open this terminal." });
        }
        if (environment.state !== "RUNNING" || !environment.workerId) {
          return reply({ ok: false, error: "This environment is not running. Start it from the lab page." });
        }
        const { environmentId, terminalId, cols, rows } = request;
        // Join before asking for the screen: output produced meanwhile is not lost; the
        // offsets let the browser drop what the screen already shows.
        await socket.join([terminalRoom(environmentId, terminalId), environmentRoom(environmentId)]);
        const opened = await workers.request<OpenTerminalReply>(
          environment.workerId, ServerToWorker.openTerminal, { environmentId, terminalId, cols, rows }, OPEN_TERMINAL_TIMEOUT_MS);
        if (!opened.ok) {
          await socket.leave(terminalRoom(environmentId, terminalId));
          return reply({ ok: false, error: opened.error });
        }
        data.attached.set(attachmentKey(environmentId, terminalId), { workerId: environment.workerId, mode: environment.mode });
        if (environment.mode === "watch") {
          void audit.record({ action: "environment.staff_access", actorId: data.user.id, subjectType: "Environment", subjectId: environmentId, courseId: environment.courseId, ip: socket.handshake.address });
        }
        reply({ ok: true, screen: opened.screen, offset: opened.offset, mode: environment.mode });
      } catch (error) {
        const message = error instanceof WorkerUnavailableError
          ? "The machine running this environment is not reachable. Reload in a moment."
          : "The terminal could not be opened.";
        socketLog.error({ environmentId: request.environmentId, err: (error as Error).message }, "attach failed");
        reply({ ok: false, error: message });
      }
    });

    socket.on(BrowserToServer.input, (payload: unknown, ack?: unknown) => {
      const input = parse(BrowserToServer.input, BrowserInput, payload, ack);
      if (!input) return;
      const attachment = data.attached.get(attachmentKey(input.environmentId, input.terminalId));
      if (!attachment) return refuse(BrowserToServer.input, "Attach to this terminal before typing into it.", ack);
      if (attachment.mode !== "owner") return refuse(BrowserToServer.input, "You are watching this terminal: only its owner types into it.", ack);
      workers.send(attachment.workerId, ServerToWorker.terminalInput, input);
    });

    socket.on(BrowserToServer.resize, (payload: unknown, ack?: unknown) => {
      const resize = parse(BrowserToServer.resize, BrowserResize, payload, ack);
      if (!resize) return;
      const attachment = data.attached.get(attachmentKey(resize.environmentId, resize.terminalId));
      if (!attachment) return refuse(BrowserToServer.resize, "Attach to this terminal before resizing it.", ack);
      // The owner's window sets the size; a watcher's would resize the student's screen.
      if (attachment.mode !== "owner") return;
      workers.send(attachment.workerId, ServerToWorker.resizeTerminal, resize);
    });
  });
}
