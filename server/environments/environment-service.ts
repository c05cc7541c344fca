/**
 * Starting and resuming students' environments: the database records the intent and the
 * outcome; the worker does the work. The server never talks to Docker.
 */
import { TRPCError } from "@trpc/server";
import type { Logger } from "../../common/logger";
import { ServerToWorker, type CheckReply, type EnvironmentSpec, type StartEnvironmentReply, type WorkerReply } from "../../protocol/worker-messages";
import type { EnvironmentNotice } from "../../protocol/browser-messages";
import type { Database } from "../database/client";
import type { EnvironmentState, EnvironmentTemplate } from "../../generated/prisma/client";
import type { ServerMetrics } from "../observability";
import { containerShapeOf } from "./template-spec";
import { PlacementRefusedError, type WorkerDirectory } from "../workers/scheduler";
import { EnvironmentLifecycle, LifecycleError, type StopReason, type Transition } from "./lifecycle";
import { AdmissionQueue, DEFAULT_ADMISSION_QUEUE, type AdmissionQueueOptions } from "./admission-queue";
import { WorkerUnavailableError, type WorkerLink } from "../workers/worker-link";

/** Creating a container is quick, but a worker may have to pull its image from disk cache. */
const START_TIMEOUT_MS = 60_000;
const MINUTE_MS = 60_000;
/** A claim older than this outlived any start its server could still be waiting for: its server died. */
const CLAIM_STALE_MS = START_TIMEOUT_MS + 30_000;
/** How often a second tab looks whether the first tab's start has ended. */
const CLAIM_POLL_MS = 250;

const claimIsStale = (claimedAt: Date | null) => !claimedAt || claimedAt.getTime() < Date.now() - CLAIM_STALE_MS;

/** Delivers a notice to everyone viewing an environment's terminals. */
export type Notify = (notice: EnvironmentNotice) => void;

/** A start's outcome: running, or waiting in the admission queue at a place (admission-queue.ts). */
export type EnvironmentSummary =
  { environmentId: string; state: "RUNNING" } | { environmentId: string; state: "QUEUED"; position: number; estimateSeconds: number | null };

/** What a student whose workspace's worker is offline reads (a direct start, or a queued resume). */
const WORKSPACE_OFFLINE =
  "Your workspace is on a machine that is offline right now. It is kept safe there: try again in a few minutes, or ask your instructor.";

export class EnvironmentService {
  /** Starts placement refused for want of room wait here; the server admits them in order. */
  readonly queue: AdmissionQueue;

  constructor(
    private readonly db: Database,
    private readonly workers: WorkerLink,
    private readonly directory: WorkerDirectory,
    private readonly log: Logger,
    private readonly notify: Notify = () => undefined,
    private readonly metrics?: Pick<ServerMetrics, "recordStart">,
    readonly lifecycle = new EnvironmentLifecycle(db, log),
    queueOptions: AdmissionQueueOptions = DEFAULT_ADMISSION_QUEUE,
  ) {
    this.queue = new AdmissionQueue(
      db,
      directory,
      lifecycle,
      {
        // The one start path: a start the pump admitted is sent exactly as a direct one.
        sendStart: (entry, workerId) =>
          this.sendStart(entry.template, { ...entry, workerId }, false, log.child({ environmentId: entry.id, userId: entry.userId })),
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
      return await this.directory.pick({ reservationBytes: template.memoryReservationMb * 1024 * 1024, environmentId, workerId: workerId ?? undefined });
    } catch (error) {
      if (!(error instanceof PlacementRefusedError)) throw error;
      if (mayQueue && error.code !== "NO_LIVE_WORKER") return null;
      log.warn({ code: error.code, details: error.details, workerId }, "start refused: no room");
      throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: error.message, cause: error });
    }
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
  private async claimStart(environment: { id: string; state: EnvironmentState; startClaimedAt: Date | null }, workerId: string) {
    try {
      const claimed = await this.lifecycle.transition(environment.id, environment.state, {
        to: "STARTING",
        data: { workerId, error: null, startClaimedAt: new Date() },
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
    const spec: EnvironmentSpec = {
      ...containerShapeOf(template),
      environmentId: environment.id,
      ownerId: environment.userId,
      setupScript: template.setupScript,
      volumeName: environment.volumeName,
    };
    let reply: StartEnvironmentReply;
    const began = performance.now();
    try {
      reply = await this.workers.request<StartEnvironmentReply>(workerId, ServerToWorker.startEnvironment, spec, START_TIMEOUT_MS);
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

  /** The student's environment for a lab, when it is running somewhere reachable. */
  async runningEnvironment(userId: string, labId: string) {
    const environment = await this.db.environment.findUnique({ where: { userId_labId: { userId, labId } } });
    if (!environment || environment.state !== "RUNNING" || !environment.workerId) {
      throw new TRPCError({ code: "PRECONDITION_FAILED", message: "Your environment is not running. Start it from the lab page first." });
    }
    return { ...environment, workerId: environment.workerId };
  }

  /** Runs a step's check script in the student's own container. */
  async runCheck(userId: string, labId: string, check: { script: string; timeoutSeconds: number }) {
    const environment = await this.runningEnvironment(userId, labId);
    const reply = await this.request<CheckReply>(
      environment.workerId,
      ServerToWorker.runCheck,
      { environmentId: environment.id, script: check.script, timeoutSeconds: check.timeoutSeconds },
      (check.timeoutSeconds + 15) * 1000,
    );
    if (!reply.ok) throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: `The check could not run: ${reply.error}` });
    await this.db.environment.update({ where: { id: environment.id }, data: { lastActivityAt: new Date() } });
    return reply;
  }

  /** Stops the student's container for a lab; the workspace volume is kept for next time. */
  async stop(userId: string, labId: string) {
    const environment = await this.db.environment.findUnique({ where: { userId_labId: { userId, labId } } });
    if (!environment) return { state: "STOPPED" as const };
    return this.stopById(environment.id, "USER", "You stopped this environment. Your files are kept: press Start again to continue.");
  }

  /**
   * Stops an environment for a reason (idle, lifetime, user, staff) and tells its viewers.
   * The container goes; the workspace volume stays, and a resume starts a fresh container
   * on it (so a stopped environment holds no container and picks up template changes).
   */
  async stopById(environmentId: string, reason: StopReason, notice?: string): Promise<{ state: "STOPPED" }> {
    const environment = await this.db.environment.findUniqueOrThrow({ where: { id: environmentId } });
    if (environment.state === "QUEUED") {
      // It holds no container: it just leaves the queue (its student left it, or staff took it out).
      if (await this.queue.leave(environmentId, reason === "USER" ? "LEFT_QUEUE" : reason)) return { state: "STOPPED" as const };
      return this.stopById(environmentId, reason, notice); // admitted meanwhile: stopped like any other
    }
    // Told first, so viewers read why before their shell ends.
    if (notice) this.notify({ environmentId, kind: "stopped", message: notice });
    if (environment.workerId && environment.state !== "DELETED") {
      const reply = await this.request(
        environment.workerId,
        ServerToWorker.removeEnvironment,
        { environmentId, removeVolume: false, volumeName: environment.volumeName },
        30_000,
      );
      if (!reply.ok) throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: `The environment could not be stopped: ${reply.error}` });
    }
    await this.moveOrRefuse(environmentId, { to: "STOPPED", reason, data: { containerId: null, stoppedAt: new Date() } });
    this.log.info({ environmentId, reason }, "environment stopped");
    return { state: "STOPPED" as const };
  }

  /** More time before the lifetime limit; the student is told. */
  async extend(environmentId: string, minutes: number) {
    const environment = await this.db.environment.findUniqueOrThrow({ where: { id: environmentId } });
    const base = Math.max(environment.expiresAt?.getTime() ?? Date.now(), Date.now());
    const expiresAt = new Date(base + minutes * MINUTE_MS);
    await this.db.environment.update({ where: { id: environmentId }, data: { expiresAt, warnedAt: null } });
    this.notify({ environmentId, kind: "info", message: `Your instructor gave you ${minutes} more minutes.` });
    return { expiresAt };
  }

  warn(environmentId: string, message: string) {
    this.notify({ environmentId, kind: "warning", message });
  }

  /** Deletes the environment for good: container and workspace volume. */
  async delete(userId: string, labId: string) {
    const environment = await this.db.environment.findUnique({ where: { userId_labId: { userId, labId } } });
    if (!environment || environment.state === "DELETED") return { state: "DELETED" as const };
    if (environment.workerId) {
      const reply = await this.request(
        environment.workerId,
        ServerToWorker.removeEnvironment,
        { environmentId: environment.id, removeVolume: true, volumeName: environment.volumeName },
        30_000,
      );
      if (!reply.ok) throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: `The environment could not be deleted: ${reply.error}` });
    }
    // The row goes too: the next start is a brand-new environment (and may use the warm pool).
    await this.db.environment.delete({ where: { id: environment.id } });
    this.log.info({ environmentId: environment.id }, "environment deleted");
    return { state: "DELETED" as const };
  }

  /** A fresh container; the workspace is kept or wiped as the student chose. */
  async reset(userId: string, labId: string, wipeWorkspace: boolean) {
    const environment = await this.db.environment.findUnique({ where: { userId_labId: { userId, labId } } });
    if (environment?.workerId) {
      this.notify({
        environmentId: environment.id,
        kind: "info",
        message: wipeWorkspace ? "Resetting with an empty workspace…" : "Resetting: a fresh container with your files…",
      });
      const reply = await this.request(
        environment.workerId,
        ServerToWorker.removeEnvironment,
        { environmentId: environment.id, removeVolume: wipeWorkspace, volumeName: environment.volumeName },
        30_000,
      );
      if (!reply.ok) throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: `Your environment could not be reset: ${reply.error}` });
      await this.moveOrRefuse(environment.id, {
        to: "STOPPED",
        // A wiped workspace is gone: the next start makes (or takes from the pool) a new one.
        data: { containerId: null, stoppedAt: new Date(), ...(wipeWorkspace ? { volumeName: null } : {}) },
      });
    }
    return this.startForLab({ userId, labId });
  }

  private async request<R extends WorkerReply<object>>(workerId: string, event: string, payload: unknown, timeoutMs: number): Promise<R> {
    try {
      return await this.workers.request<R>(workerId, event, payload, timeoutMs);
    } catch (error) {
      if (error instanceof WorkerUnavailableError) {
        throw new TRPCError({
          code: "SERVICE_UNAVAILABLE",
          message: "The machine running your environment is not reachable right now. Try again in a minute.",
        });
      }
      throw error;
    }
  }

  /** Records a failed start, unless something else moved it meanwhile to where FAILED may not follow (e.g. stopped). */
  private async fail(environmentId: string, error: string) {
    await this.lifecycle.move(environmentId, { to: "FAILED", data: { error, startClaimedAt: null } }).catch((refused: Error) => {
      if (!(refused instanceof LifecycleError)) throw refused;
      this.log.warn({ environmentId, err: refused.message }, "failed start not recorded");
    });
  }

  private async moveOrRefuse(environmentId: string, transition: Transition) {
    try {
      return await this.lifecycle.move(environmentId, transition);
    } catch (error) {
      throw refusal(error);
    }
  }
}

/** A refused transition, as the error a user reads. */
function refusal(error: unknown) {
  if (!(error instanceof LifecycleError)) return error;
  const message = error.from === "DELETED" ? "This environment was deleted." : `This environment cannot do that now: ${error.message}`;
  return new TRPCError({ code: "CONFLICT", message, cause: error });
}
