import { TRPCError } from "@trpc/server";
import { canSeeEveryonesProgress, type CourseRole } from "../../auth/access";
import { labProgressExport, progressTable } from "../../labs/progress-table";
import { ProgressExport } from "../api-outputs";
import { labMemberProcedure, router } from "../trpc";

const staffOnly = (courseRole: CourseRole) => {
  if (!canSeeEveryonesProgress(courseRole))
    throw new TRPCError({ code: "FORBIDDEN", message: "Only the course's instructors and assistants can see everyone's progress." });
};

export const labRouter = router({
  byId: labMemberProcedure.query(async ({ ctx }) => {
    const lab = await ctx.db.lab.findUniqueOrThrow({
      where: { id: ctx.lab.id },
      select: {
        id: true,
        title: true,
        instructions: true,
        course: { select: { id: true, title: true } },
        steps: { orderBy: { position: "asc" }, select: { id: true, position: true, title: true, body: true, hint: true, checkScript: true } },
      },
    });
    const results = await ctx.db.stepResult.findMany({ where: { userId: ctx.auth.user.id, labId: ctx.lab.id } });
    const resultOf = new Map(results.map((result) => [result.stepId, result]));
    return {
      ...lab,
      courseRole: ctx.courseRole,
      // Check scripts stay on the server: students see only whether a step has one.
      steps: lab.steps.map(({ checkScript, ...step }) => {
        const result = resultOf.get(step.id);
        return {
          ...step,
          hasCheck: Boolean(checkScript),
          result: result
            ? {
                passed: result.passed,
                attempts: result.attempts,
                firstPassedAt: result.firstPassedAt,
                output: result.lastOutput,
                exitCode: result.lastExitCode,
                lastCheckedAt: result.lastCheckedAt,
              }
            : null,
        };
      }),
    };
  }),

  /** Students x steps, for the course's staff. */
  progress: labMemberProcedure.query(async ({ ctx }) => {
    staffOnly(ctx.courseRole);
    return progressTable(ctx.db, ctx.lab.id);
  }),

  progressCsv: labMemberProcedure
    .meta({
      scope: "progress:read",
      openapi: { method: "GET", path: "/labs/{labId}/progress", tags: ["progress"], summary: "A lab's progress as CSV (students x steps)" },
    })
    .output(ProgressExport)
    .query(async ({ ctx }) => {
      staffOnly(ctx.courseRole);
      return labProgressExport(ctx.db, ctx.lab.id);
    }),
});
