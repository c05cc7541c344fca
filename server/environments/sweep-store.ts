/**
 * What the lifecycle sweep (lifecycle-sweeper.ts) reads and writes besides state transitions
 * (those go through lifecycle.ts). Postgres in production; an in-memory fake in the fast tier
 * (tests/support/fake-store), held to the same contract (tests/support/store-contract.ts).
 */
import type { EnvironmentState } from "../../generated/prisma/client";
import type { Database } from "../database/client";

export interface IdleCandidate {
  id: string;
  lastActivityAt: Date;
  /** Its template's idle timeout. */
  idleTimeoutMinutes: number;
}

export interface EndingEnvironment {
  id: string;
  expiresAt: Date;
  warnedAt: Date | null;
}

export interface SweepStore {
  /** Records the worker as LOST: it stopped heartbeating. */
  markWorkerLost(workerId: string): Promise<void>;
  /** The worker's environments holding a place on it (STARTING or RUNNING). */
  placedOn(workerId: string): Promise<Array<{ id: string; state: EnvironmentState }>>;
  /** RUNNING environments that recorded activity, with their template's idle timeout. */
  runningWithActivity(): Promise<IdleCandidate[]>;
  /** RUNNING environments whose lifetime ends by `by`. */
  runningEndingBy(by: Date): Promise<EndingEnvironment[]>;
  /**
   * Records that the environment's student was warned, unless that was recorded already: true
   * for the one caller that recorded it (a compare-and-set: of two sweeps at once, one warns).
   */
  claimLifetimeWarning(environmentId: string, at: Date): Promise<boolean>;
}

export class PrismaSweepStore implements SweepStore {
  constructor(private readonly db: Database) {}

  async markWorkerLost(workerId: string) {
    await this.db.worker.update({ where: { id: workerId }, data: { status: "LOST" } });
  }

  placedOn(workerId: string) {
    return this.db.environment.findMany({
      where: { workerId, state: { in: ["RUNNING", "STARTING"] } },
      select: { id: true, state: true },
    });
  }

  async runningWithActivity() {
    const running = await this.db.environment.findMany({
      where: { state: "RUNNING", lastActivityAt: { not: null } },
      select: { id: true, lastActivityAt: true, template: { select: { idleTimeoutMinutes: true } } },
    });
    // lastActivityAt is set: the query matched on it.
    return running.map((environment) => ({
      id: environment.id,
      lastActivityAt: environment.lastActivityAt!,
      idleTimeoutMinutes: environment.template.idleTimeoutMinutes,
    }));
  }

  async runningEndingBy(by: Date) {
    const ending = await this.db.environment.findMany({
      where: { state: "RUNNING", expiresAt: { lte: by } },
      select: { id: true, expiresAt: true, warnedAt: true },
    });
    // expiresAt is set: the query matched on it.
    return ending.map((environment) => ({ id: environment.id, expiresAt: environment.expiresAt!, warnedAt: environment.warnedAt }));
  }

  async claimLifetimeWarning(environmentId: string, at: Date) {
    const claimed = await this.db.environment.updateMany({ where: { id: environmentId, warnedAt: null }, data: { warnedAt: at } });
    return claimed.count === 1;
  }
}
