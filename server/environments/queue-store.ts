/**
 * What the admission queue (admission-queue.ts) reads and writes besides state transitions
 * (those go through lifecycle.ts), and the lock that keeps one pump pass at a time across
 * replicas. Postgres in production; an in-memory fake in the fast tier
 * (tests/support/fake-store), held to the same contract (tests/support/store-contract.ts).
 */
import type { EnvironmentTemplate } from "../../generated/prisma/client";
import type { Database } from "../database/client";

/** One arbitrary, fixed key: the pump's advisory lock (per database, so per deployment). */
const PUMP_LOCK_KEY = 0x5e11_0011;

/** A queued start, as the pump admits it. */
export interface QueuedStart {
  id: string;
  userId: string;
  /** Set for a resume: its workspace lives on this worker. */
  workerId: string | null;
  volumeName: string | null;
  template: EnvironmentTemplate;
  /** When staff ended its workshop; null while it runs. */
  courseEndedAt: Date | null;
}

export interface QueueStore {
  /** QUEUED environments any of these workers could take: unbound, or bound to one of them. */
  countAdmissible(workerIds: string[]): Promise<number>;
  /** QUEUED environments. */
  countQueued(): Promise<number>;
  /** Stamps that its page asked for its place, only while it is QUEUED: false when it is not. */
  markSeen(environmentId: string, at: Date): Promise<boolean>;
  /** When it joined the queue; null when it has no such time (or no record). */
  queuedAt(environmentId: string): Promise<Date | null>;
  /** QUEUED environments before it in the queue's order (queuedAt, then id). */
  countAhead(environmentId: string, queuedAt: Date): Promise<number>;
  /** Environments stopped since `since` (places freed). */
  countStoppedSince(since: Date): Promise<number>;
  /** QUEUED environments whose page last asked for their place before `before`. */
  abandonedBefore(before: Date): Promise<string[]>;
  /** The first `limit` QUEUED environments, in the queue's order. */
  headOfQueue(limit: number): Promise<QueuedStart[]>;
  /** Runs `pass` unless another pass (on any replica) holds the pump's lock; the lock ends with it. */
  withPumpLock(pass: () => Promise<void>): Promise<void>;
}

export class PrismaQueueStore implements QueueStore {
  constructor(private readonly db: Database) {}

  countAdmissible(workerIds: string[]) {
    return this.db.environment.count({ where: { state: "QUEUED", OR: [{ workerId: null }, { workerId: { in: workerIds } }] } });
  }

  countQueued() {
    // Cheap: the state index.
    return this.db.environment.count({ where: { state: "QUEUED" } });
  }

  async markSeen(environmentId: string, at: Date) {
    const seen = await this.db.environment.updateMany({ where: { id: environmentId, state: "QUEUED" }, data: { queueSeenAt: at } });
    return seen.count === 1;
  }

  async queuedAt(environmentId: string) {
    const entry = await this.db.environment.findUnique({ where: { id: environmentId }, select: { queuedAt: true } });
    return entry?.queuedAt ?? null;
  }

  countAhead(environmentId: string, queuedAt: Date) {
    return this.db.environment.count({
      where: { state: "QUEUED", OR: [{ queuedAt: { lt: queuedAt } }, { queuedAt, id: { lt: environmentId } }] },
    });
  }

  countStoppedSince(since: Date) {
    return this.db.environment.count({ where: { stoppedAt: { gte: since } } });
  }

  async abandonedBefore(before: Date) {
    const abandoned = await this.db.environment.findMany({ where: { state: "QUEUED", queueSeenAt: { lt: before } }, select: { id: true } });
    return abandoned.map((entry) => entry.id);
  }

  async headOfQueue(limit: number) {
    const queued = await this.db.environment.findMany({
      where: { state: "QUEUED" },
      orderBy: [{ queuedAt: "asc" }, { id: "asc" }],
      take: limit,
      select: { id: true, userId: true, workerId: true, volumeName: true, template: true, lab: { select: { course: { select: { endedAt: true } } } } },
    });
    return queued.map(({ lab, ...entry }) => ({ ...entry, courseEndedAt: lab.course.endedAt }));
  }

  /**
   * A Postgres advisory transaction lock: the queue lives in Postgres, the lock ends with its
   * transaction even if the replica dies, and a single node without Redis needs it too.
   */
  async withPumpLock(pass: () => Promise<void>) {
    await this.db.$transaction(
      async (tx) => {
        const [lock] = await tx.$queryRaw<Array<{ locked: boolean }>>`SELECT pg_try_advisory_xact_lock(${PUMP_LOCK_KEY}::bigint) AS locked`;
        if (!lock?.locked) return;
        await pass();
      },
      { maxWait: 10_000, timeout: 60_000 },
    );
  }
}
