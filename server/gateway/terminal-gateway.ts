/**
 * The /terminal namespace: browsers attach to terminals and type into them. Every
 * connection is authenticated from the session cookie (and its Origin checked); every
 * event is parsed with zod and authorized: input reaches a worker only for a terminal
 * this socket was allowed to attach to, as its owner or as staff holding the keyboard.
 */
import type { Namespace, Socket } from "socket.io";
import type { z } from "zod";
import type { Logger } from "../../common/logger";
import {
  AttachRequest,
  BrowserAck,
  BrowserInput,
  BrowserResize,
  BrowserToServer,
  CloseTerminalRequest,
  ControlRequest,
  JoinRoomRequest,
  ServerToBrowser,
  type AttachReply,
  type BrowserError,
  type BrowserReply,
  type ControlChange,
  type TerminalErrorCode,
} from "../../protocol/browser-messages";
import { ServerToWorker, type ListTerminalsReply, type OpenTerminalReply, type TerminalInputReply } from "../../protocol/worker-messages";
import {
  canCloseTerminal,
  canResize,
  canTakeKeyboard,
  canTypeIn,
  canWatchStudents,
  environmentAccess,
  loadCourseRole,
  type EnvironmentAccess,
} from "../auth/access";
import { SESSION_COOKIE, readCookie } from "../auth/cookies";
import { originAllowed } from "../auth/origin";
import { validateSessionToken, type SessionUser } from "../auth/sessions";
import type { AuditLog } from "../audit";
import type { Database } from "../database/client";
import { WorkerUnavailableError, type WorkerLink } from "../workers/worker-link";
import { recentBroadcasts } from "../live/course-broadcasts";
import { BrowserFlow } from "./browser-flow";
import { InputFlow } from "./input-flow";
import { sendScreenPieces, wholeScreen } from "./screen-pieces";
import { TokenBucket } from "./token-bucket";
import { controlRoom, courseRoom, environmentRoom, staffRoom, terminalRoom, watcherRoom } from "./rooms";
import { filterForViewer } from "./viewer-escape-filter";

const OPEN_TERMINAL_TIMEOUT_MS = 15_000;
const SNAPSHOT_TIMEOUT_MS = 10_000;
/** A shell that does not read holds its input's acknowledgement; past this the window frees anyway. */
const INPUT_ACK_TIMEOUT_MS = 60_000;
/**
 * Per socket: attaches (each opens or snapshots a terminal) and resizes (each reflows the
 * worker's mirror). A page reconnecting with 8 tabs, or a window being dragged (the
 * browser sends at most ~5 resizes a second), stays well inside.
 */
const ATTACH_BURST = 16;
const ATTACHES_PER_SECOND = 2;
const RESIZE_BURST = 20;
const RESIZES_PER_SECOND = 8;
const RATE_LIMITED = "Too many terminal requests at once: wait a moment.";

/** Rooms that let sign-out end a session's (or a user's) live terminals at once. */
export const sessionRoom = (sessionId: string) => `session:${sessionId}`;
export const userRoom = (userId: string) => `user:${userId}`;

interface Attachment {
  workerId: string;
  /** The owner types; staff watch (taking the keyboard is an explicit, separate act). */
  mode: EnvironmentAccess;
  courseId: string;
}

interface TerminalSocketData {
  user: SessionUser;
  sessionId: string;
  /** `${environmentId}/${terminalId}` -> attachment; filled only by an authorized attach. */
  attached: Map<string, Attachment>;
  /** Environments whose keyboard this (staff) socket holds. */
  controlling: Set<string>;
}

type Access = { mode: Attachment["mode"]; workerId: string | null; state: string; courseId: string };

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
    const auth = token
      ? await validateSessionToken(db, token).catch((error: Error) => {
          log.error({ err: error.message }, "session lookup failed");
          return null;
        })
      : null;
    if (!auth) return next(new Error("sign in to open a terminal"));
    const data: TerminalSocketData = { user: auth.user, sessionId: auth.session.id, attached: new Map(), controlling: new Set() };
    socket.data = data;
    next();
  });

  /** Owner, course staff (watch), or nobody: server/auth/access.ts decides from these facts. */
  async function accessTo(environmentId: string, user: SessionUser): Promise<Access | null> {
    const environment = await db.environment.findUnique({
      where: { id: environmentId },
      select: {
        userId: true,
        workerId: true,
        state: true,
        lab: { select: { courseId: true, course: { select: { members: { where: { userId: user.id }, select: { role: true } } } } } },
      },
    });
    if (!environment) return null;
    const mode = environmentAccess(user, environment, environment.lab.course.members[0]?.role);
    return mode && { mode, workerId: environment.workerId, state: environment.state, courseId: environment.lab.courseId };
  }

  /** Who holds an environment's keyboard besides its owner (on any replica). */
  async function controllerOf(environmentId: string): Promise<string | null> {
    const sockets = await terminals
      .in(controlRoom(environmentId))
      .timeout(2000)
      .fetchSockets()
      .catch(() => []);
    const names = sockets.map((socket) => (socket.data as TerminalSocketData).user.displayName);
    return names[0] ?? null;
  }

  function announceControl(environmentId: string, controller: string | null) {
    terminals.to(environmentRoom(environmentId)).emit(ServerToBrowser.control, { environmentId, controller } satisfies ControlChange);
  }

  terminals.on("connection", (socket: Socket) => {
    const data = socket.data as TerminalSocketData;
    const socketLog = log.child({ userId: data.user.id, socketId: socket.id });
    void socket.join([sessionRoom(data.sessionId), userRoom(data.user.id)]);
    // Every course the user belongs to: broadcasts reach them, and presence counts them.
    // The recent broadcasts come first, so a student who just arrived has not missed them.
    void db.courseMember
      .findMany({ where: { userId: data.user.id }, select: { courseId: true } })
      .then(async (memberships) => {
        const courseIds = memberships.map(({ courseId }) => courseId);
        await socket.join(courseIds.map(courseRoom));
        for (const message of await recentBroadcasts(db, courseIds)) socket.emit(ServerToBrowser.broadcast, message);
      })
      .catch((error: Error) => socketLog.error({ err: error.message }, "could not join course rooms"));

    const flow = new BrowserFlow(socket, async (environmentId, terminalId) => {
      const attachment = data.attached.get(attachmentKey(environmentId, terminalId));
      if (!attachment) return null;
      const reply = await workers.request<OpenTerminalReply>(
        attachment.workerId,
        ServerToWorker.snapshotTerminal,
        { environmentId, terminalId },
        SNAPSHOT_TIMEOUT_MS,
      );
      if (!reply.ok) return null;
      const screen = await wholeScreen(workers, attachment.workerId, { environmentId, terminalId }, reply, SNAPSHOT_TIMEOUT_MS);
      return { screen: attachment.mode === "owner" ? screen : filterForViewer(screen), offset: reply.offset };
    });
    const inputFlow = new InputFlow();
    const attachRate = new TokenBucket(ATTACH_BURST, ATTACHES_PER_SECOND);
    const resizeRate = new TokenBucket(RESIZE_BURST, RESIZES_PER_SECOND);

    const refuse = (event: string, error: string, ack?: unknown, code?: TerminalErrorCode) => {
      if (typeof ack === "function") (ack as (reply: unknown) => void)({ ok: false, error, ...(code ? { code } : {}) });
      else socket.emit(ServerToBrowser.error, { event, error, ...(code ? { code } : {}) } satisfies BrowserError);
    };

    /** Parses a payload; a bad one is answered in words and dropped. */
    function parse<S extends z.ZodType>(event: string, schema: S, payload: unknown, ack?: unknown): z.infer<S> | null {
      const parsed = schema.safeParse(payload);
      if (parsed.success) return parsed.data;
      refuse(
        event,
        `Malformed ${event}: ${parsed.error.issues.map((issue) => `${issue.path.join(".") || "message"} ${issue.message}`).join("; ")}`,
        ack,
        "invalid_request",
      );
      return null;
    }

    const replyTo = <R>(ack: unknown) => (typeof ack === "function" ? (ack as (reply: R) => void) : () => undefined);

    socket.on(BrowserToServer.attach, async (payload: unknown, ack?: unknown) => {
      const request = parse(BrowserToServer.attach, AttachRequest, payload, ack);
      if (!request) return;
      const reply = replyTo<AttachReply>(ack);
      // Before any lookup: an attach loop costs the database and the worker nothing more.
      if (!attachRate.take()) return reply({ ok: false, error: RATE_LIMITED, code: "rate_limited" });
      try {
        const environment = await accessTo(request.environmentId, data.user);
        // Someone else's environment and a made-up id get the same answer.
        if (!environment) {
          socketLog.warn({ environmentId: request.environmentId }, "refused attach to an environment the user may not see");
          void audit.recordBounded({
            action: "environment.access_refused",
            actorId: data.user.id,
            subjectType: "Environment",
            subjectId: request.environmentId,
            ip: socket.handshake.address,
          });
          return reply({ ok: false, error: "You cannot open this terminal." });
        }
        if (environment.state !== "RUNNING" || !environment.workerId) {
          return reply({ ok: false, error: "This environment is not running. Start it from the lab page." });
        }
        const { environmentId, terminalId, cols, rows } = request;
        const owner = environment.mode === "owner";
        // Join before asking for the screen: output produced meanwhile is not lost; the
        // offsets let the browser drop what the screen already shows.
        const room = owner ? terminalRoom(environmentId, terminalId) : watcherRoom(environmentId, terminalId);
        await socket.join([room, environmentRoom(environmentId), courseRoom(environment.courseId)]);
        // The owner's attach opens the shell and sets its size; a viewer only looks.
        const opened = owner
          ? await workers.request<OpenTerminalReply>(
              environment.workerId,
              ServerToWorker.openTerminal,
              { environmentId, terminalId, cols, rows },
              OPEN_TERMINAL_TIMEOUT_MS,
            )
          : await workers.request<OpenTerminalReply>(
              environment.workerId,
              ServerToWorker.snapshotTerminal,
              { environmentId, terminalId },
              OPEN_TERMINAL_TIMEOUT_MS,
            );
        if (!opened.ok) {
          await socket.leave(room);
          if (owner) return reply({ ok: false, error: opened.error });
          // The student may have closed this tab and kept others: name them, so the viewer can watch one.
          const listed = await workers.request<ListTerminalsReply>(environment.workerId, ServerToWorker.listTerminals, { environmentId }, SNAPSHOT_TIMEOUT_MS);
          const terminals = listed.ok ? listed.terminalIds : [];
          return reply(
            terminals.length > 0
              ? { ok: false, error: "This terminal is not open; the student has others.", terminals }
              : { ok: false, error: "The student has no terminal open here right now." },
          );
        }
        const screen = await wholeScreen(workers, environment.workerId, { environmentId, terminalId }, opened, SNAPSHOT_TIMEOUT_MS);
        data.attached.set(attachmentKey(environmentId, terminalId), { workerId: environment.workerId, mode: environment.mode, courseId: environment.courseId });
        flow.start(environmentId, terminalId, opened.offset);
        if (!owner) {
          void audit.record({
            action: "environment.staff_access",
            actorId: data.user.id,
            subjectType: "Environment",
            subjectId: environmentId,
            courseId: environment.courseId,
            ip: socket.handshake.address,
          });
        }
        const controller = data.controlling.has(environmentId) ? data.user.displayName : await controllerOf(environmentId);
        reply({
          ok: true,
          // A long screen goes ahead in pieces; the reply carries the last one.
          ...sendScreenPieces(socket, { environmentId, terminalId }, owner ? screen : filterForViewer(screen)),
          offset: opened.offset,
          mode: environment.mode,
          terminals: opened.terminalIds,
          controller,
        });
      } catch (error) {
        const message =
          error instanceof WorkerUnavailableError
            ? "The machine running this environment is not reachable. Reload in a moment."
            : "The terminal could not be opened.";
        socketLog.error({ environmentId: request.environmentId, err: (error as Error).message }, "attach failed");
        reply({ ok: false, error: message });
      }
    });

    /** The attachment that lets this socket type into a terminal, or the reason it may not. */
    function typingRights(environmentId: string, terminalId: string): Attachment | string {
      const attachment = data.attached.get(attachmentKey(environmentId, terminalId));
      if (!attachment) return "Attach to this terminal before typing into it.";
      if (!canTypeIn(attachment.mode, data.controlling.has(environmentId))) return "You are watching this terminal: take the keyboard to type.";
      return attachment;
    }

    socket.on(BrowserToServer.input, (payload: unknown, ack?: unknown) => {
      const input = parse(BrowserToServer.input, BrowserInput, payload, ack);
      if (!input) return;
      const rights = typingRights(input.environmentId, input.terminalId);
      if (typeof rights === "string") return refuse(BrowserToServer.input, rights, ack);
      const key = attachmentKey(input.environmentId, input.terminalId);
      const refusal = inputFlow.admit(key, input.data);
      if (refusal === "input_busy") return refuse(BrowserToServer.input, "The shell has not taken your earlier input yet.", ack, refusal);
      if (refusal) return refuse(BrowserToServer.input, "Too much input at once: wait a moment.", ack, refusal);
      // The worker answers once the shell's stream took the input: that moves the window.
      workers
        .requestDirect<TerminalInputReply>(rights.workerId, ServerToWorker.terminalInput, input, INPUT_ACK_TIMEOUT_MS)
        .then((taken) => {
          if (taken.ok) return replyTo<BrowserReply>(ack)({ ok: true });
          refuse(BrowserToServer.input, taken.error, ack, taken.code === "input_busy" ? "input_busy" : undefined);
        })
        // No answer in time: the worker is gone (attaching again says so) or the shell still
        // holds it; either way the page is not told to show an error for a keystroke.
        .catch(() => replyTo<BrowserReply>(ack)({ ok: false, error: "The machine running this environment did not answer." }))
        .finally(() => inputFlow.settled(key, input.data.length));
    });

    socket.on(BrowserToServer.resize, (payload: unknown, ack?: unknown) => {
      const resize = parse(BrowserToServer.resize, BrowserResize, payload, ack);
      if (!resize) return;
      const attachment = data.attached.get(attachmentKey(resize.environmentId, resize.terminalId));
      if (!attachment) return refuse(BrowserToServer.resize, "Attach to this terminal before resizing it.", ack);
      // The owner's window sets the size; a viewer's would resize the student's screen.
      if (!canResize(attachment.mode)) return;
      if (!resizeRate.take()) return refuse(BrowserToServer.resize, RATE_LIMITED, ack, "rate_limited");
      workers.send(attachment.workerId, ServerToWorker.resizeTerminal, resize);
    });

    socket.on(BrowserToServer.ack, (payload: unknown) => {
      const ack = BrowserAck.safeParse(payload);
      // Acks are frequent and answer-less: a bad one is dropped without a reply.
      if (!ack.success) return;
      void flow
        .acked(ack.data.environmentId, ack.data.terminalId, ack.data.offset)
        .catch((error: Error) => socketLog.warn({ err: error.message }, "repaint failed"));
    });

    socket.on(BrowserToServer.close, async (payload: unknown, ack?: unknown) => {
      const request = parse(BrowserToServer.close, CloseTerminalRequest, payload, ack);
      if (!request) return;
      const reply = replyTo<BrowserReply>(ack);
      // The owner may close a tab this window never opened (another window's).
      const access = await accessTo(request.environmentId, data.user).catch(() => null);
      if (!access || !canCloseTerminal(access.mode)) return reply({ ok: false, error: "Only the terminal's owner can close it." });
      if (!access.workerId || access.state !== "RUNNING") return reply({ ok: false, error: "This environment is not running." });
      try {
        const closed = await workers.request(
          access.workerId,
          ServerToWorker.closeTerminal,
          { environmentId: request.environmentId, terminalId: request.terminalId },
          SNAPSHOT_TIMEOUT_MS,
        );
        data.attached.delete(attachmentKey(request.environmentId, request.terminalId));
        flow.stop(request.environmentId, request.terminalId);
        reply(closed.ok ? { ok: true } : { ok: false, error: closed.error });
      } catch {
        reply({ ok: false, error: "The machine running this environment is not reachable." });
      }
    });

    socket.on(BrowserToServer.control, async (payload: unknown, ack?: unknown) => {
      const request = parse(BrowserToServer.control, ControlRequest, payload, ack);
      if (!request) return;
      const reply = replyTo<BrowserReply>(ack);
      const { environmentId, take } = request;
      const watching = [...data.attached.entries()].find(([key, attachment]) => key.startsWith(`${environmentId}/`) && attachment.mode === "watch");
      if (!watching) return reply({ ok: false, error: "Watch this terminal before taking its keyboard." });
      // Rights may have changed since the attach (removed from the course): check again.
      const access = await accessTo(environmentId, data.user).catch(() => null);
      if (!access || !canTakeKeyboard(access.mode)) return reply({ ok: false, error: "You cannot type in this terminal." });
      if (take) {
        data.controlling.add(environmentId);
        await socket.join(controlRoom(environmentId));
        announceControl(environmentId, data.user.displayName);
      } else {
        data.controlling.delete(environmentId);
        await socket.leave(controlRoom(environmentId));
        announceControl(environmentId, await controllerOf(environmentId));
      }
      await audit.record({
        action: take ? "environment.keyboard_taken" : "environment.keyboard_released",
        actorId: data.user.id,
        subjectType: "Environment",
        subjectId: environmentId,
        courseId: access.courseId,
        ip: socket.handshake.address,
      });
      reply({ ok: true });
    });

    socket.on(BrowserToServer.joinRoom, async (payload: unknown, ack?: unknown) => {
      const request = parse(BrowserToServer.joinRoom, JoinRoomRequest, payload, ack);
      if (!request) return;
      const reply = replyTo<BrowserReply>(ack);
      if (!canWatchStudents(data.user, await loadCourseRole(db, data.user, request.courseId).catch(() => null))) {
        return reply({ ok: false, error: "Only the course's instructors and assistants can open its live room." });
      }
      await socket.join(staffRoom(request.courseId));
      reply({ ok: true });
    });

    socket.on("disconnect", () => {
      // Staff who close the page give the keyboard back.
      for (const environmentId of data.controlling) {
        void controllerOf(environmentId).then((controller) => announceControl(environmentId, controller));
      }
    });
  });
}
