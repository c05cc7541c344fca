/**
 * The instructor's live room for a course or workshop, and the student's side of it
 * (raising a hand). Staff act on one student or on everyone at once; every change nudges
 * the staff who have the room open.
 */
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { EntityId } from "../../../protocol/ids";
import { BroadcastInput, ExtendMinutes, PrepareInput, RaiseHandInput } from "../../../common/forms/live-room";
import { storeBroadcast } from "../../live/course-broadcasts";
import { roomOverview } from "../../live/room-overview";
import { courseStaffProcedure, labMemberProcedure, router, type Context } from "../trpc";

const ENDED_NOTICE = "The workshop has ended: your environment was stopped. Your files are kept.";
const STOPPED_NOTICE = "Your instructor stopped this environment. Your files are kept.";

/** Environments of the course's labs in these states, named by their student (for progress and failures). */
async function environmentsInCourse(db: Context["db"], courseId: string, states: Array<"RUNNING" | "STARTING" | "QUEUED">) {
  const environments = await db.environment.findMany({
    where: { state: { in: states }, lab: { courseId } },
    orderBy: { user: { displayName: "asc" } },
    select: { id: true, userId: true, labId: true, user: { select: { displayName: true } } },
  });
  return environments.map((environment) => ({
    environmentId: environment.id,
    name: environment.user.displayName,
    userId: environment.userId,
    labId: environment.labId,
  }));
}

/** What a bulk action's request returns at once: its id and how many it will act on; progress follows on the room's socket. */
const started = (progress: { id: string; total: number }) => ({ actionId: progress.id, total: progress.total });

export const liveRouter = router({
  overview: courseStaffProcedure.input(z.object({ labId: EntityId.optional() })).query(async ({ ctx, input }) => {
    if (input.labId && !(await ctx.db.lab.count({ where: { id: input.labId, courseId: ctx.course.id } }))) {
      throw new TRPCError({ code: "NOT_FOUND", message: "No such lab in this course." });
    }
    const [online, bulk] = await Promise.all([ctx.live.onlineUsers(ctx.course.id), ctx.bulk.latest(ctx.course.id)]);
    return { ...(await roomOverview(ctx.db, ctx.usage, online, ctx.course.id, input.labId)), bulk };
  }),

  /** Warm pools for the class: seats, how many are ready (pooled or already running), and the window. */
  preparation: courseStaffProcedure.query(({ ctx }) => ctx.pools.status(ctx.course.id)),

  /** "Prepare for N students": the course's pools fill to N now (bounded by capacity), until the session ends. */
  prepare: courseStaffProcedure.input(PrepareInput).mutation(async ({ ctx, input }) => {
    const status = await ctx.pools.prepare(ctx.course.id, input.seats);
    await ctx.audit.record({ action: "course.prepare", actorId: ctx.auth.user.id, courseId: ctx.course.id, details: { seats: input.seats } });
    ctx.live.changed(ctx.course.id);
    return status;
  }),

  /** Ends a preparation (the pools drain back to their templates' own sizes). */
  stopPreparing: courseStaffProcedure.mutation(async ({ ctx }) => {
    const status = await ctx.pools.stopPreparing(ctx.course.id);
    ctx.live.changed(ctx.course.id);
    return status;
  }),

  /** A message to every student of the course, shown above their terminal. */
  broadcast: courseStaffProcedure.input(BroadcastInput).mutation(async ({ ctx, input }) => {
    // Stored first: a student who connects later still gets it (see course-broadcasts.ts).
    const broadcast = await storeBroadcast(ctx.db, {
      courseId: ctx.course.id,
      authorId: ctx.auth.user.id,
      fromName: ctx.auth.user.displayName,
      message: input.message,
    });
    ctx.live.broadcast(broadcast);
    await ctx.audit.record({
      action: "course.broadcast",
      actorId: ctx.auth.user.id,
      courseId: ctx.course.id,
      details: { message: input.message.slice(0, 200) },
    });
    return { id: broadcast.id, at: broadcast.at };
  }),

  /** Staff answered a raised hand. */
  resolveHand: courseStaffProcedure.input(z.object({ handId: EntityId })).mutation(async ({ ctx, input }) => {
    const { count } = await ctx.db.handRaise.updateMany({
      where: { id: input.handId, courseId: ctx.course.id, resolvedAt: null },
      data: { resolvedAt: new Date() },
    });
    if (count === 0) throw new TRPCError({ code: "NOT_FOUND", message: "That hand is already lowered." });
    ctx.live.changed(ctx.course.id);
    return { resolved: true };
  }),

  /** Stops every running environment of the course (files kept); those waiting in the admission queue leave it. */
  stopAll: courseStaffProcedure.mutation(async ({ ctx }) =>
    started(
      await ctx.bulk.begin(ctx.course.id, "stop", {
        prepare: () => environmentsInCourse(ctx.db, ctx.course.id, ["RUNNING", "STARTING", "QUEUED"]),
        act: (target) => ctx.environments.stopById(target.environmentId, "STAFF", STOPPED_NOTICE),
      }),
    ),
  ),

  /** More time for every running environment of the course. */
  extendAll: courseStaffProcedure.input(z.object({ minutes: ExtendMinutes })).mutation(async ({ ctx, input }) =>
    started(
      await ctx.bulk.begin(ctx.course.id, "extend", {
        prepare: () => environmentsInCourse(ctx.db, ctx.course.id, ["RUNNING", "STARTING"]),
        act: (target) => ctx.environments.extend(target.environmentId, input.minutes),
      }),
    ),
  ),

  /** Ends every process of a runaway environment (a fork bomb): its container restarts, files kept. */
  killProcesses: courseStaffProcedure
    .input(z.object({ environmentId: EntityId }))
    .mutation(({ ctx, input }) => ctx.runaway.killProcesses({ courseId: ctx.course.id, environmentId: input.environmentId, actorId: ctx.auth.user.id })),

  /** A fresh container for one student's environment, keeping their files. */
  reset: courseStaffProcedure.input(z.object({ environmentId: EntityId })).mutation(async ({ ctx, input }) => {
    const environment = await ctx.db.environment.findFirst({
      where: { id: input.environmentId, lab: { courseId: ctx.course.id } },
      select: { userId: true, labId: true },
    });
    if (!environment) throw new TRPCError({ code: "NOT_FOUND", message: "No such environment in this course." });
    const result = await ctx.environments.reset(environment.userId, environment.labId, false);
    ctx.live.changed(ctx.course.id);
    return result;
  }),

  /** Fresh containers for every running environment of the course, keeping files. */
  resetAll: courseStaffProcedure.mutation(async ({ ctx }) =>
    started(
      await ctx.bulk.begin(ctx.course.id, "reset", {
        prepare: () => environmentsInCourse(ctx.db, ctx.course.id, ["RUNNING"]),
        act: (target) => ctx.environments.reset(target.userId, target.labId, false),
      }),
    ),
  ),

  /** Ends the workshop: everything stops (workspaces kept) and nobody can start until it is reopened. */
  endWorkshop: courseStaffProcedure.mutation(async ({ ctx }) => {
    const actorId = ctx.auth.user.id;
    return started(
      await ctx.bulk.begin(ctx.course.id, "end", {
        prepare: async () => {
          // Ended before anything stops: no new start slips in while the stops run.
          await ctx.db.course.update({ where: { id: ctx.course.id }, data: { endedAt: new Date() } });
          void ctx.pools.push(); // its pools drain now rather than at the next round
          await ctx.db.handRaise.updateMany({ where: { courseId: ctx.course.id, resolvedAt: null }, data: { resolvedAt: new Date() } });
          ctx.live.changed(ctx.course.id);
          return environmentsInCourse(ctx.db, ctx.course.id, ["RUNNING", "STARTING", "QUEUED"]);
        },
        act: (target) => ctx.environments.stopById(target.environmentId, "STAFF", ENDED_NOTICE),
        after: (progress) =>
          ctx.audit.record({
            action: "course.workshop_ended",
            actorId,
            courseId: ctx.course.id,
            details: { stopped: progress.done, failed: progress.failed.length },
          }),
      }),
    );
  }),

  reopenWorkshop: courseStaffProcedure.mutation(async ({ ctx }) => {
    // Reopened while its end is still stopping environments, some would stop after students started again.
    const latest = await ctx.bulk.latest(ctx.course.id);
    if (latest && latest.kind === "end" && !latest.finished) {
      throw new TRPCError({ code: "CONFLICT", message: "The workshop is still being ended: wait until every environment has stopped, then reopen it." });
    }
    await ctx.db.course.update({ where: { id: ctx.course.id }, data: { endedAt: null } });
    void ctx.pools.push();
    await ctx.audit.record({ action: "course.workshop_reopened", actorId: ctx.auth.user.id, courseId: ctx.course.id });
    ctx.live.changed(ctx.course.id);
    return { reopened: true };
  }),

  /** The signed-in student's open hand in the lab's course, if any. */
  myHand: labMemberProcedure.query(({ ctx }) =>
    ctx.db.handRaise.findFirst({
      where: { courseId: ctx.lab.courseId, userId: ctx.auth.user.id, resolvedAt: null },
      select: { id: true, note: true, createdAt: true },
    }),
  ),

  /** A student asks for help; raising again updates the note but keeps their place. */
  raiseHand: labMemberProcedure.input(RaiseHandInput).mutation(async ({ ctx, input }) => {
    const where = { courseId: ctx.lab.courseId, userId: ctx.auth.user.id, resolvedAt: null };
    const select = { id: true, note: true, createdAt: true } as const;
    const update = () => ctx.db.handRaise.update({ where: { id: open!.id }, data: { note: input.note, labId: ctx.lab.id }, select });
    let open = await ctx.db.handRaise.findFirst({ where, select: { id: true } });
    let hand;
    if (open) hand = await update();
    else {
      try {
        hand = await ctx.db.handRaise.create({ data: { courseId: ctx.lab.courseId, userId: ctx.auth.user.id, labId: ctx.lab.id, note: input.note }, select });
      } catch (error) {
        // Raised twice at once: the database keeps one open hand (a partial unique index).
        if ((error as { code?: string }).code !== "P2002") throw error;
        open = await ctx.db.handRaise.findFirstOrThrow({ where, select: { id: true } });
        hand = await update();
      }
    }
    ctx.live.changed(ctx.lab.courseId);
    return hand;
  }),

  lowerHand: labMemberProcedure.mutation(async ({ ctx }) => {
    await ctx.db.handRaise.updateMany({ where: { courseId: ctx.lab.courseId, userId: ctx.auth.user.id, resolvedAt: null }, data: { resolvedAt: new Date() } });
    ctx.live.changed(ctx.lab.courseId);
    return { lowered: true };
  }),
});
