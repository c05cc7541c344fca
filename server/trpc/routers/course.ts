import { protectedProcedure, router } from "../trpc";

export const courseRouter = router({
  /** The courses the signed-in user belongs to, with the labs they may open. */
  mine: protectedProcedure.query(async ({ ctx }) => {
    const memberships = await ctx.db.courseMember.findMany({
      where: { userId: ctx.auth.user.id },
      orderBy: { createdAt: "asc" },
      select: {
        role: true,
        course: {
          select: {
            id: true, title: true, description: true,
            labs: { orderBy: { position: "asc" }, select: { id: true, title: true, published: true } },
          },
        },
      },
    });
    return memberships.map(({ role, course }) => ({
      ...course,
      role,
      labs: course.labs.filter((lab) => lab.published || role !== "STUDENT"),
    }));
  }),
});
