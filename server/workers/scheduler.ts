/**
 * Which workers are alive and where a new environment goes. A worker is live when its
 * record is ONLINE and its last heartbeat is recent; placement (placement.ts) picks the live
 * worker with the largest free share of slots and reservable memory that is not short of memory.
 */
import type { DirectoryStore } from "./directory-store";
import type { HeartbeatStore } from "./heartbeats";
import { decidePlacement, type PlacementRefusal, type WorkerRoom } from "./placement";

const MIB = 1024 * 1024;

export const HEARTBEAT_STALE_MS = 20_000;

/** Nothing could be placed: `code` says why (the UI and the admission queue decide on it). */
export class PlacementRefusedError extends Error {
  override name = "PlacementRefusedError";
  /** `details`: each worker's reason, for the log (staff and operators, not students). */
  constructor(
    readonly code: PlacementRefusal,
    message: string,
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

/** What one placement asks for: a reservation, and for a resume the worker that holds the workspace. */
export interface PlacementRequest {
  reservationBytes: number;
  /** Only this worker will do (the workspace volume lives there). */
  workerId?: string;
  /** Not counted as placed already (a resume of this environment). */
  environmentId?: string;
  /** Only a worker holding this image (READY) can start it. */
  image?: string;
  /** The template's warm-pool key (protocol/pool-key.ts): workers with ready containers for it come first. */
  poolKey?: string;
}

export class WorkerDirectory {
  constructor(
    private readonly store: DirectoryStore,
    readonly heartbeats: HeartbeatStore,
  ) {}

  async liveIds(now = Date.now()): Promise<string[]> {
    const online = await this.store.onlineWorkerIds();
    const seen = await this.heartbeats.lastSeen(online);
    return online.filter((id) => (seen.get(id) ?? 0) >= now - HEARTBEAT_STALE_MS);
  }

  async isLive(workerId: string): Promise<boolean> {
    return (await this.liveIds()).includes(workerId);
  }

  /** Whether an administrator is draining this worker: its environments move at their next start. */
  async isDraining(workerId: string): Promise<boolean> {
    return (await this.store.scheduling([workerId])).get(workerId) === "DRAINING";
  }

  /** Workers still recorded as up whose heartbeat is older than the window. */
  async staleIds(now = Date.now()): Promise<string[]> {
    const recorded = await this.store.upWorkerIds();
    const seen = await this.heartbeats.lastSeen(recorded);
    return recorded.filter((id) => (seen.get(id) ?? 0) < now - HEARTBEAT_STALE_MS);
  }

  /**
   * What each of these workers holds now, as placement counts it: STARTING and RUNNING
   * environments and their reservations (`exceptEnvironmentId` left out: a resume), and the
   * host memory of its last heartbeat. Placement and class preparation both read rooms here.
   */
  async rooms(workerIds: string[], exceptEnvironmentId?: string): Promise<WorkerRoom[]> {
    const [workers, placed, memory, scheduling] = await Promise.all([
      this.store.capacities(workerIds),
      this.store.placed(workerIds, exceptEnvironmentId),
      this.heartbeats.memory(workerIds),
      this.store.scheduling(workerIds),
    ]);
    const rooms = new Map<string, WorkerRoom>(
      workers.map((worker) => [
        worker.id,
        {
          id: worker.id,
          maxEnvironments: worker.maxEnvironments,
          allocatableBytes: worker.memoryBytes,
          placed: 0,
          reservedBytes: 0,
          startingBytes: 0,
          memory: memory.get(worker.id),
          cordoned: (scheduling.get(worker.id) ?? "OPEN") !== "OPEN",
        },
      ]),
    );
    for (const environment of placed) {
      const room = rooms.get(environment.workerId);
      if (!room) continue;
      const reservation = environment.memoryReservationMb * MIB;
      room.placed += 1;
      room.reservedBytes += reservation;
      if (environment.state === "STARTING") room.startingBytes += reservation;
    }
    return [...rooms.values()];
  }

  /** For each image, those of these workers that hold it (READY). */
  async holdersOf(workerIds: string[], images: string[]): Promise<Map<string, Set<string>>> {
    return new Map(await Promise.all(images.map(async (image) => [image, new Set(await this.store.holding(workerIds, image))] as const)));
  }

  /**
   * The live worker with the most room for the request (see placement.ts: reservations must
   * fit and the host must not be short of memory), or a PlacementRefusedError saying why not.
   */
  async pick(request: PlacementRequest): Promise<string> {
    const live = (await this.liveIds()).filter((id) => !request.workerId || id === request.workerId);
    const rooms = await this.rooms(live, request.environmentId);
    if (request.image) {
      const holders = new Set(await this.store.holding(live, request.image));
      for (const room of rooms) room.holdsImage = holders.has(room.id);
    }
    if (request.poolKey) {
      const pools = await this.heartbeats.pools(live);
      for (const room of rooms) room.warm = pools.get(room.id)?.get(request.poolKey) ?? 0;
    }
    // A cordon keeps new environments away; one bound to its workspace's worker still goes there.
    if (request.workerId) for (const room of rooms) room.cordoned = false;
    const decision = decidePlacement(rooms, request.reservationBytes);
    if (decision.ok) return decision.workerId;
    throw new PlacementRefusedError(decision.code, decision.message, decision.details);
  }
}
