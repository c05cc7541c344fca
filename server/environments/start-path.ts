/**
 * The start path: one start at a time per environment (a claim on its state), placement on a
 * worker with room (or the admission queue when there is none), the start request to the
 * worker, and its outcome recorded through the lifecycle. The queue's admitted starts take
 * this same path. The database records the intent and the outcome; the worker does the work.
 */
import { TRPCError } from "@trpc/server";
import type { Logger } from "../../common/logger";
import { WorkerRequests, type WorkerReplyOf } from "../../protocol/worker-contract";
import type { Database } from "../database/client";
import type { EnvironmentState, EnvironmentTemplate } from "../../generated/prisma/client";
import type { ServerMetrics } from "../observability";
import { environmentSpecOf, placementNeedsOf } from "./template-spec";
import { refusalMayWait } from "../workers/placement";
import type { EnvironmentSpec } from "../../protocol/worker-messages";
import { PlacementRefusedError, type WorkerDirectory } from "../workers/scheduler";
import { LifecycleError, type EnvironmentLifecycle, type Transition } from "./lifecycle";
import { AdmissionQueue, type AdmissionQueueOptions } from "./admission-queue";
import { PrismaQueueStore } from "./queue-store";
import { WorkerUnavailableError, type WorkerLink } from "../workers/worker-link";
import { moveOrRefuse, refusal } from "./transition-refusal";

/** Creating a container is quick, but a worker may have to pull its image from disk cache. */
const START_TIMEOUT_MS = 60_000;
const MINUTE_MS = 60_000;
/** A claim older than this outlived any start its server could still be waiting for: its server died. */
const CLAIM_STALE_MS = START_TIMEOUT_MS + 30_000;
/** How often a second tab looks whether the first tab's start has ended. */
const CLAIM_POLL_MS = 250;

const claimIsStale = (claimedAt: Date | null) => !claimedAt || claimedAt.getTime() < Date.now() - CLAIM_STALE_MS;

/** A start's outcome: running, or waiting in the admission queue at a place (admission-queue.ts). */
export type EnvironmentSummary =
  { environmentId: string; state: "RUNNING" } | { environmentId: string; state: "QUEUED"; position: number; estimateSeconds: number | null };

/** What a student whose workspace's worker is offline reads (a direct start, or a queued resume). */
export const WORKSPACE_OFFLINE =
  "Your workspace is on a machine that is offline right now. It is kept safe there: try again in a few minutes, or ask your instructor.";

/** Copies a workspace from one worker to another (server/workspaces/workspace-transfers.ts); the target's volume name. */
export interface WorkspaceMover {
  copy(spec: EnvironmentSpec, from: string, to: string): Promise<string>;
}

/** What a student whose workspace could not leave a draining worker reads. */
export const WORKSPACE_NOT_MOVED = "Your workspace could not be moved to another machine just now. Try again in a minute, or ask your instructor.";

export class StartPath {
  /** Starts placement refused for want of room wait here; the server admits them in order. */
  readonly queue: AdmissionQueue;
  /** Moves workspaces off draining workers at their next start; without it they stay where they are. */
  mover?: WorkspaceMover;

  constructor(
    private readonly db: Database,
    private readonly workers: WorkerLink,
    private readonly directory: WorkerDirectory,
    private readonly log: Logger,
    private readonly lifecycle: EnvironmentLifecycle,
    private readonly metrics: Pick<ServerMetrics, "recordStart"> | undefined,
    queueOptions: AdmissionQueueOptions,
  ) {
    this.queue = new AdmissionQueue(
      new PrismaQueueStore(db),
      directory,
      lifecycle,
      {
        // The one start path: a start the pump admitted is sent exactly as a direct one (moved first when it leaves a draining worker).
        sendStart: (entry, workerId) => {
          const startLog = log.child({ environmentId: entry.id, userId: entry.userId });
          return entry.workerId && entry.workerId !== workerId && this.mover
            ? this.moveClaimedThenStart(entry.template, entry, entry.workerId, workerId, startLog)
            : this.sendStart(entry.template, { ...entry, workerId }, false, startLog);
        },
        movesOff: async (workerId) => this.mover !== undefined && (await this.directory.isDraining(workerId)),
        workspaceOffline: (environmentId, from) =>
          this.lifecycle.transition(environmentId, from, { to: "INTERRUPTED", data: { error: WORKSPACE_OFFLINE, queuedAt: null, queueSeenAt: null } }),
      },
      log,
      queueOptions,
    );
  }

  async startForLab(request: { userId: string; labId: string }): Promise<EnvironmentSummary> {
    const began = performance.now();
    try {
      const summary = await this.startOrResume(request);
      // A place in the queue is not a start (the page asks again every few seconds).
      if (summary.state === "RUNNING") this.metrics?.recordStart("ok", (performance.now() - began) / 1000);
      return summary;
    } catch (error) {
      this.metrics?.recordStart("failed", (performance.now() - began) / 1000);
      throw error;
    }
  }

  /**
   * One start at a time per environment: a caller claims it (a compare-and-set on its state,
   * so two tabs racing send one start request) and the others wait for that start's outcome
   * and share it: the student sees their terminal whichever tab won.
   *
   * A start with no room now (or with others already waiting: nobody overtakes) joins the
   * admission queue; asking again while queued answers its place, and once the pump admitted
   * it the caller waits for that start's outcome like any other.
   */
  private async startOrResume({ userId, labId }: { userId: string; labId: string }): Promise<EnvironmentSummary> {
    const lab = await this.db.lab.findUniqueOrThrow({ where: { id: labId }, include: { template: true } });
    const deadline = Date.now() + CLAIM_STALE_MS + START_TIMEOUT_MS;
    for (;;) {
      // ON CONFLICT DO NOTHING: two tabs creating the record at once both get the one row.
      await this.db.environment.createMany({ data: [{ userId, labId, templateId: lab.templateId }], skipDuplicates: true });
      const environment = await this.db.environment.findUniqueOrThrow({ where: { userId_labId: { userId, labId } } });
      const log = this.log.child({ environmentId: environment.id, userId });
      if (environment.state === "STARTING" && !claimIsStale(environment.startClaimedAt)) {
        const outcome = await this.outcomeOfStart(environment.id, deadline);
        if (outcome) return outcome;
        continue; // it ended without running (stopped, or its claim went stale): try again
      }
      if (environment.state === "QUEUED") {
        const place = await this.queue.place(environment.id);
        if (place) return { environmentId: environment.id, state: "QUEUED", ...place };
        continue; // admitted (or taken out) in between: look again
      }
      if (Date.now() > deadline) {
        throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: "Your environment is taking too long to start. Try again in a minute." });
      }

      // The workspace volume lives on the worker that created it: stay there while it is up.
      const workerId = environment.workerId;
      if (workerId && !(await this.directory.isLive(workerId))) {
        await this.moveOrRefuse(environment.id, { to: "INTERRUPTED", data: { error: WORKSPACE_OFFLINE } });
        log.warn({ workerId }, "start refused: the workspace's worker is not live");
        throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: WORKSPACE_OFFLINE });
      }
      // A page reload finds it running: the worker's start is idempotent, so no claim is needed.
      const wasRunning = environment.state === "RUNNING" && workerId !== null;
      // A draining worker keeps what runs there; the next start takes the workspace elsewhere first.
      if (!wasRunning && workerId && this.mover && (await this.directory.isDraining(workerId))) {
        const moved = await this.moveThenStart(lab.template, environment, workerId, log);
        if (moved === "claim lost") continue;
        if (moved) return moved;
      }
      // A stale claim's environment (its server died mid-start) is not queued: STARTING does not go back to QUEUED.
      const mayQueue = !wasRunning && environment.state !== "STARTING";
      if (mayQueue && (await this.queue.anyoneWaiting())) {
        await this.joinQueue(environment);
        continue;
      }
      // A new environment goes where there is room; a resume must fit on its workspace's worker.
      const target = wasRunning && workerId ? workerId : await this.place(lab.template, environment.id, workerId, mayQueue, log);
      if (target === null) {
        await this.joinQueue(environment);
        continue;
      }
      if (!wasRunning && !(await this.claimStart(environment, target))) continue;
      return this.sendStart(lab.template, { ...environment, workerId: target }, wasRunning, log);
    }
  }

  /**
   * The worker for a start; null when there is no room now and the start may wait in the
   * queue (NO_ROOM, MEMORY_PRESSURE); otherwise a SERVICE_UNAVAILABLE whose cause carries the
   * refusal's code (NO_LIVE_WORKER: nothing would ever admit it).
   */
  private async place(template: EnvironmentTemplate, environmentId: string, workerId: string | null, mayQueue: boolean, log: Logger): Promise<string | null> {
    try {
      return await this.directory.pick({ ...placementNeedsOf(template), environmentId, workerId: workerId ?? undefined });
    } catch (error) {
      if (!(error instanceof PlacementRefusedError)) throw error;
      if (mayQueue && refusalMayWait(error.code)) return null;
      log.warn({ code: error.code, details: error.details, workerId }, "start refused: no room");
      throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: error.message, cause: error });
    }
  }

  /**
   * Moves a draining worker's environment: placed as a new one would be (never on a cordoned
   * worker), claimed while its record still names the old worker (a failed copy leaves the files
   * and the record where they were), copied, re-pointed, then started there; the old copy goes.
   * Null when no other worker has room: it starts where it is, as before the drain.
   */
  private async moveThenStart(
    template: EnvironmentTemplate,
    environment: { id: string; userId: string; state: EnvironmentState; startClaimedAt: Date | null; volumeName: string | null },
    from: string,
    log: Logger,
  ): Promise<EnvironmentSummary | "claim lost" | null> {
    let target: string;
    try {
      // Where a new start would go (room for it and its services, its image there), never back to `from`.
      const { reservationBytes, image } = placementNeedsOf(template);
      target = await this.directory.pick({ reservationBytes, image, environmentId: environment.id });
    } catch (error) {
      if (!(error instanceof PlacementRefusedError)) throw error;
      log.warn({ workerId: from, code: error.code }, "draining worker: no room elsewhere, starting where the workspace is");
      return null;
    }
    if (!(await this.claimStart(environment, from, target))) return "claim lost";
    return this.moveClaimedThenStart(template, environment, from, target, log);
  }

  /**
   * A move whose start is claimed (the record names `from`, and `target` as where it is moving,
   * so placement counts it there already): the copy, the re-pointing, the old copy's removal,
   * the start on `target`.
   */
  private async moveClaimedThenStart(
    template: EnvironmentTemplate,
    environment: { id: string; userId: string; volumeName: string | null },
    from: string,
    target: string,
    log: Logger,
  ): Promise<EnvironmentSummary> {
    const spec = environmentSpecOf(template, environment);
    let volumeName: string;
    try {
      volumeName = await this.mover!.copy(spec, from, target);
    } catch (error) {
      await this.fail(environment.id, WORKSPACE_NOT_MOVED);
      log.warn({ from, to: target, err: (error as Error).message }, "draining worker: the workspace could not be moved");
      throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: WORKSPACE_NOT_MOVED });
    }
    // Not a state write: the claim stays; only where the files live changes, and only under this claim.
    await this.db.environment.updateMany({
      where: { id: environment.id, state: "STARTING", workerId: from },
      data: { workerId: target, volumeName, movingToWorkerId: null },
    });
    log.info({ from, to: target }, "workspace moved off a draining worker");
    // The old copy goes (best effort: a drained host is about to go anyway).
    void this.workers
      .request(from, WorkerRequests.removeEnvironment, { environmentId: environment.id, removeVolume: true, volumeName: environment.volumeName })
      .then((reply) => {
        if (!reply.ok) log.warn({ workerId: from, err: reply.error }, "the moved workspace's old copy was not removed");
      })
      .catch((error: Error) => log.warn({ workerId: from, err: error.message }, "the moved workspace's old copy was not removed"));
    return this.sendStart(template, { ...environment, workerId: target, volumeName }, false, log);
  }

  /** Into the queue, then one pump pass (a place may have freed meanwhile); the caller reads where it stands. */
  private async joinQueue(environment: { id: string; state: EnvironmentState }) {
    try {
      await this.queue.enqueue(environment);
    } catch (error) {
      throw refusal(error);
    }
    await this.queue.pump();
  }

  /**
   * Claims the start: succeeds for exactly one caller while the state is what it read (or the
   * previous claim is stale). Postgres re-checks the condition on a row another update just
   * changed, so of two racing claims one updates the row and the other updates nothing.
   */
  private async claimStart(
    environment: { id: string; state: EnvironmentState; startClaimedAt: Date | null },
    workerId: string,
    movingTo: string | null = null,
  ) {
    try {
      const claimed = await this.lifecycle.transition(environment.id, environment.state, {
        to: "STARTING",
        data: { workerId, error: null, startClaimedAt: new Date(), movingToWorkerId: movingTo },
        also: environment.state === "STARTING" ? { startClaimedAt: environment.startClaimedAt } : undefined,
      });
      return claimed !== null;
    } catch (error) {
      throw refusal(error);
    }
  }

  /** Waits for another caller's start to end: its summary when it ran, its error when it failed. */
  private async outcomeOfStart(environmentId: string, deadline: number): Promise<EnvironmentSummary | null> {
    for (;;) {
      const current = await this.db.environment.findUnique({ where: { id: environmentId }, select: { state: true, error: true, startClaimedAt: true } });
      if (!current) return null;
      if (current.state === "RUNNING") return { environmentId, state: "RUNNING" };
      if (current.state === "FAILED") {
        throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: `Your environment could not be started: ${current.error ?? "no reason given"}` });
      }
      if (current.state !== "STARTING" || claimIsStale(current.startClaimedAt) || Date.now() > deadline) return null;
      await new Promise((resolve) => setTimeout(resolve, CLAIM_POLL_MS));
    }
  }

  private async sendStart(
    template: EnvironmentTemplate,
    environment: { id: string; userId: string; volumeName: string | null; workerId: string },
    wasRunning: boolean,
    log: Logger,
  ): Promise<EnvironmentSummary> {
    const { workerId } = environment;
    const spec = environmentSpecOf(template, environment);
    let reply: WorkerReplyOf<"startEnvironment">;
    const began = performance.now();
    try {
      reply = await this.workers.request(workerId, WorkerRequests.startEnvironment, spec, START_TIMEOUT_MS);
    } catch (error) {
      const message =
        error instanceof WorkerUnavailableError
          ? "The machine that holds your workspace is not reachable right now. Try again in a minute."
          : "Your environment could not be started.";
      await this.fail(environment.id, message);
      log.warn({ workerId, err: (error as Error).message }, "start failed: worker unavailable");
      throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message });
    }
    if (!reply.ok) {
      await this.fail(environment.id, reply.error);
      log.warn({ workerId, err: reply.error }, "start failed on worker");
      throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: `Your environment could not be started: ${reply.error}` });
    }
    // Measured for the queue's estimate: how long a start takes on the worker these days.
    if (!wasRunning) this.queue.starts.record((performance.now() - began) / 1000);
    const now = new Date();
    // A page reload finds it running: the lifetime clock keeps going.
    const lifetime = wasRunning
      ? {}
      : {
          startedAt: now,
          expiresAt: new Date(now.getTime() + template.maxLifetimeMinutes * MINUTE_MS),
          warnedAt: null,
        };
    const running = await this.moveOrRefuse(environment.id, {
      to: "RUNNING",
      data: { containerId: reply.containerId, volumeName: reply.volumeName, lastActivityAt: now, startClaimedAt: null, ...lifetime },
    });
    if (!running) throw new TRPCError({ code: "CONFLICT", message: "Your environment was deleted while it started." });
    log.info({ workerId }, "environment running");
    return { environmentId: environment.id, state: "RUNNING" };
  }

  /** Records a failed start, unless something else moved it meanwhile to where FAILED may not follow (e.g. stopped). */
  private async fail(environmentId: string, error: string) {
    await this.lifecycle.move(environmentId, { to: "FAILED", data: { error, startClaimedAt: null } }).catch((refused: Error) => {
      if (!(refused instanceof LifecycleError)) throw refused;
      this.log.warn({ environmentId, err: refused.message }, "failed start not recorded");
    });
  }

  private moveOrRefuse(environmentId: string, transition: Transition) {
    return moveOrRefuse(this.lifecycle, environmentId, transition);
  }
}
