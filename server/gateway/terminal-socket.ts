/**
 * What the /terminal namespace's handlers share: the facts a socket carries (who it is, what it
 * attached to, which keyboards it holds), the lookups every rights check starts from (access to an
 * environment, who holds its keyboard), and the per-socket way to parse a payload and refuse it.
 * The attach, control and room modules each take these instead of reaching into one another.
 */
import type { Namespace, Socket } from "socket.io";
import type { Logger } from "../../common/logger";
import { ServerToBrowser } from "../../protocol/browser-messages";
import { type BrowserError, type BrowserReplyInput, type ControlChange, type TerminalErrorCode } from "../../protocol/browser-contract";
import { throttledReport, type ParsedRequestOf, type ReplyInputOf, type RequestContract } from "../../protocol/contract";
import type { WorkerErrorCode } from "../../protocol/worker-contract";
import { environmentAccess, type EnvironmentAccess } from "../auth/access";
import type { SessionUser } from "../auth/sessions";
import type { AuditLog } from "../audit";
import type { Database } from "../database/client";
import type { WorkerLink } from "../workers/worker-link";
import { controlRoom, environmentRoom } from "./rooms";

export const SNAPSHOT_TIMEOUT_MS = 10_000;
export const RATE_LIMITED = "Too many terminal requests at once: wait a moment.";

export interface Attachment {
  workerId: string;
  /** The owner types; staff watch (taking the keyboard is an explicit, separate act). */
  mode: EnvironmentAccess;
  courseId: string;
}

export interface TerminalSocketData {
  user: SessionUser;
  sessionId: string;
  /** `${environmentId}/${terminalId}` -> attachment; filled only by an authorized attach. */
  attached: Map<string, Attachment>;
  /** Environments whose keyboard this (staff) socket holds. */
  controlling: Set<string>;
}

export type Access = { mode: Attachment["mode"]; workerId: string | null; state: string; courseId: string };

/** A worker's refusal as the browser is told it: the codes a page acts on pass through, the rest are "failed". */
export function browserCodeOf(code: WorkerErrorCode): TerminalErrorCode {
  return code === "not_running" || code === "terminal_closed" || code === "too_many_terminals" || code === "input_busy" ? code : "failed";
}

export const attachmentKey = (environmentId: string, terminalId: string) => `${environmentId}/${terminalId}`;

/** The namespace-wide parts: one per gateway. */
export interface GatewayContext {
  terminals: Namespace;
  db: Database;
  workers: WorkerLink;
  audit: AuditLog;
  log: Logger;
}

/** Owner, course staff (watch), or nobody: server/auth/access.ts decides from these facts. */
export async function accessTo({ db }: GatewayContext, environmentId: string, user: SessionUser): Promise<Access | null> {
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
export async function controllerOf({ terminals }: GatewayContext, environmentId: string): Promise<string | null> {
  const sockets = await terminals
    .in(controlRoom(environmentId))
    .timeout(2000)
    .fetchSockets()
    .catch(() => []);
  const names = sockets.map((socket) => (socket.data as TerminalSocketData).user.displayName);
  return names[0] ?? null;
}

export function announceControl({ terminals }: GatewayContext, environmentId: string, controller: string | null) {
  terminals.to(environmentRoom(environmentId)).emit(ServerToBrowser.control, { environmentId, controller } satisfies ControlChange);
}

/** One connection: its socket, its facts, its log, and how its handlers answer. */
export interface SocketScope {
  socket: Socket;
  data: TerminalSocketData;
  socketLog: Logger;
  /** Refuses a request: through its acknowledgement when it asked for one, else as an error push. */
  refuse(this: void, event: string, code: TerminalErrorCode, error: string, ack?: unknown): void;
  /** Reads a request's payload (its contract's guard first, where it has one); a bad one is answered in words and dropped. */
  parse<C extends RequestContract>(this: void, contract: C, payload: unknown, ack?: unknown): ParsedRequestOf<C> | null;
}

export function socketScope(socket: Socket, socketLog: Logger): SocketScope {
  const refuse = (event: string, code: TerminalErrorCode, error: string, ack?: unknown) => {
    if (typeof ack === "function") (ack as (reply: BrowserReplyInput) => void)({ ok: false, code, error });
    else socket.emit(ServerToBrowser.error, { event, code, error } satisfies BrowserError);
  };
  // Logged with the event (once a minute per event and socket: a browser looping on bad messages does not flood the log).
  const malformed = throttledReport((fields) => socketLog.warn(fields, "refused a malformed message from a browser"));
  function parse<C extends RequestContract>(contract: C, payload: unknown, ack?: unknown): ParsedRequestOf<C> | null {
    const guarded = contract.guard?.(payload);
    if (guarded) return guarded as ParsedRequestOf<C>;
    const { event } = contract;
    const parsed = contract.request.safeParse(payload);
    if (parsed.success) return parsed.data as ParsedRequestOf<C>;
    malformed(event, parsed.error.issues.map((issue) => `${issue.path.join(".") || "message"}: ${issue.message}`).join("; "));
    refuse(
      event,
      "invalid_request",
      `Malformed ${event}: ${parsed.error.issues.map((issue) => `${issue.path.join(".") || "message"} ${issue.message}`).join("; ")}`,
      ack,
    );
    return null;
  }
  return { socket, data: socket.data as TerminalSocketData, socketLog, refuse, parse };
}

/** The acknowledgement of a request, typed by its contract (a no-op when none was asked for). */
export const replyTo = <C extends RequestContract>(_contract: C, ack: unknown): ((reply: ReplyInputOf<C>) => void) =>
  typeof ack === "function" ? (ack as (reply: ReplyInputOf<C>) => void) : () => undefined;
