import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { blankSessionCookie } from "../../auth/cookies";
import { hashPassword, verifyPassword } from "../../auth/passwords";
import { passwordResetUsable, usePasswordReset } from "../../auth/password-reset";
import {
  RESET_ATTEMPTS_PER_ADDRESS,
  RESET_MAILS_PER_ACCOUNT,
  RESET_MAILS_PER_ADDRESS,
  SIGN_IN_FAILURES_PER_ACCOUNT,
  SIGN_IN_FAILURES_PER_ACCOUNT_AND_ADDRESS,
  SIGN_IN_FAILURES_PER_ADDRESS,
  SIGN_UP_PER_ADDRESS,
} from "../../auth/rate-limit";
import { invalidateAllSessions, invalidateSession } from "../../auth/sessions";
import { startSession as startSessionCookie } from "../../auth/start-session";
import { CredentialsInput, PasswordResetInput, PasswordResetRequestInput, PasswordResetToken, SignInInput, SignUpInput } from "../../../common/forms/accounts";
import { enforceRateLimit, enforceRateLimits, protectedProcedure, publicProcedure, router, type Context } from "../trpc";

// Verified against when the email is unknown, so both paths take an argon2 verify's time
// and response times do not reveal which emails have accounts.
let decoyHash: Promise<string> | undefined;
const decoy = () => (decoyHash ??= hashPassword(crypto.randomUUID()));

async function startSession(ctx: Context, userId: string) {
  ctx.res.appendHeader("Set-Cookie", await startSessionCookie(ctx.db, userId, ctx.secureCookies));
}

export const authRouter = router({
  /** What the sign-in page offers besides a password: single sign-on providers, reset by email. */
  signInOptions: publicProcedure.query(({ ctx }) => ({
    providers: ctx.accounts.providers,
    passwordResetByEmail: Boolean(ctx.accounts.mailPasswordReset),
  })),

  /** Mails a reset link if the email has an account; answers the same either way. */
  requestPasswordReset: publicProcedure.input(PasswordResetRequestInput).mutation(async ({ ctx, input }) => {
    const { mailPasswordReset } = ctx.accounts;
    if (!mailPasswordReset)
      throw new TRPCError({ code: "PRECONDITION_FAILED", message: "Resetting by email is not available here. Ask an administrator for a reset link." });
    await enforceRateLimits(ctx, [
      [RESET_MAILS_PER_ADDRESS, ctx.ip],
      [RESET_MAILS_PER_ACCOUNT, input.email],
    ]);
    // The mutation's Origin was checked against the site's, so it is this site's address.
    const baseUrl = (ctx.accounts.publicUrl ?? ctx.req.headers.origin ?? "").replace(/\/$/, "");
    mailPasswordReset(input.email, baseUrl);
    return { ok: true };
  }),

  passwordResetStatus: publicProcedure.input(z.object({ token: PasswordResetToken })).query(async ({ ctx, input }) => ({
    usable: await passwordResetUsable(ctx.db, input.token),
  })),

  /** Sets a new password through a one-time link; every session of the account ends. */
  resetPassword: publicProcedure.input(PasswordResetInput).mutation(async ({ ctx, input }) => {
    await enforceRateLimit(ctx, RESET_ATTEMPTS_PER_ADDRESS, ctx.ip);
    const userId = await usePasswordReset(ctx.db, input.token, await hashPassword(input.password));
    if (!userId) throw new TRPCError({ code: "BAD_REQUEST", message: "This reset link has expired or was used already. Ask for a new one." });
    ctx.sockets.disconnectUser(userId);
    await ctx.audit.record({ action: "auth.password_reset", actorId: userId, ip: ctx.ip });
    return { ok: true };
  }),

  me: publicProcedure.query(({ ctx }) => {
    if (!ctx.auth) return null;
    return ctx.db.user
      .findUnique({
        where: { id: ctx.auth.user.id },
        select: { id: true, displayName: true, email: true, role: true, passwordHash: true },
      })
      .then((user) => user && { id: user.id, displayName: user.displayName, email: user.email, role: user.role, hasPassword: user.passwordHash !== null });
  }),

  signUp: publicProcedure.input(SignUpInput).mutation(async ({ ctx, input }) => {
    await enforceRateLimit(ctx, SIGN_UP_PER_ADDRESS, ctx.ip);
    if (await ctx.db.user.findUnique({ where: { email: input.email } })) {
      throw new TRPCError({ code: "CONFLICT", message: "An account with this email exists already. Sign in instead." });
    }
    const user = await ctx.db.user.create({
      data: { displayName: input.displayName, email: input.email, passwordHash: await hashPassword(input.password) },
    });
    await ctx.audit.record({ action: "auth.sign_up", actorId: user.id, ip: ctx.ip });
    await startSession(ctx, user.id);
    return { id: user.id, displayName: user.displayName, role: user.role };
  }),

  signIn: publicProcedure.input(SignInInput).mutation(async ({ ctx, input }) => {
    // Counted before the password is checked, so parallel guesses cannot slip past the limit.
    const accountAndAddress = [SIGN_IN_FAILURES_PER_ACCOUNT_AND_ADDRESS, `${input.email} ${ctx.ip}`] as const;
    const wide = [
      [SIGN_IN_FAILURES_PER_ACCOUNT, input.email],
      [SIGN_IN_FAILURES_PER_ADDRESS, ctx.ip],
    ] as const;
    await enforceRateLimits(ctx, [accountAndAddress, ...wide]);
    const user = await ctx.db.user.findUnique({ where: { email: input.email } });
    const valid = await verifyPassword(user?.passwordHash ?? (await decoy()), input.password);
    if (!user || !user.passwordHash || !valid) {
      await ctx.audit.record({ action: "auth.sign_in_failed", actorId: user?.id, ip: ctx.ip });
      throw new TRPCError({ code: "UNAUTHORIZED", message: "That email and password do not match an account." });
    }
    // Only failures count: the owner's success clears this address's failures and gives the attempt back.
    await ctx.rateLimiter.reset(...accountAndAddress);
    await Promise.all(wide.map(([rule, key]) => ctx.rateLimiter.refund(rule, key)));
    await startSession(ctx, user.id);
    await ctx.audit.record({ action: "auth.sign_in", actorId: user.id, ip: ctx.ip });
    return { id: user.id, displayName: user.displayName, role: user.role };
  }),

  signOut: protectedProcedure.mutation(async ({ ctx }) => {
    await invalidateSession(ctx.db, ctx.auth.session.id);
    ctx.sockets.disconnectSession(ctx.auth.session.id);
    ctx.res.appendHeader("Set-Cookie", blankSessionCookie(ctx.secureCookies));
    return { ok: true };
  }),

  signOutEverywhere: protectedProcedure.mutation(async ({ ctx }) => {
    await invalidateAllSessions(ctx.db, ctx.auth.user.id);
    ctx.sockets.disconnectUser(ctx.auth.user.id);
    await ctx.audit.record({ action: "auth.sign_out_everywhere", actorId: ctx.auth.user.id, ip: ctx.ip });
    ctx.res.appendHeader("Set-Cookie", blankSessionCookie(ctx.secureCookies));
    return { ok: true };
  }),

  /** A workshop student keeps the account by adding an email and password. */
  setCredentials: protectedProcedure.input(CredentialsInput).mutation(async ({ ctx, input }) => {
    const user = await ctx.db.user.findUniqueOrThrow({ where: { id: ctx.auth.user.id } });
    if (user.passwordHash && !(await verifyPassword(user.passwordHash, input.currentPassword ?? ""))) {
      throw new TRPCError({ code: "UNAUTHORIZED", message: "Your current password is not right." });
    }
    const taken = await ctx.db.user.findUnique({ where: { email: input.email } });
    if (taken && taken.id !== user.id) throw new TRPCError({ code: "CONFLICT", message: "Another account uses this email." });
    await ctx.db.user.update({ where: { id: user.id }, data: { email: input.email, passwordHash: await hashPassword(input.password) } });
    // Other browsers signed in as this user lose their sessions and their live terminals; this one stays.
    await ctx.db.authSession.deleteMany({ where: { userId: user.id, id: { not: ctx.auth.session.id } } });
    ctx.sockets.disconnectOtherSessions(user.id, ctx.auth.session.id);
    await ctx.audit.record({ action: "auth.password_set", actorId: user.id, ip: ctx.ip });
    return { ok: true };
  }),
});
