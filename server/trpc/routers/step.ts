import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { EntityId } from "../../../protocol/ids";
import { labMemberProcedure, router } from "../trpc";

export const stepRouter = router({
  /** Runs the step's check in the student's container; exit 0 passes. */
  check: labMemberProcedure.input(z.object({ stepId: EntityId })).mutation(async ({ ctx, input }) => {
    const step = await ctx.db.labStep.findFirst({ where: { id: input.stepId, labId: ctx.lab.id } });
    if (!step) throw new TRPCError({ code: "NOT_FOUND", message: "No such step in this lab." });
    if (!step.checkScript) throw new TRPCError({ code: "BAD_REQUEST", message: "This step has no automatic check: move on when you are ready." });

    const outcome = await ctx.environments.runCheck(ctx.auth.user.id, ctx.lab.id, { script: step.checkScript, timeoutSeconds: step.checkTimeoutSeconds });
    const passed = outcome.exitCode === 0 && !outcome.timedOut;
    const now = new Date();
    const output = outcome.timedOut ? `${outcome.output}\n[The check ran longer than ${step.checkTimeoutSeconds} s and was stopped.]`.trim() : outcome.output;
    const previous = await ctx.db.stepResult.findUnique({ where: { userId_stepId: { userId: ctx.auth.user.id, stepId: step.id } } });
    const result = await ctx.db.stepResult.upsert({
      where: { userId_stepId: { userId: ctx.auth.user.id, stepId: step.id } },
      create: {
        userId: ctx.auth.user.id,
        stepId: step.id,
        labId: ctx.lab.id,
        passed,
        attempts: 1,
        firstPassedAt: passed ? now : null,
        lastCheckedAt: now,
        lastOutput: output,
        lastExitCode: outcome.exitCode,
      },
      update: {
        passed,
        attempts: { increment: 1 },
        firstPassedAt: previous?.firstPassedAt ?? (passed ? now : null),
        lastCheckedAt: now,
        lastOutput: output,
        lastExitCode: outcome.exitCode,
      },
    });
    ctx.live.changed(ctx.lab.courseId);
    await ctx.ltiGrades.stepChecked(ctx.auth.user.id, ctx.lab.id);
    await ctx.webhooks.stepChecked({
      courseId: ctx.lab.courseId,
      labId: ctx.lab.id,
      stepId: step.id,
      userId: ctx.auth.user.id,
      passed,
      passedBefore: previous?.passed ?? false,
    });
    return {
      stepId: step.id,
      passed,
      output,
      exitCode: outcome.exitCode,
      timedOut: outcome.timedOut,
      attempts: result.attempts,
      firstPassedAt: result.firstPassedAt,
    };
  }),
});
