import { labMemberProcedure, router } from "../trpc";

export const environmentRouter = router({
  /** Starts (or resumes) the signed-in student's environment for a lab. */
  startForLab: labMemberProcedure.mutation(({ ctx }) =>
    ctx.environments.startForLab({ userId: ctx.auth.user.id, labId: ctx.lab.id })),
});
