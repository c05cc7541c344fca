/**
 * What the live room shows: every student of a course as a card (their environment's
 * state, last activity, step progress, CPU and memory, presence, raised hand), the
 * queue of raised hands, oldest first, and the course's students waiting in the admission
 * queue for a place, in the order they will be admitted. One read, assembled from a few queries.
 */
import type { Database } from "../database/client";
import type { RunawayReason, UsageReading, UsageStore } from "../workers/environment-usage";

export interface StudentCard {
  userId: string;
  name: string;
  email: string | null;
  online: boolean;
  hand: { id: string; note: string; raisedAt: Date } | null;
  environment: {
    id: string;
    labId: string;
    labTitle: string;
    state: string;
    stopReason: string | null;
    startedAt: Date | null;
    lastActivityAt: Date | null;
    expiresAt: Date | null;
    usage: Omit<UsageReading, "at" | "streak"> | null;
    /** At its pids or CPU limit for long enough (see environment-usage.ts): staff may end its processes. */
    runaway: { reason: RunawayReason; since: Date } | null;
  } | null;
  /** Checked steps passed in the card's lab, out of its steps that have a check. */
  progress: { passed: number; checks: number };
}

export interface RoomOverview {
  course: { id: string; title: string; kind: string; endedAt: Date | null };
  labs: Array<{ id: string; title: string; published: boolean }>;
  students: StudentCard[];
  hands: Array<{ id: string; userId: string; name: string; note: string; raisedAt: Date; environmentId: string | null }>;
  /** This course's environments waiting for a place; `position` is in the whole platform's queue (admission-queue.ts). */
  queue: Array<{ environmentId: string; userId: string; name: string; labTitle: string; position: number; queuedAt: Date }>;
}

export async function roomOverview(db: Database, usage: UsageStore, online: Set<string>, courseId: string, labId?: string): Promise<RoomOverview> {
  const course = await db.course.findUniqueOrThrow({
    where: { id: courseId },
    select: {
      id: true,
      title: true,
      kind: true,
      endedAt: true,
      labs: { orderBy: { position: "asc" }, select: { id: true, title: true, published: true, steps: { select: { id: true, checkScript: true } } } },
    },
  });
  const labIds = labId ? [labId] : course.labs.map((lab) => lab.id);
  const [members, environments, results, hands, waiting] = await Promise.all([
    db.courseMember.findMany({
      where: { courseId, role: "STUDENT" },
      orderBy: { user: { displayName: "asc" } },
      select: { user: { select: { id: true, displayName: true, email: true } } },
    }),
    db.environment.findMany({
      where: { labId: { in: labIds }, state: { not: "DELETED" } },
      // The most recently used environment of each student comes first.
      orderBy: [{ lastActivityAt: { sort: "desc", nulls: "last" } }, { startedAt: { sort: "desc", nulls: "last" } }],
      select: { id: true, userId: true, labId: true, state: true, stopReason: true, startedAt: true, lastActivityAt: true, expiresAt: true },
    }),
    db.stepResult.findMany({ where: { labId: { in: labIds }, passed: true }, select: { userId: true, labId: true } }),
    db.handRaise.findMany({
      where: { courseId, resolvedAt: null },
      orderBy: { createdAt: "asc" },
      select: { id: true, userId: true, labId: true, note: true, createdAt: true, user: { select: { displayName: true } } },
    }),
    // The whole queue, in order: a course's students' positions count everyone ahead of them.
    db.environment.findMany({
      where: { state: "QUEUED", queuedAt: { not: null } },
      orderBy: [{ queuedAt: "asc" }, { id: "asc" }],
      select: { id: true, userId: true, labId: true, queuedAt: true, user: { select: { displayName: true } } },
    }),
  ]);

  const labsById = new Map(course.labs.map((lab) => [lab.id, lab]));
  const environmentOf = new Map<string, (typeof environments)[number]>();
  for (const environment of environments) if (!environmentOf.has(environment.userId)) environmentOf.set(environment.userId, environment);
  const readings = await usage.read(environments.filter((environment) => environment.state === "RUNNING").map((environment) => environment.id));
  const passedCount = new Map<string, number>();
  for (const result of results) passedCount.set(`${result.userId}/${result.labId}`, (passedCount.get(`${result.userId}/${result.labId}`) ?? 0) + 1);
  const handOf = new Map(hands.map((hand) => [hand.userId, hand]));

  const students = members.map(({ user }): StudentCard => {
    const environment = environmentOf.get(user.id);
    const cardLabId = environment?.labId ?? labId ?? course.labs.find((lab) => lab.published)?.id;
    const lab = cardLabId ? labsById.get(cardLabId) : undefined;
    const hand = handOf.get(user.id);
    const reading = environment ? readings.get(environment.id) : undefined;
    return {
      userId: user.id,
      name: user.displayName,
      email: user.email,
      online: online.has(user.id),
      hand: hand ? { id: hand.id, note: hand.note, raisedAt: hand.createdAt } : null,
      environment: environment
        ? {
            id: environment.id,
            labId: environment.labId,
            labTitle: labsById.get(environment.labId)?.title ?? "",
            state: environment.state,
            stopReason: environment.stopReason,
            startedAt: environment.startedAt,
            lastActivityAt: environment.lastActivityAt,
            expiresAt: environment.expiresAt,
            usage: reading
              ? {
                  cpuPercent: reading.cpuPercent,
                  memoryBytes: reading.memoryBytes,
                  memoryLimitBytes: reading.memoryLimitBytes,
                  pids: reading.pids ?? 0,
                  pidsLimit: reading.pidsLimit ?? 0,
                  cpuLimitPercent: reading.cpuLimitPercent ?? 0,
                }
              : null,
            runaway: reading?.streak?.runaway ? { reason: reading.streak.reason, since: new Date(reading.streak.since) } : null,
          }
        : null,
      progress: {
        passed: lab ? (passedCount.get(`${user.id}/${lab.id}`) ?? 0) : 0,
        checks: lab ? lab.steps.filter((step) => step.checkScript).length : 0,
      },
    };
  });

  return {
    course: { id: course.id, title: course.title, kind: course.kind, endedAt: course.endedAt },
    labs: course.labs.map(({ id, title, published }) => ({ id, title, published })),
    students,
    hands: hands.map((hand) => ({
      id: hand.id,
      userId: hand.userId,
      name: hand.user.displayName,
      note: hand.note,
      raisedAt: hand.createdAt,
      environmentId: environments.find((environment) => environment.userId === hand.userId && (!hand.labId || environment.labId === hand.labId))?.id ?? null,
    })),
    queue: waiting.flatMap((entry, index) =>
      labIds.includes(entry.labId)
        ? [
            {
              environmentId: entry.id,
              userId: entry.userId,
              name: entry.user.displayName,
              labTitle: labsById.get(entry.labId)?.title ?? "",
              position: index + 1,
              queuedAt: entry.queuedAt!,
            },
          ]
        : [],
    ),
  };
}
