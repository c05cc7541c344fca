import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { Bounds } from "../../../common/input-bounds";
import { GLOBAL_ROLES } from "../../auth/access";
import { createPasswordReset } from "../../auth/password-reset";
import { adminProcedure, router } from "../trpc";

export const adminRouter = router({
  users: adminProcedure.input(z.object({ search: z.string().trim().max(Bounds.userSearch.max).default("") }).default({ search: "" })).query(({ ctx, input }) =>
    ctx.db.user.findMany({
      where: input.search
        ? { OR: [{ displayName: { contains: input.search, mode: "insensitive" } }, { email: { contains: input.search, mode: "insensitive" } }] }
        : {},
      orderBy: { createdAt: "asc" },
      take: 500,
      select: { id: true, displayName: true, email: true, role: true, createdAt: true },
    }),
  ),

  setRole: adminProcedure.input(z.object({ userId: z.string().min(1).max(64), role: z.enum(GLOBAL_ROLES) })).mutation(async ({ ctx, input }) => {
    if (input.userId === ctx.auth.user.id) throw new TRPCError({ code: "BAD_REQUEST", message: "You cannot change your own role." });
    const user = await ctx.db.user.findUnique({ where: { id: input.userId }, select: { role: true } });
    if (!user) throw new TRPCError({ code: "NOT_FOUND", message: "No such user." });
    await ctx.db.user.update({ where: { id: input.userId }, data: { role: input.role } });
    // Live sockets carry the role they connected with: end them, and they reconnect with the new one.
    ctx.sockets.disconnectUser(input.userId);
    await ctx.audit.record({
      action: "user.role_changed",
      actorId: ctx.auth.user.id,
      subjectType: "User",
      subjectId: input.userId,
      ip: ctx.ip,
      details: { from: user.role, to: input.role },
    });
    return { ok: true };
  }),

  /** A one-time link that sets the user's password: shown to the administrator once, only its hash is kept. */
  createPasswordResetLink: adminProcedure.input(z.object({ userId: z.string().min(1).max(64) })).mutation(async ({ ctx, input }) => {
    const user = await ctx.db.user.findUnique({ where: { id: input.userId }, select: { id: true } });
    if (!user) throw new TRPCError({ code: "NOT_FOUND", message: "No such user." });
    const reset = await createPasswordReset(ctx.db, user.id, ctx.auth.user.id);
    await ctx.audit.record({ action: "auth.password_reset_link_created", actorId: ctx.auth.user.id, subjectType: "User", subjectId: user.id, ip: ctx.ip });
    return { path: reset.path, expiresAt: reset.expiresAt };
  }),
});
