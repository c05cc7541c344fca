/**
 * The loop behind pre-warming for a class: every few seconds (and at once when a preparation,
 * a course's dates or a template change) it reads the facts (sessions, seats, students already
 * started, workers' room and their pools' readiness), asks class-preparation-plan.ts for each
 * worker's pool sizes, and sends a worker its configuration when it changed. A worker that
 * connects gets the same plan. Each replica runs it; the plan is the same, so pushes agree.
 */
import type { Logger } from "../../common/logger";
import { poolKeyOf } from "../../protocol/pool-key";
import type { ConfigurePools } from "../../protocol/worker-messages";
import type { Prisma } from "../../generated/prisma/client";
import type { Database } from "../database/client";
import { containerShapeOf, reservationBytesOf } from "../environments/template-spec";
import {
  MANUAL_PREPARATION_MINUTES,
  MAX_SCHEDULED_SESSION_MINUTES,
  planPools,
  preparationStatus,
  scheduledWindow,
  type CourseToPrepare,
  type PoolShape,
  type PreparationStatus,
  type WorkerPoolRoom,
} from "./class-preparation-plan";
import { sendPoolConfiguration } from "./pool-config";
import type { WorkerDirectory } from "./scheduler";
import type { WorkerLink } from "./worker-link";

const MINUTE = 60_000;
export const DEFAULT_PREPARE_LEAD_MINUTES = 15;
/** A burst of starts is re-planned once, this long after its first. */
const NUDGE_DELAY_MS = 1000;
/** An unchanged configuration is still sent again after this long. */
const RESEND_MS = 60_000;

const courseSelect = {
  id: true,
  startsAt: true,
  endsAt: true,
  endedAt: true,
  prepareSeats: true,
  prepareUntil: true,
  expectedSeats: true,
  joinSeatLimit: true,
  members: { where: { role: "STUDENT" }, select: { userId: true } },
  labs: { where: { published: true }, select: { template: true } },
} satisfies Prisma.CourseSelect;

type TemplateRow = Awaited<ReturnType<Database["environmentTemplate"]["findMany"]>>[number];

const shapeOf = (template: TemplateRow): PoolShape => {
  const shape = containerShapeOf(template);
  return { key: poolKeyOf(shape), template: shape, warmPoolSize: template.warmPoolSize, reservationBytes: reservationBytesOf(template) };
};

/** Courses with their published labs' shapes and how many of their students started on each. */
async function coursesToPrepare(db: Database, where: Prisma.CourseWhereInput): Promise<{ courses: CourseToPrepare[]; shapes: PoolShape[] }> {
  const rows = await db.course.findMany({ where, select: courseSelect });
  if (rows.length === 0) return { courses: [], shapes: [] };
  const started = await db.environment.findMany({
    where: { state: { in: ["STARTING", "RUNNING"] }, lab: { courseId: { in: rows.map((row) => row.id) } } },
    select: { userId: true, template: true, lab: { select: { courseId: true } } },
  });
  const shapes: PoolShape[] = [];
  const courses = rows.map((row) => {
    const students = new Set(row.members.map((member) => member.userId));
    const startedByKey = new Map<string, Set<string>>();
    for (const environment of started) {
      if (environment.lab.courseId !== row.id || !students.has(environment.userId)) continue;
      const key = shapeOf(environment.template).key;
      startedByKey.set(key, (startedByKey.get(key) ?? new Set()).add(environment.userId));
    }
    const labShapes = row.labs.map((lab) => shapeOf(lab.template));
    shapes.push(...labShapes);
    return {
      id: row.id,
      startsAt: row.startsAt,
      endsAt: row.endsAt,
      endedAt: row.endedAt,
      prepareSeats: row.prepareSeats,
      prepareUntil: row.prepareUntil,
      expectedSeats: row.expectedSeats,
      joinSeatLimit: row.joinSeatLimit,
      rosterSize: students.size,
      shapes: labShapes.map((shape) => ({ key: shape.key, started: startedByKey.get(shape.key)?.size ?? 0 })),
    };
  });
  return { courses, shapes };
}

/** Shapes by key: several templates of one shape pool together, with the largest size and reservation. */
function mergeShapes(shapes: PoolShape[]): PoolShape[] {
  const merged = new Map<string, PoolShape>();
  for (const shape of shapes) {
    const known = merged.get(shape.key);
    merged.set(
      shape.key,
      known
        ? {
            ...known,
            warmPoolSize: Math.max(known.warmPoolSize, shape.warmPoolSize),
            reservationBytes: Math.max(known.reservationBytes, shape.reservationBytes),
          }
        : shape,
    );
  }
  return [...merged.values()];
}

export class ClassPreparation {
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  /** Set by stop(): no run starts after it, so none outlives the server's database. */
  private stopped = false;
  /** What each worker was last sent (JSON) and when, so an unchanged plan is not sent again (for a while). */
  private readonly sent = new Map<string, { text: string; at: number }>();
  private nudgeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database,
    private readonly workers: WorkerLink,
    private readonly directory: WorkerDirectory,
    private readonly log: Logger,
    readonly leadMinutes = DEFAULT_PREPARE_LEAD_MINUTES,
  ) {}

  start(intervalMs: number) {
    this.timer = setInterval(() => void this.refresh(), intervalMs);
    this.timer.unref();
  }

  /** Ends the timers; resolves once a run under way has finished. */
  stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.nudgeTimer);
    return this.chain;
  }

  /** An environment changed state (a student started from a pool, ...): re-plan soon, once for a burst. */
  nudge() {
    if (this.nudgeTimer) return;
    this.nudgeTimer = setTimeout(() => {
      this.nudgeTimer = undefined;
      void this.refresh();
    }, NUDGE_DELAY_MS);
    this.nudgeTimer.unref();
  }

  /** Plans and sends what changed; `force`: these workers get their configuration even if unchanged (they just connected). */
  refresh(force: string[] = []): Promise<void> {
    if (this.stopped) return this.chain;
    // One run at a time: a run reads fresh facts, so a queued one never sends a stale plan.
    const run = this.chain.then(() => this.run(force)).catch((error: Error) => this.log.error({ err: error.message }, "class preparation failed"));
    this.chain = run;
    return run;
  }

  /** The pool sizes each of these workers should keep now (live workers unless named). */
  async plan(now = new Date(), workerIds?: string[]): Promise<Map<string, ConfigurePools["pools"]>> {
    const ids = workerIds ?? (await this.directory.liveIds(now.getTime()));
    const [{ courses, shapes }, pooled, rooms, staticTemplates] = await Promise.all([
      coursesToPrepare(this.db, {
        endedAt: null,
        OR: [
          { prepareUntil: { gt: now } },
          { startsAt: { lte: new Date(now.getTime() + this.leadMinutes * MINUTE), gte: new Date(now.getTime() - MAX_SCHEDULED_SESSION_MINUTES * MINUTE) } },
        ],
      }),
      this.directory.heartbeats.pools(ids),
      this.rooms(ids),
      this.db.environmentTemplate.findMany({ where: { warmPoolSize: { gt: 0 } } }),
    ]);
    const allShapes = mergeShapes([...staticTemplates.map(shapeOf), ...shapes]);
    // A worker gets pools only of images it holds (a new host is brought them first).
    const holders = await this.directory.holdersOf(ids, [...new Set(allShapes.map((shape) => shape.template.image))]);
    for (const room of rooms) room.images = new Set([...holders].filter(([, workerIds]) => workerIds.has(room.id)).map(([image]) => image));
    return planPools({ now, leadMinutes: this.leadMinutes, courses, shapes: allShapes, workers: rooms, pooled });
  }

  /** A course's preparation and its progress, for the live room. */
  async status(courseId: string, now = new Date()): Promise<PreparationStatus> {
    const { courses } = await coursesToPrepare(this.db, { id: courseId });
    const course = courses[0];
    if (!course) throw new Error(`no course ${courseId}`);
    const live = await this.directory.liveIds(now.getTime());
    const reports = await this.directory.heartbeats.pools(live);
    const pooledReady = new Map<string, number>();
    for (const pools of reports.values()) for (const [key, ready] of pools) pooledReady.set(key, (pooledReady.get(key) ?? 0) + ready);
    const running = await this.db.environment.findMany({
      where: { state: "RUNNING", lab: { courseId }, user: { memberships: { some: { courseId, role: "STUDENT" } } } },
      distinct: ["userId"],
      select: { userId: true },
    });
    return preparationStatus(course, now, this.leadMinutes, pooledReady, running.length);
  }

  /**
   * "Prepare for N students": until the scheduled session ends when one is open or coming
   * within the lead time, else for MANUAL_PREPARATION_MINUTES. Pools follow at once.
   */
  async prepare(courseId: string, seats: number, now = new Date()): Promise<PreparationStatus> {
    const course = await this.db.course.findUniqueOrThrow({ where: { id: courseId }, select: { startsAt: true, endsAt: true } });
    const scheduled = scheduledWindow(course, this.leadMinutes);
    const until =
      scheduled && scheduled.end > now && scheduled.start!.getTime() <= now.getTime() + this.leadMinutes * MINUTE
        ? scheduled.end
        : new Date(now.getTime() + MANUAL_PREPARATION_MINUTES * MINUTE);
    await this.db.course.update({ where: { id: courseId }, data: { prepareSeats: seats, prepareUntil: until } });
    await this.refresh();
    return this.status(courseId, now);
  }

  /** "Stop preparing": the manual preparation ends; inside a scheduled window, that window is held at 0 seats until its end. */
  async stopPreparing(courseId: string, now = new Date()): Promise<PreparationStatus> {
    const course = await this.db.course.findUniqueOrThrow({ where: { id: courseId }, select: { startsAt: true, endsAt: true } });
    const scheduled = scheduledWindow(course, this.leadMinutes);
    const open = scheduled && scheduled.start! <= now && now < scheduled.end;
    await this.db.course.update({
      where: { id: courseId },
      data: open ? { prepareSeats: 0, prepareUntil: scheduled.end } : { prepareSeats: null, prepareUntil: null },
    });
    await this.refresh();
    return this.status(courseId, now);
  }

  private async run(force: string[]) {
    const now = new Date();
    const live = await this.directory.liveIds(now.getTime());
    const ids = [...new Set([...live, ...force])];
    for (const id of this.sent.keys()) if (!ids.includes(id)) this.sent.delete(id);
    const plan = await this.plan(now, ids);
    for (const workerId of ids) {
      const config: ConfigurePools = { pools: plan.get(workerId) ?? [] };
      const text = JSON.stringify(config);
      const last = this.sent.get(workerId);
      // Sent again now and then all the same: a worker's own sizes drift (a class pool shrinks as it serves).
      if (!force.includes(workerId) && last?.text === text && now.getTime() - last.at < RESEND_MS) continue;
      const reply = await sendPoolConfiguration(this.workers, workerId, config);
      if (reply.ok) this.sent.set(workerId, { text, at: now.getTime() });
      else {
        this.sent.delete(workerId);
        this.log.warn({ workerId, err: reply.error }, "could not configure warm pools");
      }
    }
  }

  /** What placement would still admit on each worker (counted by the directory, as placement counts it). */
  private async rooms(ids: string[]): Promise<WorkerPoolRoom[]> {
    return (await this.directory.rooms(ids)).map((room) => ({
      id: room.id,
      // A cordoned worker gets no pools: nothing new will be placed there.
      freeSlots: room.cordoned ? 0 : room.maxEnvironments - room.placed,
      freeBytes: room.allocatableBytes - room.reservedBytes,
      startingBytes: room.startingBytes,
      memory: room.memory,
    }));
  }
}
