/**
 * JiffyLab-style workshop join: open the link, type a name, get a terminal. No password;
 * the session cookie brings the same browser back to the same student.
 */
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { sessionCookie } from "../../auth/cookies";
import { JOIN_PER_ADDRESS } from "../../auth/rate-limit";
import { createSession, generateSessionToken } from "../../auth/sessions";
import { JOIN_REFUSALS, joinStatus } from "../../courses/join-codes";
import type { Database } from "../../database/client";
import { JoinCode, JoinInput } from "../../../common/forms/join-links";
import { enforceRateLimit, publicProcedure, router } from "../trpc";

const UNKNOWN_CODE = "This join link does not exist. Check it with your instructor.";

async function courseByCode(db: Database, code: string) {
  const course = await db.course.findUnique({
    where: { joinCode: code },
    select: {
      id: true,
      title: true,
      description: true,
      joinEnabled: true,
      joinExpiresAt: true,
      joinSeatLimit: true,
      labs: { where: { published: true }, orderBy: { position: "asc" }, take: 1, select: { id: true } },
      _count: { select: { members: { where: { role: "STUDENT" } } } },
    },
  });
  if (!course) throw new TRPCError({ code: "NOT_FOUND", message: UNKNOWN_CODE });
  return course;
}

export const joinRouter = router({
  preview: publicProcedure.input(z.object({ code: JoinCode })).query(async ({ ctx, input }) => {
    const course = await courseByCode(ctx.db, input.code);
    const member = ctx.auth ? await ctx.db.courseMember.findUnique({ where: { courseId_userId: { courseId: course.id, userId: ctx.auth.user.id } } }) : null;
    const status = joinStatus(course, course._count.members);
    return {
      courseTitle: course.title,
      description: course.description,
      status,
      message: status === "open" ? null : JOIN_REFUSALS[status],
      alreadyMember: Boolean(member),
      firstLabId: course.labs[0]?.id ?? null,
      signedInAs: ctx.auth?.user.displayName ?? null,
    };
  }),

  join: publicProcedure.input(JoinInput).mutation(async ({ ctx, input }) => {
    await enforceRateLimit(ctx, JOIN_PER_ADDRESS, ctx.ip);
    const course = await courseByCode(ctx.db, input.code);
    const firstLabId = course.labs[0]?.id ?? null;

    // The same browser coming back: already a member, nothing to create.
    if (ctx.auth) {
      const member = await ctx.db.courseMember.findUnique({ where: { courseId_userId: { courseId: course.id, userId: ctx.auth.user.id } } });
      if (member) return { courseId: course.id, firstLabId };
    }
    const status = joinStatus(course, course._count.members);
    if (status !== "open") throw new TRPCError({ code: "FORBIDDEN", message: JOIN_REFUSALS[status] });
    if (input.email && !ctx.auth && (await ctx.db.user.findUnique({ where: { email: input.email } }))) {
      throw new TRPCError({ code: "CONFLICT", message: "An account with this email exists already: sign in first, then open the link again." });
    }

    const displayName = input.displayName;
    if (!ctx.auth && !displayName) {
      throw new TRPCError({ code: "BAD_REQUEST", message: "Enter a name others will see." });
    }
    const userId = await ctx.db.$transaction(async (tx) => {
      // Re-count inside the transaction so a full workshop is not overfilled by a burst.
      if (course.joinSeatLimit !== null) {
        const seated = await tx.courseMember.count({ where: { courseId: course.id, role: "STUDENT" } });
        if (seated >= course.joinSeatLimit) throw new TRPCError({ code: "FORBIDDEN", message: JOIN_REFUSALS.full });
      }
      const id = ctx.auth?.user.id ?? (await tx.user.create({ data: { displayName: displayName!, email: input.email ?? null } })).id;
      await tx.courseMember.create({ data: { courseId: course.id, userId: id, role: "STUDENT" } });
      return id;
    });
    if (!ctx.auth) {
      const token = generateSessionToken();
      const session = await createSession(ctx.db, token, userId);
      ctx.res.appendHeader("Set-Cookie", sessionCookie(token, session.expiresAt, ctx.secureCookies));
    }
    await ctx.audit.record({ action: "course.join", actorId: userId, courseId: course.id, ip: ctx.ip });
    await ctx.webhooks.studentJoined(course.id, userId);
    return { courseId: course.id, firstLabId };
  }),
});
