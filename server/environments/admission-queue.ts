/**
 * The admission queue: a start that placement refuses for want of room (NO_ROOM,
 * MEMORY_PRESSURE) waits in QUEUED instead of failing, and the server admits it when a place
 * frees, first come first served. This module owns the queue: who enters it, the order, a
 * waiting student's position and estimate, the pump that admits, and who leaves it.
 *
 * Admission is server-driven: a pump pass walks the queue in order and admits while placement
 * says yes (a compare-and-set QUEUED -> STARTING with the start claim, then the start is sent
 * through the service's one start path). It runs when a place frees (the lifecycle's change
 * event), when a start is queued, and on a timer (other replicas' frees, a safety net).
 * One pass at a time across replicas: the store's pump lock (in Postgres an advisory
 * transaction lock, queue-store.ts). The compare-and-set still admits each entry once.
 */
import type { Logger } from "../../common/logger";
import type { EnvironmentState, EnvironmentTemplate } from "../../generated/prisma/client";
import { PlacementRefusedError, type WorkerDirectory } from "../workers/scheduler";
import { placementNeedsOf } from "./template-spec";
import type { EnvironmentChange, EnvironmentLifecycle, StopReason } from "./lifecycle";
import type { QueueStore } from "./queue-store";

/** The recent window the estimate measures places freeing in. */
export const ESTIMATE_WINDOW_MS = 5 * 60_000;
/** How many recent start durations the typical start time is taken from. */
const START_SAMPLES = 50;
/** Entries one pass looks at: the head of a long queue is what matters. */
const PASS_LIMIT = 200;

export interface AdmissionQueueOptions {
  /** A queued entry whose page has not asked for its place this long leaves the queue. */
  abandonAfterMs: number;
  /** How often the pump runs regardless of events. */
  pumpIntervalMs: number;
}
export const DEFAULT_ADMISSION_QUEUE: AdmissionQueueOptions = { abandonAfterMs: 60_000, pumpIntervalMs: 1500 };

/** What a queued student is told. */
export interface QueuePlace {
  position: number;
  /** Seconds until running, from measured facts; null when there is nothing to measure from yet. */
  estimateSeconds: number | null;
}

export interface QueuedEntry {
  id: string;
  queuedAt: Date;
  /** Set for a resume: its workspace lives on this worker, so only this worker will do. */
  workerId: string | null;
}

/** The queue's order: first queued first, the id breaking a tie (pure). */
export function queueOrder(a: QueuedEntry, b: QueuedEntry): number {
  return a.queuedAt.getTime() - b.queuedAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** 1 + the entries queued before this one (pure). */
export function positionOf(entries: readonly QueuedEntry[], entry: QueuedEntry): number {
  return 1 + entries.filter((other) => other.id !== entry.id && queueOrder(other, entry) < 0).length;
}

/** An entry that can be admitted somewhere: any worker will do, or its own worker is live (pure). */
export function admissible(entry: Pick<QueuedEntry, "workerId">, liveWorkerIds: ReadonlySet<string>): boolean {
  return entry.workerId === null || liveWorkerIds.has(entry.workerId);
}

/**
 * Seconds until a student at `position` runs (pure): the places ahead of them free at the rate
 * places freed in the recent window, then their start takes a typical start's time. Null when
 * nothing freed in the window or no start was measured: there is nothing to estimate from.
 */
export function estimateWaitSeconds(facts: { position: number; freedInWindow: number; windowMs: number; typicalStartSeconds: number | null }): number | null {
  if (facts.freedInWindow <= 0 || facts.typicalStartSeconds === null) return null;
  const freedPerSecond = facts.freedInWindow / (facts.windowMs / 1000);
  return Math.ceil(facts.position / freedPerSecond + facts.typicalStartSeconds);
}

/** The median of the most recent start durations (pure apart from its own samples). */
export class RecentStarts {
  private readonly samples: number[] = [];
  record(seconds: number) {
    this.samples.push(seconds);
    if (this.samples.length > START_SAMPLES) this.samples.shift();
  }
  typicalSeconds(): number | null {
    if (this.samples.length === 0) return null;
    const sorted = [...this.samples].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  }
}

/** A change that frees a place: an environment leaving STARTING or RUNNING for anything else (pure). */
export function freesPlace(change: Pick<EnvironmentChange, "from" | "to">): boolean {
  const placed = (state: EnvironmentState) => state === "STARTING" || state === "RUNNING";
  return placed(change.from) && !placed(change.to);
}

/** What the queue needs from the environment service: its one start path, and today's answer to an offline workspace. */
export interface AdmissionHooks {
  /**
   * Sends the start of an environment the pump just claimed (the service's own start path). When
   * `workerId` is not the entry's own (a resume leaving a draining worker), the record still names
   * the old one and the start path moves the workspace first.
   */
  sendStart(
    entry: { id: string; userId: string; volumeName: string | null; workerId: string | null; template: EnvironmentTemplate },
    workerId: string,
  ): Promise<unknown>;
  /** Whether a resume bound to this worker leaves it at its start (an administrator is draining it and workspaces can move). */
  movesOff?(workerId: string): Promise<boolean>;
  /** A queued resume whose workspace's worker is not live: interrupted, as a direct start would be. */
  workspaceOffline(environmentId: string, from: EnvironmentState): Promise<unknown>;
}

export class AdmissionQueue {
  readonly starts = new RecentStarts();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private pass: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly store: QueueStore,
    private readonly directory: Pick<WorkerDirectory, "liveIds" | "pick">,
    private readonly lifecycle: EnvironmentLifecycle,
    private readonly hooks: AdmissionHooks,
    private readonly log: Logger,
    readonly options: AdmissionQueueOptions = DEFAULT_ADMISSION_QUEUE,
  ) {}

  /** Pumps when a place frees and on the timer, until `stop`. */
  start() {
    this.unsubscribe ??= this.lifecycle.onChange((change) => {
      if (freesPlace(change)) void this.pump();
    });
    this.timer ??= setInterval(() => void this.pump(), this.options.pumpIntervalMs);
    this.timer.unref();
  }

  async stop() {
    clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.again = false;
    await this.pass;
  }

  /** True when someone admissible is waiting: a new start queues behind them (no overtaking). */
  async anyoneWaiting(): Promise<boolean> {
    const live = await this.directory.liveIds();
    if (live.length === 0) return false; // nothing can be admitted: the start is refused as before
    return (await this.store.countAdmissible(live)) > 0;
  }

  /** Puts the environment at the back of the queue; false when it was no longer in `from` (another caller moved it). */
  async enqueue(environment: { id: string; state: EnvironmentState }): Promise<boolean> {
    const now = new Date();
    const change = await this.lifecycle.transition(environment.id, environment.state, {
      to: "QUEUED",
      data: { queuedAt: now, queueSeenAt: now, error: null, startClaimedAt: null },
    });
    if (change) this.log.info({ environmentId: environment.id }, "start queued: no room now");
    return change !== null;
  }

  /** A queued environment's place (the page asked: the entry is still wanted); null when it is not queued. */
  async place(environmentId: string): Promise<QueuePlace | null> {
    const now = new Date();
    // Seen only while still queued: the stamp never lands on an environment that moved on.
    if (!(await this.store.markSeen(environmentId, now))) return null;
    const queuedAt = await this.store.queuedAt(environmentId);
    if (!queuedAt) return null;
    const [ahead, freedInWindow] = await Promise.all([
      this.store.countAhead(environmentId, queuedAt),
      // Places freed: environments stopped lately (a queue entry leaving sets no stoppedAt: it held no place).
      this.store.countStoppedSince(new Date(now.getTime() - ESTIMATE_WINDOW_MS)),
    ]);
    const position = ahead + 1;
    return {
      position,
      estimateSeconds: estimateWaitSeconds({ position, freedInWindow, windowMs: ESTIMATE_WINDOW_MS, typicalStartSeconds: this.starts.typicalSeconds() }),
    };
  }

  /** Takes a queued environment out of the queue (its student left, or staff); false when it was admitted meanwhile. */
  async leave(environmentId: string, reason: StopReason): Promise<boolean> {
    const change = await this.lifecycle.transition(environmentId, "QUEUED", {
      to: "STOPPED",
      reason,
      data: { queuedAt: null, queueSeenAt: null },
    });
    if (change) this.log.info({ environmentId, reason }, "left the admission queue");
    return change !== null;
  }

  /**
   * One pump pass, or a note to run another when one is under way here (so no event is lost
   * while a pass runs). Resolves when this process's passes are done.
   */
  pump(): Promise<void> {
    if (this.pass) {
      this.again = true;
      return this.pass;
    }
    this.pass = (async () => {
      try {
        do {
          this.again = false;
          await this.lockedPass().catch((error: Error) => this.log.error({ err: error.message }, "admission queue pass failed"));
        } while (this.again);
      } finally {
        this.pass = undefined;
      }
    })();
    return this.pass;
  }

  /** A pass under the advisory lock; another replica's pass under way makes this one a no-op. */
  private async lockedPass() {
    // The timer's usual case, cheaply (the state index): nobody waits, no lock is taken.
    if ((await this.store.countQueued()) === 0) return;
    await this.store.withPumpLock(async () => {
      await this.dropAbandoned(new Date());
      await this.admit();
    });
  }

  /** A worker other than the entry's own with room for it, or null (then it starts where its files are, as before the drain). */
  private async elsewhere(entry: { id: string; template: EnvironmentTemplate }): Promise<string | null> {
    try {
      return await this.directory.pick({ ...placementNeedsOf(entry.template), environmentId: entry.id });
    } catch (error) {
      if (error instanceof PlacementRefusedError) return null;
      throw error;
    }
  }

  /** Entries whose page stopped asking for their place leave the queue (the page was closed). */
  private async dropAbandoned(now: Date) {
    for (const id of await this.store.abandonedBefore(new Date(now.getTime() - this.options.abandonAfterMs))) await this.leave(id, "LEFT_QUEUE");
  }

  /**
   * Admits in order while placement says yes. Strict first come: when the head cannot be
   * placed, nobody behind it is admitted. A resume bound to its workspace's worker that is full
   * only holds back others bound to that worker; one bound to a worker that is not live is
   * interrupted (as a direct start would be) and holds back nobody.
   */
  private async admit() {
    const queued = await this.store.headOfQueue(PASS_LIMIT);
    if (queued.length === 0) return;
    const live = new Set(await this.directory.liveIds());
    // Asked once per worker per pass, not once per queued entry bound to it (a class waits on few workers).
    const movesOff = new Map<string, Promise<boolean>>();
    const leavesWorker = (workerId: string) => {
      if (!movesOff.has(workerId)) movesOff.set(workerId, this.hooks.movesOff?.(workerId) ?? Promise.resolve(false));
      return movesOff.get(workerId)!;
    };
    const fullWorkers = new Set<string>();
    for (const entry of queued) {
      // Its workshop ended while it waited (ending takes the queued out too; this catches one queued meanwhile).
      if (entry.courseEndedAt) {
        await this.leave(entry.id, "STAFF");
        continue;
      }
      if (!admissible(entry, live)) {
        await this.hooks.workspaceOffline(entry.id, "QUEUED");
        continue;
      }
      if (entry.workerId && fullWorkers.has(entry.workerId)) continue;
      // A resume bound to a draining worker goes where a new start would, its files moved first.
      const leaving = entry.workerId !== null && (await leavesWorker(entry.workerId));
      let workerId: string;
      try {
        workerId =
          (leaving ? await this.elsewhere(entry) : null) ??
          (await this.directory.pick({ ...placementNeedsOf(entry.template), environmentId: entry.id, workerId: entry.workerId ?? undefined }));
      } catch (error) {
        if (!(error instanceof PlacementRefusedError)) throw error;
        // No live worker holds its image yet (one is being copied there): it waits, holding back nobody.
        if (error.code === "NO_IMAGE") continue;
        if (entry.workerId) {
          fullWorkers.add(entry.workerId);
          continue;
        }
        return;
      }
      // A move is claimed while the record still names the old worker (a failed copy leaves files and
      // record together) and names where it goes, so placement counts it there from now on.
      const claimed = await this.lifecycle.transition(entry.id, "QUEUED", {
        to: "STARTING",
        data: {
          workerId: entry.workerId ?? workerId,
          movingToWorkerId: entry.workerId && entry.workerId !== workerId ? workerId : null,
          error: null,
          startClaimedAt: new Date(),
          queuedAt: null,
          queueSeenAt: null,
        },
      });
      if (!claimed) continue; // it left the queue meanwhile
      this.log.info({ environmentId: entry.id, workerId }, "admitted from the queue");
      // Not awaited: placement counts it as STARTING already, and the next entry need not wait for this start.
      void this.hooks
        .sendStart(entry, workerId)
        .catch((error: Error) => this.log.warn({ environmentId: entry.id, err: error.message }, "admitted start failed"));
    }
  }
}
