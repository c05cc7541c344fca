/**
 * The tRPC context (built once per request) and the procedure ladder:
 *   public -> signed in -> course member -> course staff;  signed in -> instructor | admin;
 *   signed in -> lab member.
 * Every role check is a rung here, never an ad-hoc `if` in a procedure; each rung asks
 * server/auth/access.ts, which the terminal gateway asks too.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { initTRPC, TRPCError } from "@trpc/server";
import type { OpenApiMeta } from "trpc-to-openapi";
import { ZodError, z } from "zod";
import { EntityId } from "../../protocol/ids";
import type { AuditLog } from "../audit";
import type { ClientAddress } from "../auth/client-address";
import { SESSION_COOKIE, readCookie } from "../auth/cookies";
import { hitAll, type RateLimiter, type RateLimitResult, type RateLimitRule } from "../auth/rate-limit";
import { validateSessionToken, type ValidSession } from "../auth/sessions";
import { bearerTokenOf, validateApiToken } from "../auth/api-tokens";
import type { Database } from "../database/client";
import type { EnvironmentService } from "../environments/environment-service";
import type { EnvironmentApps } from "../environments/environment-apps";
import type { ImageBuilds } from "../images/image-builds";
import type { LtiGrades } from "../lti/grades";
import type { LiveRoomChannel } from "../live/live-room-channel";
import type { BulkActions } from "../live/bulk-actions";
import type { RunawayWatch } from "../live/runaway-watch";
import type { UsageStore } from "../workers/environment-usage";
import { PlacementRefusedError } from "../workers/scheduler";
import type { ClassPreparation } from "../workers/class-preparation";
import type { WebhookEvents } from "../webhooks/webhook-events";
import type { WorkspaceTransfers } from "../workspaces/workspace-transfers";
import type { WorkspaceSnapshots } from "../workspaces/workspace-snapshots";
import { canCreateCourses, canSeeLab, courseRoleOf, isAdmin, isCourseStaff, loadCourseRole, tokenMayCall, type ApiScope } from "../auth/access";

/** Live connections that must end with the session they were opened under. */
export interface SessionSockets {
  disconnectSession(sessionId: string): void;
  disconnectUser(userId: string): void;
  /** Every session of the user but `keepSessionId` (the one that changed the credentials). */
  disconnectOtherSessions(userId: string, keepSessionId: string): void;
}

export interface ServerServices {
  db: Database;
  environments: EnvironmentService;
  /** What runs inside an environment, for its owner and staff: services' logs, previews. */
  apps: EnvironmentApps;
  imageBuilds: ImageBuilds;
  /** Re-plans warm-pool sizes and sends changes to live workers (after a template, a course's dates or a preparation change); a course's preparation progress. */
  pools: Pick<ClassPreparation, "status" | "prepare" | "stopPreparing"> & { push(): Promise<void> };
  rateLimiter: RateLimiter;
  audit: AuditLog;
  sockets: SessionSockets;
  /** The live room's nudges, broadcasts and presence. */
  live: LiveRoomChannel;
  /** CPU and memory per running environment, as workers last reported. */
  usage: UsageStore;
  /** Runaway environments: staff end their processes. */
  runaway: RunawayWatch;
  /** Actions on every environment of a course, a bounded number at a time, with progress. */
  bulk: BulkActions;
  /** Signed events to the courses' webhooks (student joined, step passed, lab completed). */
  webhooks: Pick<WebhookEvents, "studentJoined" | "stepChecked">;
  /** Workspace exports and restores (admin), snapshots of a worker's workspaces. */
  workspaces: { transfers: WorkspaceTransfers; snapshots: WorkspaceSnapshots };
  /** Cookies get `Secure` when the site is served over HTTPS. */
  secureCookies: boolean;
  /** The client's IP: the socket's peer, or what a trusted proxy says it is. */
  clientAddress: ClientAddress;
  /** Single sign-on providers (for the sign-in page); reset links by mail (absent without SMTP). */
  accounts: { providers: { id: string; name: string }[]; publicUrl?: string; mailPasswordReset?: (email: string, baseUrl: string) => void };
  /** LMS gradebooks: a checked step's score goes to the LTI line items waiting for it. */
  ltiGrades: Pick<LtiGrades, "stepChecked">;
}

/** The API token a request came with: its id and scopes, or "invalid" (unknown, revoked, expired). */
export type RequestToken = { id: string; scopes: string[] } | "invalid";

/**
 * Who is calling: an `Authorization: Bearer` API token when the request carries one (a cookie
 * riding along is then ignored), else the session cookie unless `cookies` is false (the REST
 * surface takes tokens only). A token's `auth.session` is the token's, not a browser session.
 */
export async function createContext(services: ServerServices, req: IncomingMessage, res: ServerResponse, { cookies = true } = {}) {
  const ip = services.clientAddress(req);
  const bearer = bearerTokenOf(req.headers.authorization);
  if (bearer !== null) {
    const token = await validateApiToken(services.db, bearer);
    const auth: ValidSession | null = token && { session: { id: `api-token:${token.tokenId}`, expiresAt: token.expiresAt }, user: token.user };
    const apiToken: RequestToken | null = token ? { id: token.tokenId, scopes: token.scopes } : "invalid";
    return { ...services, req, res, auth, apiToken, ip };
  }
  const token = cookies ? readCookie(req.headers.cookie, SESSION_COOKIE) : undefined;
  const auth: ValidSession | null = token ? await validateSessionToken(services.db, token) : null;
  return { ...services, req, res, auth, apiToken: null as RequestToken | null, ip };
}
export type Context = Awaited<ReturnType<typeof createContext>>;

/** `scope`: what an API token needs to call the procedure (none: people only); `openapi`: its REST route under /api/v1. */
export type ProcedureMeta = OpenApiMeta<{ scope?: ApiScope }>;

const t = initTRPC
  .context<Context>()
  .meta<ProcedureMeta>()
  .create({
    errorFormatter({ shape, error }) {
      // Flattened for simple forms, plus every issue with its full path (e.g. steps.2.title).
      const zodError =
        error.cause instanceof ZodError
          ? {
              ...z.flattenError(error.cause),
              issues: error.cause.issues.map((issue) => ({
                path: issue.path.map((part) => (typeof part === "symbol" ? String(part) : part)),
                message: issue.message,
              })),
            }
          : null;
      // A refused placement says why as a code (no room, memory pressure, no live worker): pages decide on it.
      const placement = error.cause instanceof PlacementRefusedError ? error.cause.code : null;
      return { ...shape, data: { ...shape.data, zodError, placement, stack: undefined } };
    },
  });

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
/** The bottom rung: a request with an API token reaches only what its scopes allow (common/access.ts). */
export const publicProcedure = t.procedure.use(({ ctx, meta, next }) => {
  if (ctx.apiToken === "invalid") throw new TRPCError({ code: "UNAUTHORIZED", message: "This API token is unknown, revoked or expired." });
  if (ctx.apiToken && !tokenMayCall(ctx.apiToken.scopes, meta?.scope)) {
    const needs = meta?.scope ? `the ${meta.scope} scope` : "a person signed in, not an API token";
    throw new TRPCError({ code: "FORBIDDEN", message: `This API token may not do this: it needs ${needs}.` });
  }
  return next();
});

function refuseWhenLimited(result: RateLimitResult) {
  if (!result.allowed) {
    const minutes = Math.max(1, Math.ceil(result.retryAfterMs / 60_000));
    throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: `Too many attempts. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.` });
  }
}

/** Throws TOO_MANY_REQUESTS (HTTP 429) once `key` has used up `rule`. */
export async function enforceRateLimit(ctx: Pick<Context, "rateLimiter">, rule: RateLimitRule, key: string) {
  refuseWhenLimited(await ctx.rateLimiter.hit(rule, key));
}

/** Counts one use against each (rule, key); throws TOO_MANY_REQUESTS if any is used up (nothing is counted then). */
export async function enforceRateLimits(ctx: Pick<Context, "rateLimiter">, limits: ReadonlyArray<readonly [RateLimitRule, string]>) {
  refuseWhenLimited(await hitAll(ctx.rateLimiter, limits));
}

/** Signed in: `ctx.auth` is non-null downstream. */
export const protectedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.auth) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to continue." });
  return next({ ctx: { ...ctx, auth: ctx.auth } });
});

export const adminProcedure = protectedProcedure.use(({ ctx, next }) => {
  if (!isAdmin(ctx.auth.user)) throw new TRPCError({ code: "FORBIDDEN", message: "Only an administrator can do this." });
  return next();
});

/** May create courses: instructors and admins. */
export const instructorProcedure = protectedProcedure.use(({ ctx, next }) => {
  if (!canCreateCourses(ctx.auth.user)) {
    throw new TRPCError({ code: "FORBIDDEN", message: "Only instructors can create courses. Ask an administrator to grant you the instructor role." });
  }
  return next();
});

const NOT_ENROLLED = "No such course, or you are not a member of it.";

/** A member of the course named by `courseId` (admins act as its instructors). */
export const courseMemberProcedure = protectedProcedure.input(z.object({ courseId: EntityId })).use(async ({ ctx, input, next }) => {
  const courseRole = await loadCourseRole(ctx.db, ctx.auth.user, input.courseId);
  // Not found and not a member look alike, so course ids cannot be probed.
  if (!courseRole) throw new TRPCError({ code: "NOT_FOUND", message: NOT_ENROLLED });
  return next({ ctx: { ...ctx, course: { id: input.courseId, role: courseRole } } });
});

/** The course's instructors and assistants. */
export const courseStaffProcedure = courseMemberProcedure.use(({ ctx, next }) => {
  if (!isCourseStaff(ctx.course.role)) throw new TRPCError({ code: "FORBIDDEN", message: "Only the course's instructors and assistants can do this." });
  return next();
});

/** A member of the lab's course; students see only published labs. */
export const labMemberProcedure = protectedProcedure.input(z.object({ labId: EntityId })).use(async ({ ctx, input, next }) => {
  const lab = await ctx.db.lab.findUnique({
    where: { id: input.labId },
    select: { id: true, courseId: true, published: true, course: { select: { members: { where: { userId: ctx.auth.user.id }, select: { role: true } } } } },
  });
  const membership = lab?.course.members[0];
  const notFound = new TRPCError({ code: "NOT_FOUND", message: "No such lab, or you are not enrolled in its course." });
  // The lab exists, so its course does: an admin acts as its instructor.
  const courseRole = lab ? courseRoleOf(ctx.auth.user, membership?.role, true) : null;
  if (!lab || !courseRole || !canSeeLab(courseRole, lab)) throw notFound;
  return next({ ctx: { ...ctx, lab: { id: lab.id, courseId: lab.courseId }, courseRole } });
});
