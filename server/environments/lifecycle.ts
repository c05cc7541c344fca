/**
 * The one home of an environment's lifecycle: its states, the transitions allowed between
 * them, why it stopped, and the only code that writes `Environment.state`.
 *
 * Every write is a compare-and-set on the state the caller read (in Postgres an `updateMany`
 * whose `where` names it; the store is behind EnvironmentStateStore so the fast tier can hold
 * states in memory), so of two replicas moving the same environment one wins and the other
 * is told it lost, never both. An illegal transition is refused before anything is written.
 * Each transition made emits one change event to this process's subscribers (metrics, the
 * live room's nudges); replicas each see their own.
 *
 * QUEUED is the admission queue's (admission-queue.ts): a start placement refused for want of
 * room waits there, and leaves it for STARTING when admitted, or for STOPPED when its student
 * left. STOPPING is in the table for a two-step stop; nothing enters it yet.
 */
import { z } from "zod";
import type { Logger } from "../../common/logger";
import type { Database } from "../database/client";
import type { Environment, EnvironmentState, Prisma } from "../../generated/prisma/client";

export const ENVIRONMENT_STATES = [
  "PENDING",
  "QUEUED",
  "STARTING",
  "RUNNING",
  "STOPPING",
  "STOPPED",
  "INTERRUPTED",
  "FAILED",
  "DELETED",
] as const satisfies readonly EnvironmentState[];
// Fails to compile when the Prisma enum gains a state this module does not know.
const everyStateKnown: Record<EnvironmentState, true> = Object.fromEntries(ENVIRONMENT_STATES.map((state) => [state, true])) as Record<
  (typeof ENVIRONMENT_STATES)[number],
  true
>;
void everyStateKnown;

/**
 * Why an environment stopped (kept in `Environment.stopReason`): IDLE and EXPIRED by the
 * sweep, USER by its student, STAFF by an instructor, RUNAWAY by the runaway watch, and
 * WORKER_LOST when its worker stopped heartbeating (the environment is then INTERRUPTED), and
 * LEFT_QUEUE when it waited in the admission queue and its student's page stopped asking for
 * its place (the page was closed): it never ran, so it leaves QUEUED for STOPPED.
 */
export const StopReason = z.enum(["IDLE", "EXPIRED", "USER", "STAFF", "RUNAWAY", "WORKER_LOST", "LEFT_QUEUE"]);
export type StopReason = z.infer<typeof StopReason>;

/**
 * Where each state may go. Self-transitions are listed where they are real: a stale start
 * claim is taken over (STARTING -> STARTING), a page reload re-records a running container
 * (RUNNING -> RUNNING), a start refused again because its worker is still offline
 * (INTERRUPTED -> INTERRUPTED), a stop or reset of a stopped one records the latest stop
 * (STOPPED -> STOPPED). RUNNING is also entered from any live state by reconcile, which
 * adopts a container the worker reports running. DELETED is final.
 */
export const TRANSITIONS: Readonly<Record<EnvironmentState, readonly EnvironmentState[]>> = {
  PENDING: ["QUEUED", "STARTING", "RUNNING", "STOPPED", "INTERRUPTED", "FAILED", "DELETED"],
  QUEUED: ["STARTING", "RUNNING", "STOPPED", "INTERRUPTED", "FAILED", "DELETED"],
  STARTING: ["STARTING", "RUNNING", "STOPPING", "STOPPED", "INTERRUPTED", "FAILED"],
  RUNNING: ["RUNNING", "STARTING", "STOPPING", "STOPPED", "INTERRUPTED", "FAILED"],
  STOPPING: ["RUNNING", "STOPPED", "INTERRUPTED", "FAILED"],
  STOPPED: ["QUEUED", "STARTING", "RUNNING", "STOPPED", "INTERRUPTED", "DELETED"],
  INTERRUPTED: ["QUEUED", "STARTING", "RUNNING", "STOPPING", "STOPPED", "INTERRUPTED", "FAILED", "DELETED"],
  FAILED: ["QUEUED", "STARTING", "RUNNING", "STOPPED", "INTERRUPTED", "DELETED"],
  DELETED: [],
};

/** Which reasons a transition may carry: stops say why; the others carry none. */
const REASONS_INTO: Partial<Record<EnvironmentState, readonly StopReason[]>> = {
  STOPPING: ["IDLE", "EXPIRED", "USER", "STAFF", "RUNAWAY"],
  STOPPED: ["IDLE", "EXPIRED", "USER", "STAFF", "RUNAWAY", "LEFT_QUEUE"],
  INTERRUPTED: ["WORKER_LOST"],
};

/** Reasons that only fit a move from certain states: leaving the queue is leaving QUEUED. */
const REASONS_FROM: Partial<Record<StopReason, readonly EnvironmentState[]>> = {
  LEFT_QUEUE: ["QUEUED"],
};

export type LifecycleErrorCode = "ILLEGAL_TRANSITION" | "ILLEGAL_STOP_REASON" | "CONTENDED";

export class LifecycleError extends Error {
  constructor(
    readonly code: LifecycleErrorCode,
    message: string,
    readonly from?: EnvironmentState,
    readonly to?: EnvironmentState,
  ) {
    super(message);
    this.name = "LifecycleError";
  }
}

export function isAllowed(from: EnvironmentState, to: EnvironmentState) {
  return TRANSITIONS[from].includes(to);
}

/** Refuses an illegal transition or a reason that does not fit it (pure: no database). */
export function checkTransition(from: EnvironmentState, to: EnvironmentState, reason: StopReason | null = null) {
  if (!isAllowed(from, to)) throw new LifecycleError("ILLEGAL_TRANSITION", `An environment cannot go from ${from} to ${to}.`, from, to);
  if (reason !== null && !(REASONS_INTO[to] ?? []).includes(reason)) {
    throw new LifecycleError("ILLEGAL_STOP_REASON", `${reason} is not a reason to go to ${to}.`, from, to);
  }
  if (reason !== null && REASONS_FROM[reason] && !REASONS_FROM[reason].includes(from)) {
    throw new LifecycleError("ILLEGAL_STOP_REASON", `${reason} is not a reason to leave ${from}.`, from, to);
  }
}

/**
 * The fields a transition writes besides the other data: entering RUNNING clears why it last
 * stopped; a reason, when given, is recorded; otherwise stopReason is left as it was.
 */
export function stateFields(to: EnvironmentState, reason: StopReason | null) {
  if (to === "RUNNING") return { state: to, stopReason: null };
  return reason === null ? { state: to } : { state: to, stopReason: reason };
}

/**
 * The compare-and-set for one transition (pure): it matches only while the row is still in
 * `from` (and `also` holds), and writes the new state with the other data. Refuses an illegal
 * transition before anything is built.
 */
export function guardedUpdate(environmentId: string, from: EnvironmentState, transition: Transition) {
  const reason = transition.reason ?? null;
  checkTransition(from, transition.to, reason);
  // The types already forbid these; a cast must not smuggle a state or reason past the table either.
  const { state: _state, stopReason: _reason, id: _id, ...data } = (transition.data ?? {}) as Prisma.EnvironmentUncheckedUpdateManyInput;
  return {
    where: { ...transition.also, id: environmentId, state: from } satisfies Prisma.EnvironmentWhereInput,
    data: { ...data, ...stateFields(transition.to, reason) } satisfies Prisma.EnvironmentUncheckedUpdateManyInput,
  };
}

export interface EnvironmentChange {
  environmentId: string;
  from: EnvironmentState;
  to: EnvironmentState;
  reason: StopReason | null;
  at: Date;
}
export type ChangeListener = (change: EnvironmentChange) => void | Promise<void>;

/**
 * Other columns a transition may write with the state (never the state or the reason): plain
 * values only, so every EnvironmentStateStore (Postgres, the fast tier's fake) writes them alike.
 */
export type TransitionData = Partial<
  Pick<
    Environment,
    | "workerId"
    | "containerId"
    | "volumeName"
    | "error"
    | "startedAt"
    | "stoppedAt"
    | "lastActivityAt"
    | "expiresAt"
    | "warnedAt"
    | "startClaimedAt"
    | "queuedAt"
    | "queueSeenAt"
    | "movingToWorkerId"
  >
>;

/** Further compare-and-set conditions: columns that must still hold these values (plain equality). */
export type TransitionCondition = Partial<Pick<Environment, "workerId" | "startClaimedAt">>;

export interface Transition {
  to: EnvironmentState;
  reason?: StopReason;
  data?: TransitionData;
  /** Further compare-and-set conditions, e.g. the start claim's timestamp. */
  also?: TransitionCondition;
}

/**
 * Where environments' states are kept: the lifecycle's one seam to storage. Postgres in
 * production (PrismaEnvironmentStates, below); an in-memory fake in the fast tier
 * (tests/support/fake-store), held to the same contract (tests/support/store-contract.ts).
 */
export interface EnvironmentStateStore {
  /**
   * Writes the transition (guardedUpdate's state, reason and data) only while the environment
   * is still in `from` and `also` holds: true when it wrote, false when it had moved on.
   */
  writeIfStill(environmentId: string, from: EnvironmentState, transition: Transition): Promise<boolean>;
  /** The environment's state now; null when there is no such environment. */
  stateOf(environmentId: string): Promise<EnvironmentState | null>;
}

/** Environments' states in Postgres: each write one `updateMany` whose `where` names the state read. */
export class PrismaEnvironmentStates implements EnvironmentStateStore {
  constructor(private readonly db: Database) {}

  async writeIfStill(environmentId: string, from: EnvironmentState, transition: Transition) {
    const moved = await this.db.environment.updateMany(guardedUpdate(environmentId, from, transition));
    return moved.count === 1;
  }

  async stateOf(environmentId: string) {
    const current = await this.db.environment.findUnique({ where: { id: environmentId }, select: { state: true } });
    return current?.state ?? null;
  }
}

/** How many times `move` re-reads after losing a race before giving up. */
const MOVE_ATTEMPTS = 5;

export class EnvironmentLifecycle {
  private readonly listeners = new Set<ChangeListener>();

  constructor(
    private readonly states: EnvironmentStateStore,
    private readonly log?: Logger,
  ) {}

  /** Subscribes to every transition this process makes; returns the unsubscribe. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Moves the environment from `from` (the state the caller read) to `to`: the change made, or
   * null when it was no longer in `from` (or `also` no longer held), because another caller
   * moved it first. Throws LifecycleError for an illegal transition, before writing.
   */
  async transition(environmentId: string, from: EnvironmentState, transition: Transition): Promise<EnvironmentChange | null> {
    // Refused here, whichever store holds the states.
    checkTransition(from, transition.to, transition.reason ?? null);
    if (!(await this.states.writeIfStill(environmentId, from, transition))) return null;
    const change = { environmentId, from, to: transition.to, reason: transition.reason ?? null, at: new Date() };
    this.emit(change);
    return change;
  }

  /**
   * Moves the environment from whatever state it is in now: reads it, and reads again when
   * another caller moved it in between. The change made, or null when there is no such
   * environment. Throws LifecycleError when its current state may not go to `to`.
   */
  async move(environmentId: string, transition: Transition): Promise<EnvironmentChange | null> {
    for (let attempt = 0; attempt < MOVE_ATTEMPTS; attempt++) {
      const current = await this.states.stateOf(environmentId);
      if (!current) return null;
      const change = await this.transition(environmentId, current, transition);
      if (change) return change;
    }
    throw new LifecycleError("CONTENDED", `Environment ${environmentId} kept changing state; it was not moved to ${transition.to}.`);
  }

  private emit(change: EnvironmentChange) {
    for (const listener of this.listeners) {
      // A subscriber's failure is its own: the transition is already made.
      void Promise.resolve()
        .then(() => listener(change))
        .catch((error: Error) => this.log?.error({ environmentId: change.environmentId, err: error.message }, "environment change listener failed"));
    }
  }
}
