/**
 * Where a new environment goes, decided from facts alone (no I/O): the unit of the capacity
 * model. Placement counts each environment's memory reservation, not its limit: limits are
 * overcommitted (an idle shell uses a few MiB of its 512 MiB cap), reservations are not. Real
 * use is the check beside it: a host whose available memory would drop below its floor takes
 * nothing new, whatever the reservations say. docs/OPERATIONS.md (Capacity) tells operators.
 */
import type { HostMemory } from "../../protocol/worker-messages";

/** Why nothing was placed; the UI and the admission queue decide on this, never on the words. */
export type PlacementRefusal = "NO_LIVE_WORKER" | "NO_ROOM" | "MEMORY_PRESSURE" | "NO_IMAGE";

/** Refusals that pass by themselves as environments end: a start may wait in the admission queue for these. */
export const refusalMayWait = (code: PlacementRefusal) => code === "NO_ROOM" || code === "MEMORY_PRESSURE";

export interface WorkerRoom {
  id: string;
  maxEnvironments: number;
  /** What reservations may add up to on this worker (its capacity's memoryBytes). */
  allocatableBytes: number;
  /** STARTING and RUNNING environments placed on it. */
  placed: number;
  /** Their reservations, summed. */
  reservedBytes: number;
  /** The reservations of those still STARTING: their memory may not show in `memory` yet. */
  startingBytes: number;
  /** The host's memory from its last heartbeat; absent when it reported none (reservations decide alone). */
  memory?: HostMemory;
  /** Whether it holds the template's image (READY); absent: placement was not asked about an image. */
  holdsImage?: boolean;
  /** Warm containers ready for the template's shape there: a start taking one skips the cold start. */
  warm?: number;
  /** An administrator cordoned or is draining it: no new environment goes there. */
  cordoned?: boolean;
}

export type PlacementDecision = { ok: true; workerId: string } | { ok: false; code: PlacementRefusal; message: string; details: string[] };

export const REFUSAL_MESSAGES: Record<PlacementRefusal, string> = {
  NO_LIVE_WORKER: "No machine is available to run environments right now. Try again in a few minutes, or ask your instructor.",
  NO_ROOM: "No machine has room for a new environment right now. Try again in a minute, or ask your instructor.",
  MEMORY_PRESSURE: "No machine has room for a new environment right now: they are short of memory. Try again in a minute, or ask your instructor.",
  NO_IMAGE:
    "This environment's image is not on any machine that is running right now (it is being copied to them). Try again in a few minutes, or ask your instructor.",
};

const MIB = 1024 * 1024;
const mib = (bytes: number) => `${Math.round(bytes / MIB)} MiB`;

type Verdict = { id: string; room: number; refusal: "NO_ROOM" | "MEMORY_PRESSURE" | null; detail: string };

function judge(worker: WorkerRoom, reservationBytes: number): Verdict {
  const freeSlots = worker.maxEnvironments - worker.placed;
  const freeBytes = worker.allocatableBytes - worker.reservedBytes;
  // Room is the smaller of the free shares of slots and reservable memory, so neither runs out first.
  const room = Math.min(freeSlots / worker.maxEnvironments, freeBytes / worker.allocatableBytes);
  if (worker.cordoned) return { id: worker.id, room, refusal: "NO_ROOM", detail: `${worker.id}: cordoned` };
  if (freeSlots <= 0) return { id: worker.id, room, refusal: "NO_ROOM", detail: `${worker.id}: all ${worker.maxEnvironments} places taken` };
  if (freeBytes < reservationBytes) {
    return {
      id: worker.id,
      room,
      refusal: "NO_ROOM",
      detail: `${worker.id}: ${mib(worker.reservedBytes)} of ${mib(worker.allocatableBytes)} reserved, ${mib(reservationBytes)} asked`,
    };
  }
  const memory = worker.memory;
  if (memory) {
    // What is available once the starts in flight and this one take their reservations.
    const after = memory.availableBytes - worker.startingBytes - reservationBytes;
    if (after < memory.floorBytes) {
      return {
        id: worker.id,
        room,
        refusal: "MEMORY_PRESSURE",
        detail: `${worker.id}: ${mib(memory.availableBytes)} available (${mib(worker.startingBytes)} of it promised to starts), floor ${mib(memory.floorBytes)}`,
      };
    }
  }
  return { id: worker.id, room, refusal: null, detail: `${worker.id}: room` };
}

/**
 * The live worker for an environment reserving `reservationBytes`, or why there is none. Only
 * a worker holding the template's image can start it; of those with room, one with warm
 * containers for the template comes first (its start is instant), then the most room.
 */
export function decidePlacement(liveWorkers: WorkerRoom[], reservationBytes: number): PlacementDecision {
  if (liveWorkers.length === 0) return { ok: false, code: "NO_LIVE_WORKER", message: REFUSAL_MESSAGES.NO_LIVE_WORKER, details: [] };
  const withImage = liveWorkers.filter((worker) => worker.holdsImage !== false);
  const lacking = liveWorkers.filter((worker) => worker.holdsImage === false).map((worker) => `${worker.id}: does not hold the image (yet)`);
  if (withImage.length === 0) return { ok: false, code: "NO_IMAGE", message: REFUSAL_MESSAGES.NO_IMAGE, details: lacking };
  const warm = new Map(withImage.map((worker) => [worker.id, (worker.warm ?? 0) > 0 ? 1 : 0]));
  const verdicts = withImage.map((worker) => judge(worker, reservationBytes));
  const chosen = verdicts
    .filter((verdict) => verdict.refusal === null)
    .sort((a, b) => warm.get(b.id)! - warm.get(a.id)! || b.room - a.room || a.id.localeCompare(b.id))[0];
  if (chosen) return { ok: true, workerId: chosen.id };
  // Pressure passes (memory comes back as programs end); say so when it is what stands in the way somewhere.
  const code = verdicts.some((verdict) => verdict.refusal === "MEMORY_PRESSURE") ? "MEMORY_PRESSURE" : "NO_ROOM";
  return { ok: false, code, message: REFUSAL_MESSAGES[code], details: [...verdicts.map((verdict) => verdict.detail), ...lacking] };
}
