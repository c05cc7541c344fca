import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { EntityId } from "../../../protocol/ids";
import { canStartAfterWorkshopEnded, type CourseRole } from "../../auth/access";
import { ExtendMinutes } from "../../../common/forms/live-room";
import type { EnvironmentSummary } from "../../environments/environment-service";
import { CourseEnvironments, StoppedEnvironment } from "../api-outputs";
import { courseStaffProcedure, labMemberProcedure, protectedProcedure, router, type Context } from "../trpc";
import { AppAccessError, type AppRefusal } from "../../environments/environment-apps";
import { ServiceName } from "../../../common/services";

const APP_REFUSALS: Record<AppRefusal, TRPCError["code"]> = {
  not_found: "NOT_FOUND",
  not_running: "PRECONDITION_FAILED",
  not_previewable: "FORBIDDEN",
  no_such_service: "NOT_FOUND",
  unavailable: "SERVICE_UNAVAILABLE",
};

/** The apps' refusals as tRPC errors (their words are for people). */
async function asTrpc<T>(action: Promise<T>): Promise<T> {
  try {
    return await action;
  } catch (error) {
    if (error instanceof AppAccessError) throw new TRPCError({ code: APP_REFUSALS[error.code], message: error.message });
    throw error;
  }
}

/** The environment, when it belongs to a lab of the course the caller is staff of. */
async function environmentInCourse(db: Context["db"], courseId: string, environmentId: string) {
  const environment = await db.environment.findFirst({ where: { id: environmentId, lab: { courseId } }, select: { id: true } });
  if (!environment) throw new TRPCError({ code: "NOT_FOUND", message: "No such environment in this course." });
  return environment;
}

const WORKSHOP_ENDED = "This workshop has ended. Your files are kept; ask your instructor if you need more time.";

/** Students cannot start anything in a workshop that staff have ended (staff still can). */
async function refuseIfEnded(ctx: Pick<Context, "db"> & { courseRole: CourseRole; lab: { courseId: string } }) {
  if (canStartAfterWorkshopEnded(ctx.courseRole)) return;
  const course = await ctx.db.course.findUniqueOrThrow({ where: { id: ctx.lab.courseId }, select: { endedAt: true } });
  if (course.endedAt) throw new TRPCError({ code: "PRECONDITION_FAILED", message: WORKSHOP_ENDED });
}

/** Staff with the live room open see the change (whether the action worked or not), unless `quiet` says there was none. */
async function noticed<T>(ctx: Pick<Context, "live">, courseId: string, action: Promise<T>, quiet: (result: T) => boolean = () => false): Promise<T> {
  let result: T | undefined;
  let ok = false;
  try {
    result = await action;
    ok = true;
    return result;
  } finally {
    if (!ok || !quiet(result as T)) ctx.live.changed(courseId);
  }
}

/**
 * A queued student's page asks for its place every few seconds: no nudge for that (entering,
 * leaving and admission are state changes, which nudge the room through the lifecycle's event).
 */
const quietWhenQueued = (summary: EnvironmentSummary) => summary.state === "QUEUED";

export const environmentRouter = router({
  /** The signed-in student's environment for a lab as it is now (without starting it). */
  mine: labMemberProcedure.query(({ ctx }) =>
    ctx.db.environment.findUnique({
      where: { userId_labId: { userId: ctx.auth.user.id, labId: ctx.lab.id } },
      select: { id: true, state: true, stopReason: true, expiresAt: true, error: true },
    }),
  ),

  /** The services and preview ports of a running environment (its owner and course staff). */
  apps: protectedProcedure
    .input(z.object({ environmentId: EntityId }))
    .query(({ ctx, input }) => asTrpc(ctx.apps.describe(ctx.auth.user, input.environmentId))),

  /** A service's last lines of output (its owner and course staff). */
  serviceLogs: protectedProcedure
    .input(z.object({ environmentId: EntityId, service: ServiceName, lines: z.number().int().min(1).max(1000).default(200) }))
    .query(async ({ ctx, input }) => ({ log: await asTrpc(ctx.apps.serviceLogs(ctx.auth.user, input.environmentId, input.service, input.lines)) })),

  /**
   * Starts (or resumes) the signed-in student's environment for a lab: `{ state: "RUNNING" }`,
   * or `{ state: "QUEUED", position, estimateSeconds }` while it waits for a place (the page
   * asks again every few seconds; asking keeps its place and answers where it stands).
   */
  startForLab: labMemberProcedure.mutation(async ({ ctx }): Promise<EnvironmentSummary> => {
    await refuseIfEnded(ctx);
    const summary = await noticed(ctx, ctx.lab.courseId, ctx.environments.startForLab({ userId: ctx.auth.user.id, labId: ctx.lab.id }), quietWhenQueued);
    return summary;
  }),

  stop: labMemberProcedure.mutation(({ ctx }) => noticed(ctx, ctx.lab.courseId, ctx.environments.stop(ctx.auth.user.id, ctx.lab.id))),

  /** Container and workspace removed for good (the next start begins from scratch). */
  delete: labMemberProcedure.mutation(({ ctx }) => noticed(ctx, ctx.lab.courseId, ctx.environments.delete(ctx.auth.user.id, ctx.lab.id))),

  /** A fresh container; `wipeWorkspace` also empties ~/workspace. */
  reset: labMemberProcedure.input(z.object({ wipeWorkspace: z.boolean() })).mutation(async ({ ctx, input }) => {
    // A reset starts the environment again: not once the workshop is over.
    await refuseIfEnded(ctx);
    return noticed(ctx, ctx.lab.courseId, ctx.environments.reset(ctx.auth.user.id, ctx.lab.id, input.wipeWorkspace));
  }),

  /** Staff: more time before a student's environment reaches its lifetime limit. */
  extend: courseStaffProcedure.input(z.object({ environmentId: EntityId, minutes: ExtendMinutes })).mutation(async ({ ctx, input }) => {
    await environmentInCourse(ctx.db, ctx.course.id, input.environmentId);
    return noticed(ctx, ctx.course.id, ctx.environments.extend(input.environmentId, input.minutes));
  }),

  /** Staff: stop a student's environment (files kept). */
  stopForStudent: courseStaffProcedure
    .meta({
      scope: "environments:write",
      openapi: {
        method: "POST",
        path: "/courses/{courseId}/environments/{environmentId}/stop",
        tags: ["environments"],
        summary: "Stop a student's environment (files kept)",
      },
    })
    .input(z.object({ environmentId: EntityId }))
    .output(StoppedEnvironment)
    .mutation(async ({ ctx, input }) => {
      await environmentInCourse(ctx.db, ctx.course.id, input.environmentId);
      return noticed(
        ctx,
        ctx.course.id,
        ctx.environments.stopById(input.environmentId, "STAFF", "Your instructor stopped this environment. Your files are kept."),
      );
    }),

  /** Staff: every environment of the course, newest first. */
  forCourse: courseStaffProcedure
    .meta({
      scope: "read",
      openapi: { method: "GET", path: "/courses/{courseId}/environments", tags: ["environments"], summary: "The course's environments and their states" },
    })
    .output(CourseEnvironments)
    .query(async ({ ctx }) => {
      const environments = await ctx.db.environment.findMany({
        where: { lab: { courseId: ctx.course.id } },
        orderBy: { createdAt: "desc" },
        take: 5000,
        select: {
          id: true,
          state: true,
          stopReason: true,
          userId: true,
          labId: true,
          startedAt: true,
          stoppedAt: true,
          user: { select: { displayName: true } },
          lab: { select: { title: true } },
        },
      });
      return environments.map(({ user, lab, ...environment }) => ({ ...environment, displayName: user.displayName, labTitle: lab.title }));
    }),
});
