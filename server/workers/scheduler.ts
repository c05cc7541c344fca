/**
 * Placement: a new environment goes to the live worker with the most free room.
 * A worker is live when it is ONLINE and its last heartbeat is recent.
 */
import type { Database } from "../database/client";

export const HEARTBEAT_STALE_MS = 20_000;

export class NoWorkerAvailableError extends Error {
  override name = "NoWorkerAvailableError";
}

export async function pickWorker(db: Database): Promise<string> {
  const workers = await db.worker.findMany({
    where: { status: "ONLINE", lastHeartbeatAt: { gte: new Date(Date.now() - HEARTBEAT_STALE_MS) } },
    select: {
      id: true, maxEnvironments: true,
      _count: { select: { environments: { where: { state: { in: ["STARTING", "RUNNING"] } } } } },
    },
  });
  const ranked = workers
    .map((worker) => ({ id: worker.id, free: worker.maxEnvironments - worker._count.environments }))
    .filter((worker) => worker.free > 0)
    .sort((a, b) => b.free - a.free);
  const chosen = ranked[0];
  if (!chosen) throw new NoWorkerAvailableError("No machine has room for a new environment right now. Try again in a minute, or ask your instructor.");
  return chosen.id;
}

/** Every worker that is ONLINE with a recent heartbeat. */
export async function liveWorkerIds(db: Database): Promise<string[]> {
  const workers = await db.worker.findMany({
    where: { status: "ONLINE", lastHeartbeatAt: { gte: new Date(Date.now() - HEARTBEAT_STALE_MS) } },
    select: { id: true },
  });
  return workers.map((worker) => worker.id);
}

export async function isWorkerLive(db: Database, workerId: string): Promise<boolean> {
  const worker = await db.worker.findUnique({ where: { id: workerId }, select: { status: true, lastHeartbeatAt: true } });
  return Boolean(worker && worker.status === "ONLINE" && worker.lastHeartbeatAt.getTime() >= Date.now() - HEARTBEAT_STALE_MS);
}
