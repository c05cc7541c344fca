/**
 * A person's own settings that follow them from device to device (kept on their account, not
 * in one browser): for now whether terminals speak to screen readers.
 */
import { z } from "zod";
import { protectedProcedure, router } from "../trpc";

export const preferencesRouter = router({
  get: protectedProcedure.query(async ({ ctx }) => {
    const user = await ctx.db.user.findUniqueOrThrow({ where: { id: ctx.auth.user.id }, select: { screenReaderMode: true } });
    return { screenReaderMode: user.screenReaderMode };
  }),

  setScreenReaderMode: protectedProcedure.input(z.object({ enabled: z.boolean() })).mutation(async ({ ctx, input }) => {
    await ctx.db.user.update({ where: { id: ctx.auth.user.id }, data: { screenReaderMode: input.enabled } });
    return { screenReaderMode: input.enabled };
  }),
});
