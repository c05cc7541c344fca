/**
 * Pre-warming for a class, decided from facts alone (no I/O): how many warm containers each
 * live worker keeps per template shape. A session's window opens a lead time before its start
 * and closes at its end; inside it, every template shape of the course's published labs is
 * pooled for the seats not yet served (expected seats, the join link's seat limit, or the
 * roster), split across workers by room and bounded by what placement would still admit.
 * Outside every window a pool is back to its template's own warmPoolSize (the rest drains).
 * docs/OPERATIONS.md ("Preparing for a class") tells operators.
 */
import { MAX_POOL_SIZE, type ConfigurePools, type HostMemory, type PoolTemplate } from "../../protocol/worker-messages";

/** A session with a start but no end is taken to last this long. */
export const DEFAULT_SESSION_MINUTES = 120;
/** A start-to-end span longer than this is a term, not a session: it is prepared by hand only. */
export const MAX_SCHEDULED_SESSION_MINUTES = 12 * 60;
/** "Prepare for N" outside a scheduled session lasts this long. */
export const MANUAL_PREPARATION_MINUTES = 120;

const MINUTE = 60_000;

export interface CourseToPrepare {
  id: string;
  startsAt: Date | null;
  endsAt: Date | null;
  /** An ended workshop takes no new starts: nothing is prepared for it. */
  endedAt: Date | null;
  /** "Prepare for N students" from the live room, until prepareUntil. */
  prepareSeats: number | null;
  prepareUntil: Date | null;
  expectedSeats: number | null;
  joinSeatLimit: number | null;
  /** Students on the roster. */
  rosterSize: number;
  /** The pool keys of its published labs' templates, with how many of its students already have an environment STARTING or RUNNING on each. */
  shapes: Array<{ key: string; started: number }>;
}

export interface PoolShape {
  key: string;
  template: PoolTemplate;
  /** The template's own pool size per worker (the largest, when several templates share the shape). */
  warmPoolSize: number;
  /** What placement counts per environment of this shape (the largest of its templates'). */
  reservationBytes: number;
}

/** What placement would still admit on a live worker (pooled containers are not placed yet). */
export interface WorkerPoolRoom {
  id: string;
  freeSlots: number;
  freeBytes: number;
  /** Reservations of environments still STARTING (their memory may not show yet). */
  startingBytes: number;
  memory?: HostMemory;
  /** The images it holds; a shape whose image it lacks gets no pool there (absent: not considered). */
  images?: ReadonlySet<string>;
}

/** Whether the worker can start containers of the shape (it holds its image, or nobody said). */
const canHold = (worker: WorkerPoolRoom, shape: PoolShape) => !worker.images || worker.images.has(shape.template.image);

export interface PreparationWindow {
  /** Null for a window opened by hand. */
  start: Date | null;
  end: Date;
  source: "schedule" | "manual";
}

/** The scheduled window of a session (open or not), or null when it has none. */
export function scheduledWindow(course: Pick<CourseToPrepare, "startsAt" | "endsAt">, leadMinutes: number): PreparationWindow | null {
  if (!course.startsAt) return null;
  const end = course.endsAt ?? new Date(course.startsAt.getTime() + DEFAULT_SESSION_MINUTES * MINUTE);
  if (end.getTime() - course.startsAt.getTime() > MAX_SCHEDULED_SESSION_MINUTES * MINUTE) return null;
  return { start: new Date(course.startsAt.getTime() - leadMinutes * MINUTE), end, source: "schedule" };
}

/** The window in force at `now`, if any: a manual preparation wins over the schedule. */
export function activeWindow(
  course: Omit<CourseToPrepare, "shapes" | "rosterSize" | "expectedSeats" | "joinSeatLimit">,
  now: Date,
  leadMinutes: number,
): PreparationWindow | null {
  if (course.endedAt) return null;
  if (course.prepareSeats !== null && course.prepareUntil && now < course.prepareUntil) {
    return { start: null, end: course.prepareUntil, source: "manual" };
  }
  const scheduled = scheduledWindow(course, leadMinutes);
  return scheduled && scheduled.start! <= now && now < scheduled.end ? scheduled : null;
}

/** The seats a scheduled session is prepared for: expected seats, else the join link's limit, else the roster. */
export function defaultSeats(course: Pick<CourseToPrepare, "expectedSeats" | "joinSeatLimit" | "rosterSize">): number {
  return course.expectedSeats ?? course.joinSeatLimit ?? course.rosterSize;
}

/** Seats to prepare at `now` (0 outside every window). */
export function seatsAt(course: CourseToPrepare, now: Date, leadMinutes: number): number {
  const window = activeWindow(course, now, leadMinutes);
  if (!window) return 0;
  return window.source === "manual" ? course.prepareSeats! : defaultSeats(course);
}

/** Containers of `reservationBytes` placement would still admit on this worker. */
function roomFor(worker: WorkerPoolRoom, reservationBytes: number, pooledThere: number): number {
  let room = Math.min(worker.freeSlots, Math.floor(worker.freeBytes / Math.max(1, reservationBytes)));
  if (worker.memory) {
    // The host's real headroom above its floor (pooled containers already there are in it).
    const headroom = worker.memory.availableBytes - worker.startingBytes - worker.memory.floorBytes;
    room = Math.min(room, Math.floor(Math.max(0, headroom) / Math.max(1, reservationBytes)) + pooledThere);
  }
  return Math.max(0, room);
}

export interface PlanInput {
  now: Date;
  leadMinutes: number;
  courses: CourseToPrepare[];
  shapes: PoolShape[];
  workers: WorkerPoolRoom[];
  /** Ready pooled containers per worker and pool key, as last reported (for the memory bound). */
  pooled?: Map<string, Map<string, number>>;
}

/** Per live worker, the pools it should keep (shapes at size 0 are left out: the worker drains them). */
export function planPools(input: PlanInput): Map<string, ConfigurePools["pools"]> {
  const demand = new Map<string, number>();
  for (const course of input.courses) {
    const seats = seatsAt(course, input.now, input.leadMinutes);
    if (seats <= 0) continue;
    const seen = new Set<string>();
    for (const shape of course.shapes) {
      if (seen.has(shape.key)) continue;
      seen.add(shape.key);
      demand.set(shape.key, (demand.get(shape.key) ?? 0) + Math.max(0, seats - shape.started));
    }
  }

  // What is left on each worker as shapes take their share (one shape's pool uses room another's cannot).
  const left = new Map(input.workers.map((worker) => [worker.id, { ...worker }]));
  const shares = new Map<string, Map<string, number>>(input.workers.map((worker) => [worker.id, new Map()]));
  const shapes = [...input.shapes].sort((a, b) => (demand.get(b.key) ?? 0) - (demand.get(a.key) ?? 0) || a.key.localeCompare(b.key));
  for (const shape of shapes) {
    let wanted = demand.get(shape.key) ?? 0;
    const rooms = new Map(
      input.workers.map((worker) => [
        worker.id,
        canHold(worker, shape) ? roomFor(left.get(worker.id)!, shape.reservationBytes, input.pooled?.get(worker.id)?.get(shape.key) ?? 0) : 0,
      ]),
    );
    // One at a time to the worker with the most room left, as placement would place them.
    while (wanted > 0) {
      const [best] = [...rooms].filter(([, room]) => room > 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      if (!best) break;
      const [workerId] = best;
      rooms.set(workerId, best[1] - 1);
      const room = left.get(workerId)!;
      room.freeSlots -= 1;
      room.freeBytes -= shape.reservationBytes;
      shares.get(workerId)!.set(shape.key, (shares.get(workerId)!.get(shape.key) ?? 0) + 1);
      wanted -= 1;
    }
  }

  const plan = new Map<string, ConfigurePools["pools"]>();
  for (const worker of input.workers) {
    const pools: ConfigurePools["pools"] = [];
    for (const shape of [...input.shapes].sort((a, b) => a.key.localeCompare(b.key))) {
      if (!canHold(worker, shape)) continue; // its image comes first (server/images/image-sync.ts)
      const share = shares.get(worker.id)!.get(shape.key) ?? 0;
      const size = Math.min(MAX_POOL_SIZE, Math.max(shape.warmPoolSize, share));
      // Above the template's own size, a container taken is a seat served: not refilled.
      if (size > 0) pools.push({ template: shape.template, size, shrinkOnTake: share > shape.warmPoolSize });
    }
    plan.set(worker.id, pools.slice(0, 100));
  }
  return plan;
}

export interface PreparationStatus {
  /** Seats prepared for now; outside a window, what "Prepare for N" would default to. */
  seats: number;
  ready: number;
  preparing: boolean;
  /** The window in force, or the scheduled one (past or coming) when none is. */
  windowStart: Date | null;
  windowEnd: Date | null;
  source: "schedule" | "manual" | null;
  /** The session's start, when a scheduled window is shown. */
  startsAt: Date | null;
  classReady: boolean;
}

/**
 * A course's progress: ready = its students already running, plus the pooled containers
 * ready for it (the scarcest of its template shapes: every lab must be servable), at most the seats.
 */
export function preparationStatus(
  course: CourseToPrepare,
  now: Date,
  leadMinutes: number,
  pooledReady: Map<string, number>,
  runningStudents: number,
): PreparationStatus {
  const window = activeWindow(course, now, leadMinutes);
  const shown = window ?? (course.endedAt ? null : scheduledWindow(course, leadMinutes));
  const seats = window ? seatsAt(course, now, leadMinutes) : defaultSeats(course);
  const keys = [...new Set(course.shapes.map((shape) => shape.key))];
  const pooled = keys.length === 0 ? 0 : Math.min(...keys.map((key) => pooledReady.get(key) ?? 0));
  const ready = Math.min(seats, runningStudents + pooled);
  const preparing = Boolean(window) && seats > 0;
  return {
    seats,
    ready,
    preparing,
    windowStart: shown?.start ?? null,
    windowEnd: shown?.end ?? null,
    source: shown?.source ?? null,
    startsAt: shown?.source === "schedule" ? course.startsAt : null,
    classReady: preparing && ready >= seats,
  };
}
