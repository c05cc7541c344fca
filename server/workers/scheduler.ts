/**
 * Which workers are alive and where a new environment goes. A worker is live when its
 * record is ONLINE and its last heartbeat is recent; placement picks the live worker with
 * the largest free share of environment slots and memory.
 */
import type { Database } from "../database/client";
import type { HeartbeatStore } from "./heartbeats";

export const HEARTBEAT_STALE_MS = 20_000;

export class NoWorkerAvailableError extends Error {
  override name = "NoWorkerAvailableError";
}

export class WorkerDirectory {
  constructor(private readonly db: Database, readonly heartbeats: HeartbeatStore) {}

  async liveIds(now = Date.now()): Promise<string[]> {
    const online = await this.db.worker.findMany({ where: { status: "ONLINE" }, select: { id: true } });
    const seen = await this.heartbeats.lastSeen(online.map((worker) => worker.id));
    return online.map((worker) => worker.id).filter((id) => (seen.get(id) ?? 0) >= now - HEARTBEAT_STALE_MS);
  }

  async isLive(workerId: string): Promise<boolean> {
    return (await this.liveIds()).includes(workerId);
  }

  /** Workers still recorded as up whose heartbeat is older than the window. */
  async staleIds(now = Date.now()): Promise<string[]> {
    const recorded = await this.db.worker.findMany({ where: { status: { in: ["ONLINE", "OFFLINE"] } }, select: { id: true } });
    const seen = await this.heartbeats.lastSeen(recorded.map((worker) => worker.id));
    return recorded.map((worker) => worker.id).filter((id) => (seen.get(id) ?? 0) < now - HEARTBEAT_STALE_MS);
  }

  /** The live worker with the most room for an environment needing `memoryBytes`. */
  async pick(memoryBytes = 0): Promise<string> {
    const liveIds = await this.liveIds();
    const workers = await this.db.worker.findMany({ where: { id: { in: liveIds } }, select: { id: true, maxEnvironments: true, memoryBytes: true } });
    const placed = await this.db.environment.findMany({
      where: { workerId: { in: liveIds }, state: { in: ["STARTING", "RUNNING"] } },
      select: { workerId: true, template: { select: { memoryMb: true } } },
    });
    const load = new Map<string, { count: number; memory: number }>();
    for (const environment of placed) {
      const entry = load.get(environment.workerId!) ?? { count: 0, memory: 0 };
      entry.count += 1;
      entry.memory += environment.template.memoryMb * 1024 * 1024;
      load.set(environment.workerId!, entry);
    }
    // Room is the smaller of the free shares of slots and memory, so neither runs out first.
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
}
