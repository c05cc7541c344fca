/**
 * Placement: a new environment goes to the live worker with the most free room.
 * A worker is live when it is ONLINE and its last heartbeat is recent.
 */
import type { Database } from "../database/client";

export const HEARTBEAT_STALE_MS = 20_000;

export class NoWorkerAvailableError extends Error {
  override name = "NoWorkerAvailableError";
}

/**
 * The live worker with the most room for an environment needing `memoryBytes`: room is the
 * smaller of its free share of environment slots and of memory, so neither runs out first.
 */
export async function pickWorker(db: Database, memoryBytes = 0): Promise<string> {
  const workers = await db.worker.findMany({
    where: { status: "ONLINE", lastHeartbeatAt: { gte: new Date(Date.now() - HEARTBEAT_STALE_MS) } },
    select: { id: true, maxEnvironments: true, memoryBytes: true },
  });
  const placed = await db.environment.findMany({
    where: { workerId: { in: workers.map((worker) => worker.id) }, state: { in: ["STARTING", "RUNNING"] } },
    select: { workerId: true, template: { select: { memoryMb: true } } },
  });
  const load = new Map<string, { count: number; memory: number }>();
  for (const environment of placed) {
    const entry = load.get(environment.workerId!) ?? { count: 0, memory: 0 };
    entry.count += 1;
    entry.memory += environment.template.memoryMb * 1024 * 1024;
    load.set(environment.workerId!, entry);
  }
  const ranked = workers
    .map((worker) => {
      const used = load.get(worker.id) ?? { count: 0, memory: 0 };
      const freeSlots = worker.maxEnvironments - used.count;
      const freeMemory = Number(worker.memoryBytes) - used.memory;
      const room = Math.min(freeSlots / worker.maxEnvironments, freeMemory / Number(worker.memoryBytes));
      return { id: worker.id, room, fits: freeSlots > 0 && freeMemory >= memoryBytes };
    })
    .filter((worker) => worker.fits)
    .sort((a, b) => b.room - a.room || a.id.localeCompare(b.id));
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
