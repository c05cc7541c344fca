/**
 * What the worker directory (scheduler.ts) reads from the database: the workers' records and
 * the environments placed on them. Postgres in production; an in-memory fake in the fast tier
 * (tests/support/fake-store), held to the same contract (tests/support/store-contract.ts).
 */
import type { EnvironmentState, WorkerScheduling } from "../../generated/prisma/client";
import type { Database } from "../database/client";
import { reservationBytesOf } from "../environments/template-spec";

/** A worker's recorded capacity: how many environments, and how much memory reservations may add up to. */
export interface WorkerCapacity {
  id: string;
  maxEnvironments: number;
  memoryBytes: number;
}

/** An environment that holds a place on a worker (STARTING or RUNNING), with its template's reservation. */
export interface PlacedEnvironment {
  workerId: string;
  state: EnvironmentState;
  memoryReservationMb: number;
}

export interface DirectoryStore {
  /** Workers recorded ONLINE. */
  onlineWorkerIds(): Promise<string[]>;
  /** Workers recorded as up (ONLINE or OFFLINE): not yet marked LOST. */
  upWorkerIds(): Promise<string[]>;
  /** The capacities of those of these workers that are recorded. */
  capacities(workerIds: string[]): Promise<WorkerCapacity[]>;
  /** STARTING and RUNNING environments on these workers (a move counts on both ends), `exceptEnvironmentId` left out (a resume). */
  placed(workerIds: string[], exceptEnvironmentId?: string): Promise<PlacedEnvironment[]>;
  /** Those of these workers that hold `image` (READY: they reported it). */
  holding(workerIds: string[], image: string): Promise<string[]>;
  /** Whether placement may choose each of these recorded workers (an administrator's cordon or drain). */
  scheduling(workerIds: string[]): Promise<Map<string, WorkerScheduling>>;
}

/** The workers among `workerIds` an environment holds a place on: its own, and during a move the one it goes to as well. */
export function placesHeld(environment: { workerId: string | null; movingToWorkerId: string | null }, workerIds: readonly string[]): string[] {
  return [...new Set([environment.workerId, environment.movingToWorkerId])].filter((id): id is string => id !== null && workerIds.includes(id));
}

export class PrismaDirectoryStore implements DirectoryStore {
  constructor(private readonly db: Database) {}

  async onlineWorkerIds() {
    const online = await this.db.worker.findMany({ where: { status: "ONLINE" }, select: { id: true } });
    return online.map((worker) => worker.id);
  }

  async upWorkerIds() {
    const recorded = await this.db.worker.findMany({ where: { status: { in: ["ONLINE", "OFFLINE"] } }, select: { id: true } });
    return recorded.map((worker) => worker.id);
  }

  async capacities(workerIds: string[]) {
    const workers = await this.db.worker.findMany({ where: { id: { in: workerIds } }, select: { id: true, maxEnvironments: true, memoryBytes: true } });
    return workers.map((worker) => ({ id: worker.id, maxEnvironments: worker.maxEnvironments, memoryBytes: Number(worker.memoryBytes) }));
  }

  async scheduling(workerIds: string[]) {
    const workers = await this.db.worker.findMany({ where: { id: { in: workerIds } }, select: { id: true, scheduling: true } });
    return new Map(workers.map((worker) => [worker.id, worker.scheduling]));
  }

  async placed(workerIds: string[], exceptEnvironmentId?: string) {
    const placed = await this.db.environment.findMany({
      where: {
        OR: [{ workerId: { in: workerIds } }, { movingToWorkerId: { in: workerIds } }],
        state: { in: ["STARTING", "RUNNING"] },
        ...(exceptEnvironmentId ? { id: { not: exceptEnvironmentId } } : {}),
      },
      select: { workerId: true, movingToWorkerId: true, state: true, template: { select: { memoryReservationMb: true, services: true } } },
    });
    return placed.flatMap((environment) =>
      placesHeld(environment, workerIds).map((workerId) => ({
        workerId,
        state: environment.state,
        // Services count with their environment (template-spec.ts).
        memoryReservationMb: reservationBytesOf(environment.template) / (1024 * 1024),
      })),
    );
  }

  async holding(workerIds: string[], image: string) {
    const held = await this.db.workerImage.findMany({ where: { workerId: { in: workerIds }, tag: image, status: "READY" }, select: { workerId: true } });
    return held.map((row) => row.workerId);
  }
}
