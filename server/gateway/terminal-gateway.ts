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
import type { Database } from "../database/client";
import { WorkerUnavailableError, type WorkerLink } from "../workers/worker-link";
import { terminalRoom } from "./rooms";

const OPEN_TERMINAL_TIMEOUT_MS = 15_000;

interface TerminalSocketData {
  user: SessionUser;
  /** `${environmentId}/${terminalId}` -> the worker that runs it; filled only by an authorized attach. */
  attached: Map<string, string>;
}

const attachmentKey = (environmentId: string, terminalId: string) => `${environmentId}/${terminalId}`;

export function attachTerminalGateway(options: {
  terminals: Namespace;
  db: Database;
  workers: WorkerLink;
  publicUrl: string | undefined;
  log: Logger;
}) {
  const { terminals, db, workers, log } = options;

  terminals.use(async (socket, next) => {
    if (!originAllowed(socket.request.headers, options.publicUrl)) return next(new Error("cross-origin connection refused"));
    const token = readCookie(socket.request.headers.cookie, SESSION_COOKIE);
    const auth = token ? await validateSessionToken(db, token).catch((error: Error) => { log.error({ err: error.message }, "session lookup failed"); return null; }) : null;
    if (!auth) return next(new Error("sign in to open a terminal"));
    const data: TerminalSocketData = { user: auth.user, attached: new Map() };
    socket.data = data;
    next();
  });

  terminals.on("connection", (socket: Socket) => {
    const data = socket.data as TerminalSocketData;
    const socketLog = log.child({ userId: data.user.id, socketId: socket.id });

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
        const environment = await db.environment.findUnique({
          where: { id: request.environmentId },
          select: { userId: true, workerId: true, state: true },
        });
        // Someone else's environment and a made-up id get the same answer.
        if (!environment || environment.userId !== data.user.id) {
          socketLog.warn({ environmentId: request.environmentId }, "refused attach to an environment the user does not own");
          return reply({ ok: false, error: "You cannot open this terminal." });
        }
        if (environment.state !== "RUNNING" || !environment.workerId) {
          return reply({ ok: false, error: "This environment is not running. Start it from the lab page." });
        }
        const { environmentId, terminalId, cols, rows } = request;
        // Join before asking for the screen: output produced meanwhile is not lost; the
        // offsets let the browser drop what the screen already shows.
        await socket.join(terminalRoom(environmentId, terminalId));
        const opened = await workers.request<OpenTerminalReply>(
          environment.workerId, ServerToWorker.openTerminal, { environmentId, terminalId, cols, rows }, OPEN_TERMINAL_TIMEOUT_MS);
        if (!opened.ok) {
          await socket.leave(terminalRoom(environmentId, terminalId));
          return reply({ ok: false, error: opened.error });
        }
        data.attached.set(attachmentKey(environmentId, terminalId), environment.workerId);
        reply({ ok: true, screen: opened.screen, offset: opened.offset });
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
      const workerId = data.attached.get(attachmentKey(input.environmentId, input.terminalId));
      if (!workerId) return refuse(BrowserToServer.input, "Attach to this terminal before typing into it.", ack);
      workers.send(workerId, ServerToWorker.terminalInput, input);
    });

    socket.on(BrowserToServer.resize, (payload: unknown, ack?: unknown) => {
      const resize = parse(BrowserToServer.resize, BrowserResize, payload, ack);
      if (!resize) return;
      const workerId = data.attached.get(attachmentKey(resize.environmentId, resize.terminalId));
      if (!workerId) return refuse(BrowserToServer.resize, "Attach to this terminal before resizing it.", ack);
      workers.send(workerId, ServerToWorker.resizeTerminal, resize);
    });
  });
}
