/**
 * What reconcile (reconcile.ts) reads from the database: the records a worker's containers are
 * held against. Its writes are lifecycle transitions (lifecycle.ts). Postgres in production; an
 * in-memory fake in the fast tier (tests/support/fake-store), held to the same contract
 * (tests/support/store-contract.ts).
 */
import type { EnvironmentState } from "../../generated/prisma/client";
import type { Database } from "../database/client";

export interface EnvironmentRecord {
  id: string;
  workerId: string | null;
  state: EnvironmentState;
}

export interface ReconcileStore {
  /** The records placed on this worker, and those of these environments wherever they are placed. */
  recordsFor(workerId: string, environmentIds: string[]): Promise<EnvironmentRecord[]>;
}

export class PrismaReconcileStore implements ReconcileStore {
  constructor(private readonly db: Database) {}

  recordsFor(workerId: string, environmentIds: string[]) {
    return this.db.environment.findMany({
      where: { OR: [{ workerId }, { id: { in: environmentIds } }] },
      select: { id: true, workerId: true, state: true },
    });
  }
}
