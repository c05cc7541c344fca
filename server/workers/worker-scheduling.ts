/**
 * An administrator's say over where environments go: cordon a worker (nothing new is placed
 * there), drain it (also move each of its environments, workspace included, at its next start),
 * or open it again. The admin page and `npm run admin -- worker ...` both come here; placement
 * reads the result (scheduler.ts).
 */
import type { WorkerScheduling } from "../../generated/prisma/client";
import type { Database } from "../database/client";

export const WORKER_SCHEDULINGS = ["OPEN", "CORDONED", "DRAINING"] as const satisfies readonly WorkerScheduling[];

export class NoSuchWorkerError extends Error {
  override name = "NoSuchWorkerError";
}

/** Sets a worker's scheduling; what it was before. */
export async function setWorkerScheduling(db: Database, workerId: string, scheduling: WorkerScheduling): Promise<{ from: WorkerScheduling }> {
  const worker = await db.worker.findUnique({ where: { id: workerId }, select: { scheduling: true } });
  if (!worker) throw new NoSuchWorkerError(`No worker ${workerId} is recorded.`);
  await db.worker.update({ where: { id: workerId }, data: { scheduling } });
  return { from: worker.scheduling };
}

/** Every recorded worker with what an operator decides on: status, scheduling, load, and environments still on it. */
export async function workerOverview(db: Database) {
  const [workers, onWorkers] = await Promise.all([
    db.worker.findMany({
      orderBy: { id: "asc" },
      select: { id: true, name: true, status: true, scheduling: true, maxEnvironments: true, runningEnvironments: true, lastHeartbeatAt: true },
    }),
    // What still lives there (running or a kept workspace): what a drain has left to move.
    db.environment.groupBy({ by: ["workerId"], where: { workerId: { not: null } }, _count: { _all: true } }),
  ]);
  const held = new Map(onWorkers.map((row) => [row.workerId, row._count._all]));
  return workers.map((worker) => ({ ...worker, environments: held.get(worker.id) ?? 0 }));
}
