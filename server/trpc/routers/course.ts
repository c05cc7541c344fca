import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { CourseDetailsInput, NewCourseInput } from "../../../common/forms/courses";
import { JoinLinkSettings } from "../../../common/forms/join-links";
import { Email } from "../../../common/forms/accounts";
import { COURSE_ROLES, canChangeMemberRoles, canSeeLab, isCourseStudent } from "../../auth/access";
import { courseProgressExport } from "../../labs/progress-table";
import { AddedMember, CourseMembers, CreatedCourse, MyCourses, ProgressExport } from "../api-outputs";
import { JOIN_REFUSALS, generateJoinCode, joinStatus } from "../../courses/join-codes";
import { createCourse } from "../../courses/new-course";
import { adminProcedure, courseMemberProcedure, courseStaffProcedure, instructorProcedure, protectedProcedure, router } from "../trpc";

export const courseRouter = router({
  /** The courses the signed-in user belongs to, with the labs they may open. */
  mine: protectedProcedure
    .meta({
      scope: "read",
      openapi: { method: "GET", path: "/courses", tags: ["courses"], summary: "The courses the caller belongs to, with the labs they may open" },
    })
    .output(MyCourses)
    .query(async ({ ctx }) => {
      const memberships = await ctx.db.courseMember.findMany({
        where: { userId: ctx.auth.user.id },
        orderBy: { createdAt: "asc" },
        select: {
          role: true,
          course: {
            select: {
              id: true,
              title: true,
              description: true,
              labs: { orderBy: { position: "asc" }, select: { id: true, title: true, published: true } },
            },
          },
        },
      });
      return memberships.map(({ role, course }) => ({
        ...course,
        role,
        labs: course.labs.filter((lab) => canSeeLab(role, lab)),
      }));
    }),

  /** Every course, for administrators (who act as instructors of any course). */
  all: adminProcedure.query(({ ctx }) =>
    ctx.db.course.findMany({ orderBy: { createdAt: "desc" }, take: 1000, select: { id: true, title: true, description: true, kind: true, startsAt: true } }),
  ),

  byId: courseMemberProcedure.query(async ({ ctx }) => {
    const course = await ctx.db.course.findUniqueOrThrow({
      where: { id: ctx.course.id },
      select: {
        id: true,
        title: true,
        description: true,
        kind: true,
        startsAt: true,
        endsAt: true,
        expectedSeats: true,
        labs: { orderBy: { position: "asc" }, select: { id: true, title: true, published: true } },
      },
    });
    return { ...course, role: ctx.course.role, labs: course.labs.filter((lab) => canSeeLab(ctx.course.role, lab)) };
  }),

  create: instructorProcedure
    .meta({
      scope: "courses:write",
      openapi: { method: "POST", path: "/courses", tags: ["courses"], summary: "Create a course; the caller becomes its instructor" },
    })
    .input(NewCourseInput)
    .output(CreatedCourse)
    .mutation(async ({ ctx, input }) => {
      const course = await createCourse(ctx.db, { ...input, instructorId: ctx.auth.user.id });
      await ctx.audit.record({ action: "course.created", actorId: ctx.auth.user.id, courseId: course.id, ip: ctx.ip });
      return { id: course.id };
    }),

  update: courseStaffProcedure.input(CourseDetailsInput).mutation(async ({ ctx, input }) => {
    const { courseId: _courseId, ...fields } = input as typeof input & { courseId?: string };
    await ctx.db.course.update({ where: { id: ctx.course.id }, data: fields });
    // The session's dates and seats decide its warm pools.
    void ctx.pools.push();
    return { ok: true };
  }),

  joinLink: courseStaffProcedure.query(async ({ ctx }) => {
    const course = await ctx.db.course.findUniqueOrThrow({
      where: { id: ctx.course.id },
      select: { joinCode: true, joinEnabled: true, joinExpiresAt: true, joinSeatLimit: true, _count: { select: { members: { where: { role: "STUDENT" } } } } },
    });
    const status = joinStatus(course, course._count.members);
    return {
      code: course.joinCode,
      enabled: course.joinEnabled,
      expiresAt: course.joinExpiresAt,
      seatLimit: course.joinSeatLimit,
      seatsTaken: course._count.members,
      status,
      message: status === "open" ? null : JOIN_REFUSALS[status],
    };
  }),

  updateJoinLink: courseStaffProcedure.input(JoinLinkSettings).mutation(async ({ ctx, input }) => {
    await ctx.db.course.update({
      where: { id: ctx.course.id },
      data: { joinEnabled: input.enabled, joinExpiresAt: input.expiresAt, joinSeatLimit: input.seatLimit },
    });
    await ctx.audit.record({
      action: "course.join_link_changed",
      actorId: ctx.auth.user.id,
      courseId: ctx.course.id,
      ip: ctx.ip,
      details: { enabled: input.enabled, expiresAt: input.expiresAt?.toISOString() ?? null, seatLimit: input.seatLimit },
    });
    return { ok: true };
  }),

  /** A new code; the old link stops working at once. */
  rotateJoinLink: courseStaffProcedure.mutation(async ({ ctx }) => {
    const joinCode = generateJoinCode();
    await ctx.db.course.update({ where: { id: ctx.course.id }, data: { joinCode } });
    await ctx.audit.record({ action: "course.join_link_changed", actorId: ctx.auth.user.id, courseId: ctx.course.id, ip: ctx.ip, details: { rotated: true } });
    return { code: joinCode };
  }),

  members: courseStaffProcedure
    .meta({
      scope: "read",
      openapi: { method: "GET", path: "/courses/{courseId}/members", tags: ["members"], summary: "The course's members and their roles" },
    })
    .output(CourseMembers)
    .query(async ({ ctx }) => {
      const members = await ctx.db.courseMember.findMany({
        where: { courseId: ctx.course.id },
        orderBy: [{ role: "asc" }, { createdAt: "asc" }],
        select: { role: true, createdAt: true, user: { select: { id: true, displayName: true, email: true } } },
      });
      return members.map((member) => ({ ...member.user, role: member.role, joinedAt: member.createdAt }));
    }),

  /** Enrols an existing account by email; only instructors add staff. */
  addMember: courseStaffProcedure
    .meta({
      scope: "courses:write",
      openapi: { method: "POST", path: "/courses/{courseId}/members", tags: ["members"], summary: "Add an existing account to the course" },
    })
    .input(z.object({ email: Email, role: z.enum(COURSE_ROLES).default("STUDENT") }))
    .output(AddedMember)
    .mutation(async ({ ctx, input }) => {
      if (!isCourseStudent(input.role) && !canChangeMemberRoles(ctx.course.role)) {
        throw new TRPCError({ code: "FORBIDDEN", message: "Only the course's instructors can add instructors and assistants." });
      }
      const user = await ctx.db.user.findUnique({ where: { email: input.email }, select: { id: true } });
      if (!user) throw new TRPCError({ code: "NOT_FOUND", message: "No account uses this email: the person signs up first." });
      const existing = await ctx.db.courseMember.findUnique({
        where: { courseId_userId: { courseId: ctx.course.id, userId: user.id } },
        select: { role: true },
      });
      if (existing) return { userId: user.id, role: existing.role, created: false };
      await ctx.db.courseMember.create({ data: { courseId: ctx.course.id, userId: user.id, role: input.role } });
      await ctx.audit.record({
        action: "course.join",
        actorId: ctx.auth.user.id,
        subjectType: "User",
        subjectId: user.id,
        courseId: ctx.course.id,
        ip: ctx.ip,
      });
      if (isCourseStudent(input.role)) await ctx.webhooks.studentJoined(ctx.course.id, user.id);
      return { userId: user.id, role: input.role, created: true };
    }),

  /** Every lab's progress in one CSV (a row per student and lab). */
  progressCsv: courseStaffProcedure
    .meta({
      scope: "progress:read",
      openapi: { method: "GET", path: "/courses/{courseId}/progress", tags: ["progress"], summary: "The course's progress as CSV (students x labs)" },
    })
    .output(ProgressExport)
    .query(({ ctx }) => courseProgressExport(ctx.db, ctx.course.id)),

  setMemberRole: courseStaffProcedure.input(z.object({ userId: z.string().min(1).max(64), role: z.enum(COURSE_ROLES) })).mutation(async ({ ctx, input }) => {
    if (!canChangeMemberRoles(ctx.course.role)) throw new TRPCError({ code: "FORBIDDEN", message: "Only the course's instructors can change roles." });
    if (input.userId === ctx.auth.user.id) throw new TRPCError({ code: "BAD_REQUEST", message: "You cannot change your own role." });
    const updated = await ctx.db.courseMember.updateMany({ where: { courseId: ctx.course.id, userId: input.userId }, data: { role: input.role } });
    if (updated.count === 0) throw new TRPCError({ code: "NOT_FOUND", message: "That person is not a member of this course." });
    await ctx.audit.record({
      action: "user.role_changed",
      actorId: ctx.auth.user.id,
      subjectType: "User",
      subjectId: input.userId,
      courseId: ctx.course.id,
      ip: ctx.ip,
      details: { courseRole: input.role },
    });
    // Live connections carry the rights they were opened with (watching, the keyboard):
    // they reconnect and are authorized again under the new role.
    ctx.sockets.disconnectUser(input.userId);
    return { ok: true };
  }),
});
