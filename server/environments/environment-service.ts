/**
 * Students' environments, as the routers and the sweeper see them: starting (the start path,
 * start-path.ts), checks, stopping, extending, resetting and deleting. The database records
 * the intent and the outcome; the worker does the work. The server never talks to Docker.
 */
import { TRPCError } from "@trpc/server";
import type { Logger } from "../../common/logger";
import type { ReplyOf, RequestContract, RequestOf } from "../../protocol/contract";
import { WorkerRequests } from "../../protocol/worker-contract";
import type { EnvironmentNotice } from "../../protocol/browser-contract";
import type { Database } from "../database/client";
import type { ServerMetrics } from "../observability";
import type { WorkerDirectory } from "../workers/scheduler";
import { EnvironmentLifecycle, PrismaEnvironmentStates, type StopReason, type Transition } from "./lifecycle";
import { DEFAULT_ADMISSION_QUEUE, type AdmissionQueue, type AdmissionQueueOptions } from "./admission-queue";
import { WorkerUnavailableError, type WorkerLink } from "../workers/worker-link";
import { StartPath, type EnvironmentSummary, type WorkspaceMover } from "./start-path";
import { moveOrRefuse } from "./transition-refusal";

export type { EnvironmentSummary } from "./start-path";

const MINUTE_MS = 60_000;

/** Delivers a notice to everyone viewing an environment's terminals. */
export type Notify = (notice: EnvironmentNotice) => void;

export class EnvironmentService {
  /** Starts placement refused for want of room wait here; the server admits them in order. */
  readonly queue: AdmissionQueue;
  private readonly starts: StartPath;

  constructor(
    private readonly db: Database,
    private readonly workers: WorkerLink,
    directory: WorkerDirectory,
    private readonly log: Logger,
    private readonly notify: Notify = () => undefined,
    metrics?: Pick<ServerMetrics, "recordStart">,
    readonly lifecycle = new EnvironmentLifecycle(new PrismaEnvironmentStates(db), log),
    queueOptions: AdmissionQueueOptions = DEFAULT_ADMISSION_QUEUE,
  ) {
    this.starts = new StartPath(db, workers, directory, log, lifecycle, metrics, queueOptions);
    this.queue = this.starts.queue;
  }

  /** From now on a start on a draining worker moves the workspace first (start-path.ts). */
  useWorkspaceMover(mover: WorkspaceMover) {
    this.starts.mover = mover;
  }

  startForLab(request: { userId: string; labId: string }): Promise<EnvironmentSummary> {
    return this.starts.startForLab(request);
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
    const reply = await this.request(
      environment.workerId,
      WorkerRequests.runCheck,
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
        WorkerRequests.removeEnvironment,
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

  /** Tells the environment's viewers it ended without a stop (its machine was lost): their panel shows it ended, and why. */
  tellEnded(environmentId: string, message: string) {
    this.notify({ environmentId, kind: "stopped", message });
  }

  /** Deletes the environment for good: container and workspace volume. */
  async delete(userId: string, labId: string) {
    const environment = await this.db.environment.findUnique({ where: { userId_labId: { userId, labId } } });
    if (!environment || environment.state === "DELETED") return { state: "DELETED" as const };
    if (environment.workerId) {
      const reply = await this.request(
        environment.workerId,
        WorkerRequests.removeEnvironment,
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
        WorkerRequests.removeEnvironment,
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

  private async request<C extends RequestContract>(workerId: string, contract: C, payload: RequestOf<C>, timeoutMs: number): Promise<ReplyOf<C>> {
    try {
      return await this.workers.request(workerId, contract, payload, timeoutMs);
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

  private moveOrRefuse(environmentId: string, transition: Transition) {
    return moveOrRefuse(this.lifecycle, environmentId, transition);
  }
}
