import { TRPCError } from "@trpc/server";
import { canSeeEveryonesProgress, type CourseRole } from "../../auth/access";
import { progressCsv, type ProgressRow } from "../../labs/progress-csv";
import { labMemberProcedure, router, type Context } from "../trpc";

async function progressTable(db: Context["db"], labId: string) {
  const lab = await db.lab.findUniqueOrThrow({
    where: { id: labId },
    select: { title: true, courseId: true, steps: { orderBy: { position: "asc" }, select: { id: true, title: true, checkScript: true } } },
  });
  const students = await db.courseMember.findMany({
    where: { courseId: lab.courseId, role: "STUDENT" },
    orderBy: { createdAt: "asc" },
    select: { user: { select: { id: true, displayName: true, email: true } } },
  });
  const results = await db.stepResult.findMany({ where: { labId } });
  const byKey = new Map(results.map((result) => [`${result.userId}/${result.stepId}`, result]));
  const rows = students.map(({ user }) => ({
    userId: user.id,
    displayName: user.displayName,
    email: user.email,
    steps: lab.steps.map((step) => {
      const result = byKey.get(`${user.id}/${step.id}`);
      return result ? { passed: result.passed, attempts: result.attempts, firstPassedAt: result.firstPassedAt } : null;
    }),
  }));
  return { title: lab.title, steps: lab.steps.map(({ checkScript, ...step }) => ({ ...step, hasCheck: Boolean(checkScript) })), rows };
}

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

  progressCsv: labMemberProcedure.query(async ({ ctx }) => {
    staffOnly(ctx.courseRole);
    const table = await progressTable(ctx.db, ctx.lab.id);
    const rows: ProgressRow[] = table.rows;
    const filename = `${
      table.title
        .replace(/[^A-Za-z0-9]+/g, "-")
        .replace(/^-|-$/g, "")
        .toLowerCase() || "lab"
    }-progress.csv`;
    return {
      filename,
      csv: progressCsv(
        table.steps.map((step) => step.title),
        rows,
      ),
    };
  }),
});
