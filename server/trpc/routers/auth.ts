import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { blankSessionCookie, sessionCookie } from "../../auth/cookies";
import { hashPassword, verifyPassword } from "../../auth/passwords";
import { createSession, generateSessionToken, invalidateAllSessions, invalidateSession } from "../../auth/sessions";
import { protectedProcedure, publicProcedure, router } from "../trpc";

// Verified against when the email is unknown, so both paths take an argon2 verify's time
// and response times do not reveal which emails have accounts.
let decoyHash: Promise<string> | undefined;
const decoy = () => (decoyHash ??= hashPassword(crypto.randomUUID()));

export const authRouter = router({
  me: publicProcedure.query(({ ctx }) => ctx.auth?.user ?? null),

  signIn: publicProcedure
    .input(z.object({ email: z.email("Enter an email address").max(254), password: z.string().min(1, "Enter your password").max(256) }))
    .mutation(async ({ ctx, input }) => {
      const user = await ctx.db.user.findUnique({ where: { email: input.email.toLowerCase() } });
      const valid = await verifyPassword(user?.passwordHash ?? (await decoy()), input.password);
      if (!user || !user.passwordHash || !valid) {
        throw new TRPCError({ code: "UNAUTHORIZED", message: "That email and password do not match an account." });
      }
      const token = generateSessionToken();
      const session = await createSession(ctx.db, token, user.id);
      ctx.res.appendHeader("Set-Cookie", sessionCookie(token, session.expiresAt, ctx.secureCookies));
      return { id: user.id, displayName: user.displayName, role: user.role };
    }),

  signOut: protectedProcedure.mutation(async ({ ctx }) => {
    await invalidateSession(ctx.db, ctx.auth.session.id);
    ctx.res.appendHeader("Set-Cookie", blankSessionCookie(ctx.secureCookies));
    return { ok: true };
  }),

  signOutEverywhere: protectedProcedure.mutation(async ({ ctx }) => {
    await invalidateAllSessions(ctx.db, ctx.auth.user.id);
    ctx.res.appendHeader("Set-Cookie", blankSessionCookie(ctx.secureCookies));
    return { ok: true };
  }),
});
