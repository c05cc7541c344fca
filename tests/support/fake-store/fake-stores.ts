/**
 * The rule modules' stores over FakeTables, honouring the contract the Prisma stores do
 * (tests/support/store-contract.ts; run on both): the same filters, and compare-and-set writes
 * that match only the values read. Each call is atomic, as one SQL statement is.
 */
import type { EnvironmentState } from "../../../generated/prisma/client";
import { guardedUpdate, type EnvironmentStateStore, type Transition } from "../../../server/environments/lifecycle";
import type { QueueStore, QueuedStart } from "../../../server/environments/queue-store";
import type { EndingEnvironment, IdleCandidate, SweepStore } from "../../../server/environments/sweep-store";
import { placesHeld, type DirectoryStore, type PlacedEnvironment, type WorkerCapacity } from "../../../server/workers/directory-store";
import type { EnvironmentRecord, ReconcileStore } from "../../../server/workers/reconcile-store";
import { copyOf, type FakeEnvironment, type FakeTables } from "./fake-tables";

const placed = (state: EnvironmentState) => state === "STARTING" || state === "RUNNING";

/** Plain equality, as SQL compares a column to a value (dates by their time). */
function sameValue(column: unknown, value: unknown): boolean {
  if (value instanceof Date) return column instanceof Date && column.getTime() === value.getTime();
  if (value !== null && typeof value === "object") throw new Error(`fake store: a condition it does not know: ${JSON.stringify(value)}`);
  return column === value;
}

/** Every condition holds; one left undefined is no condition (as in Prisma). */
function matches(row: FakeEnvironment, where: Record<string, unknown>): boolean {
  return Object.entries(where).every(([key, value]) => value === undefined || sameValue(row[key as keyof FakeEnvironment], value));
}

export class FakeEnvironmentStates implements EnvironmentStateStore {
  constructor(private readonly tables: FakeTables) {}

  async writeIfStill(environmentId: string, from: EnvironmentState, transition: Transition) {
    // The same guarded write Postgres is given; here it is applied to the row in memory.
    const update = guardedUpdate(environmentId, from, transition);
    const row = this.tables.environments.get(environmentId);
    if (!row || !matches(row, update.where)) return false;
    for (const [key, value] of Object.entries(update.data)) {
      if (value === undefined) continue;
      if (value !== null && typeof value === "object" && !(value instanceof Date)) throw new Error(`fake store: a write it does not know: ${key}`);
      Object.assign(row, { [key]: value instanceof Date ? new Date(value) : value });
    }
    return true;
  }

  async stateOf(environmentId: string) {
    return this.tables.environments.get(environmentId)?.state ?? null;
  }
}

export class FakeDirectoryStore implements DirectoryStore {
  constructor(private readonly tables: FakeTables) {}

  async onlineWorkerIds() {
    return [...this.tables.workers.values()].filter((worker) => worker.status === "ONLINE").map((worker) => worker.id);
  }

  async upWorkerIds() {
    return [...this.tables.workers.values()].filter((worker) => worker.status === "ONLINE" || worker.status === "OFFLINE").map((worker) => worker.id);
  }

  async capacities(workerIds: string[]): Promise<WorkerCapacity[]> {
    return [...this.tables.workers.values()]
      .filter((worker) => workerIds.includes(worker.id))
      .map((worker) => ({ id: worker.id, maxEnvironments: worker.maxEnvironments, memoryBytes: worker.memoryBytes }));
  }

  async scheduling(workerIds: string[]) {
    return new Map([...this.tables.workers.values()].filter((worker) => workerIds.includes(worker.id)).map((worker) => [worker.id, worker.scheduling]));
  }

  async placed(workerIds: string[], exceptEnvironmentId?: string): Promise<PlacedEnvironment[]> {
    return [...this.tables.environments.values()]
      .filter((row) => placed(row.state) && row.id !== exceptEnvironmentId)
      .flatMap((row) =>
        placesHeld(row, workerIds).map((workerId) => ({ workerId, state: row.state, memoryReservationMb: this.tables.templateOf(row).memoryReservationMb })),
      );
  }

  async holding(workerIds: string[], image: string) {
    return [...this.tables.workers.values()].filter((worker) => workerIds.includes(worker.id) && worker.images.includes(image)).map((worker) => worker.id);
  }
}

export class FakeReconcileStore implements ReconcileStore {
  constructor(private readonly tables: FakeTables) {}

  async recordsFor(workerId: string, environmentIds: string[]): Promise<EnvironmentRecord[]> {
    return [...this.tables.environments.values()]
      .filter((row) => row.workerId === workerId || environmentIds.includes(row.id))
      .map((row) => ({ id: row.id, workerId: row.workerId, state: row.state }));
  }
}

export class FakeSweepStore implements SweepStore {
  constructor(private readonly tables: FakeTables) {}

  async markWorkerLost(workerId: string) {
    const worker = this.tables.workers.get(workerId);
    // As Prisma's update: a record that is not there is an error.
    if (!worker) throw new Error(`fake store: no worker ${workerId}`);
    worker.status = "LOST";
  }

  async placedOn(workerId: string) {
    return [...this.tables.environments.values()]
      .filter((row) => row.workerId === workerId && placed(row.state))
      .map((row) => ({ id: row.id, state: row.state }));
  }

  async runningWithActivity(): Promise<IdleCandidate[]> {
    return [...this.tables.environments.values()]
      .filter((row) => row.state === "RUNNING" && row.lastActivityAt !== null)
      .map((row) => ({ id: row.id, lastActivityAt: new Date(row.lastActivityAt!), idleTimeoutMinutes: this.tables.templateOf(row).idleTimeoutMinutes }));
  }

  async runningEndingBy(by: Date): Promise<EndingEnvironment[]> {
    return [...this.tables.environments.values()]
      .filter((row) => row.state === "RUNNING" && row.expiresAt !== null && row.expiresAt.getTime() <= by.getTime())
      .map((row) => ({ id: row.id, expiresAt: new Date(row.expiresAt!), warnedAt: row.warnedAt && new Date(row.warnedAt) }));
  }

  async claimLifetimeWarning(environmentId: string, at: Date) {
    const row = this.tables.environments.get(environmentId);
    if (!row || row.warnedAt !== null) return false;
    row.warnedAt = new Date(at);
    return true;
  }
}

/** The queue's order: first queued first, the id breaking a tie (as `ORDER BY queuedAt, id`). */
function inQueueOrder(a: FakeEnvironment, b: FakeEnvironment) {
  return a.queuedAt!.getTime() - b.queuedAt!.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export class FakeQueueStore implements QueueStore {
  constructor(private readonly tables: FakeTables) {}

  private queued() {
    return [...this.tables.environments.values()].filter((row) => row.state === "QUEUED");
  }

  async countAdmissible(workerIds: string[]) {
    return this.queued().filter((row) => row.workerId === null || workerIds.includes(row.workerId)).length;
  }

  async countQueued() {
    return this.queued().length;
  }

  async markSeen(environmentId: string, at: Date) {
    const row = this.tables.environments.get(environmentId);
    if (row?.state !== "QUEUED") return false;
    row.queueSeenAt = new Date(at);
    return true;
  }

  async queuedAt(environmentId: string) {
    const queuedAt = this.tables.environments.get(environmentId)?.queuedAt;
    return queuedAt ? new Date(queuedAt) : null;
  }

  async countAhead(environmentId: string, queuedAt: Date) {
    // As SQL: a row without queuedAt compares to nothing.
    return this.queued().filter(
      (row) =>
        row.queuedAt !== null && (row.queuedAt.getTime() < queuedAt.getTime() || (row.queuedAt.getTime() === queuedAt.getTime() && row.id < environmentId)),
    ).length;
  }

  async countStoppedSince(since: Date) {
    return [...this.tables.environments.values()].filter((row) => row.stoppedAt !== null && row.stoppedAt.getTime() >= since.getTime()).length;
  }

  async abandonedBefore(before: Date) {
    return this.queued()
      .filter((row) => row.queueSeenAt !== null && row.queueSeenAt.getTime() < before.getTime())
      .map((row) => row.id);
  }

  async headOfQueue(limit: number): Promise<QueuedStart[]> {
    // Postgres sorts a missing queuedAt last (NULLS LAST for ascending order).
    const withTime = this.queued().filter((row) => row.queuedAt !== null);
    const withoutTime = this.queued()
      .filter((row) => row.queuedAt === null)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return [...withTime.sort(inQueueOrder), ...withoutTime].slice(0, limit).map((row) => ({
      id: row.id,
      userId: row.userId,
      workerId: row.workerId,
      volumeName: row.volumeName,
      template: copyOf(this.tables.templateOf(row)),
      courseEndedAt: copyOf({ at: this.tables.labOf(row).courseEndedAt }).at,
    }));
  }

  async withPumpLock(pass: () => Promise<void>) {
    // Taken or not at once, as pg_try_advisory_xact_lock is; released when the pass ends, however it ends.
    if (this.tables.pumpLockHeld) return;
    this.tables.pumpLockHeld = true;
    try {
      await pass();
    } finally {
      this.tables.pumpLockHeld = false;
    }
  }
}

/** Every store over one set of tables, as the server has them over one database. */
export function fakeStores(tables: FakeTables) {
  return {
    states: new FakeEnvironmentStates(tables),
    directory: new FakeDirectoryStore(tables),
    reconcile: new FakeReconcileStore(tables),
    sweep: new FakeSweepStore(tables),
    queue: new FakeQueueStore(tables),
  };
}
