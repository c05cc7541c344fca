/**
 * The tRPC context (built once per request) and the procedure ladder:
 * public -> signed-in. Role rungs (course member, staff, admin) extend the same ladder.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { initTRPC, TRPCError } from "@trpc/server";
import { ZodError, z } from "zod";
import { SESSION_COOKIE, readCookie } from "../auth/cookies";
import { validateSessionToken, type ValidSession } from "../auth/sessions";
import type { Database } from "../database/client";
import type { EnvironmentService } from "../environments/environment-service";

export interface ServerServices {
  db: Database;
  environments: EnvironmentService;
  /** Cookies get `Secure` when the site is served over HTTPS. */
  secureCookies: boolean;
}

export async function createContext(services: ServerServices, req: IncomingMessage, res: ServerResponse) {
  const token = readCookie(req.headers.cookie, SESSION_COOKIE);
  const auth: ValidSession | null = token ? await validateSessionToken(services.db, token) : null;
  return { ...services, req, res, auth };
}
export type Context = Awaited<ReturnType<typeof createContext>>;

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const zodError = error.cause instanceof ZodError ? z.flattenError(error.cause) : null;
    return { ...shape, data: { ...shape.data, zodError, stack: undefined } };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure;

/** Signed in: `ctx.auth` is non-null downstream. */
export const protectedProcedure = t.procedure.use(({ ctx, next }) => {
  if (!ctx.auth) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to continue." });
  return next({ ctx: { ...ctx, auth: ctx.auth } });
});

/** A member of the lab's course (any role): the lab id comes from the input. */
export const labMemberProcedure = protectedProcedure
  .input(z.object({ labId: z.string().min(1).max(64) }))
  .use(async ({ ctx, input, next }) => {
    const lab = await ctx.db.lab.findUnique({
      where: { id: input.labId },
      select: { id: true, courseId: true, published: true, course: { select: { members: { where: { userId: ctx.auth.user.id }, select: { role: true } } } } },
    });
    const membership = lab?.course.members[0];
    // Not found and not allowed look the same, so ids cannot be probed.
    if (!lab || (!membership && ctx.auth.user.role !== "ADMIN")) {
      throw new TRPCError({ code: "NOT_FOUND", message: "No such lab, or you are not enrolled in its course." });
    }
    const courseRole = membership?.role ?? "INSTRUCTOR";
    if (!lab.published && courseRole === "STUDENT") {
      throw new TRPCError({ code: "NOT_FOUND", message: "No such lab, or you are not enrolled in its course." });
    }
    return next({ ctx: { ...ctx, lab: { id: lab.id, courseId: lab.courseId }, courseRole } });
  });
