import { z } from "zod";
import { labMemberProcedure, router } from "../trpc";

export const environmentRouter = router({
  /** Starts (or resumes) the signed-in student's environment for a lab. */
  startForLab: labMemberProcedure.mutation(({ ctx }) =>
    ctx.environments.startForLab({ userId: ctx.auth.user.id, labId: ctx.lab.id })),

  stop: labMemberProcedure.mutation(({ ctx }) => ctx.environments.stop(ctx.auth.user.id, ctx.lab.id)),

  /** A fresh container; `wipeWorkspace` also empties ~/workspace. */
  reset: labMemberProcedure
    .input(z.object({ wipeWorkspace: z.boolean() }))
    .mutation(({ ctx, input }) => ctx.environments.reset(ctx.auth.user.id, ctx.lab.id, input.wipeWorkspace)),
});
