import { labMemberProcedure, router } from "../trpc";

export const labRouter = router({
  byId: labMemberProcedure.query(async ({ ctx }) => {
    const lab = await ctx.db.lab.findUniqueOrThrow({
      where: { id: ctx.lab.id },
      select: {
        id: true, title: true, instructions: true,
        course: { select: { id: true, title: true } },
        steps: { orderBy: { position: "asc" }, select: { id: true, position: true, title: true, body: true, hint: true } },
      },
    });
    return { ...lab, courseRole: ctx.courseRole };
  }),
});
