/**
 * Runaways (a fork bomb at the pids limit, a program pinned at the CPU limit): the usage
 * store decides when an environment is one; this acts on it. The live room is nudged (its
 * card says "Runaway: fork bomb?"), the student is told, staff can end every process with
 * one click, and one left running past the operator's limit is stopped (files kept), so an
 * unattended fork bomb does not load the host for hours.
 */
import { TRPCError } from "@trpc/server";
import type { Logger } from "../../common/logger";
import type { EnvironmentUsage } from "../../protocol/worker-messages";
import { WorkerRequests, type WorkerReplyOf } from "../../protocol/worker-contract";
import type { AuditLog } from "../audit";
import type { Database } from "../database/client";
import type { EnvironmentService } from "../environments/environment-service";
import type { RunawayChange, RunawayPolicy, RunawayReason, UsageStore } from "../workers/environment-usage";
import { WorkerUnavailableError, type WorkerLink } from "../workers/worker-link";
import type { LiveRoomChannel } from "./live-room-channel";

/** Restarting a container is quick, but a host loaded by the runaway itself is slow. */
const KILL_TIMEOUT_MS = 60_000;

const what = (reason: RunawayReason) => (reason === "pids" ? "its process limit (a fork bomb?)" : "its CPU limit");
function minutes(ms: number) {
  const count = Math.max(1, Math.round(ms / 60_000));
  return `${count} minute${count === 1 ? "" : "s"}`;
}

export const runawayNotice = (reason: RunawayReason) =>
  `Your environment has been at ${what(reason)} for a while. Press Ctrl-C to end the program, or your instructor may end every process in it.`;
export const KILLED_NOTICE =
  "Your instructor ended every process in your environment (it was running away). Your files are kept: press Enter in the terminal for a new shell.";
export const runawayStoppedNotice = (reason: RunawayReason, stopAfterMs: number) =>
  `Stopped: your environment stayed at ${what(reason)} for ${minutes(stopAfterMs)}. Your files are kept: press Start again to continue.`;

export class RunawayWatch implements UsageStore {
  constructor(
    private readonly store: UsageStore,
    private readonly policy: RunawayPolicy,
    private readonly deps: {
      db: Database;
      environments: EnvironmentService;
      workers: WorkerLink;
      live: LiveRoomChannel;
      audit: AuditLog;
      log: Logger;
    },
  ) {}

  async record(usage: Record<string, EnvironmentUsage>, at?: number) {
    const changes = await this.store.record(usage, at);
    // Not awaited by the heartbeat: a stop takes seconds, and beats must not queue behind it.
    for (const change of changes) void this.act(change);
    return changes;
  }

  read(environmentIds: string[]) {
    return this.store.read(environmentIds);
  }

  forget(environmentId: string) {
    return this.store.forget(environmentId);
  }

  /** Staff end every process of an environment of their course; the container restarts with its files. */
  async killProcesses(input: { courseId: string; environmentId: string; actorId: string }) {
    const environment = await this.deps.db.environment.findFirst({
      where: { id: input.environmentId, lab: { courseId: input.courseId } },
      select: { id: true, state: true, workerId: true },
    });
    if (!environment) throw new TRPCError({ code: "NOT_FOUND", message: "No such environment in this course." });
    if (environment.state !== "RUNNING" || !environment.workerId) {
      throw new TRPCError({ code: "PRECONDITION_FAILED", message: "This environment is not running: there is nothing to end." });
    }
    // Told first, so the student reads why before their shell ends.
    this.deps.environments.warn(environment.id, KILLED_NOTICE);
    let reply: WorkerReplyOf<"killProcesses">;
    try {
      reply = await this.deps.workers.request(environment.workerId, WorkerRequests.killProcesses, { environmentId: environment.id }, KILL_TIMEOUT_MS);
    } catch (error) {
      if (error instanceof WorkerUnavailableError) {
        throw new TRPCError({
          code: "SERVICE_UNAVAILABLE",
          message: "The machine running this environment is not reachable right now. Try again in a minute.",
        });
      }
      throw error;
    }
    if (!reply.ok) throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: `The processes could not be ended: ${reply.error}` });
    await this.store.forget(environment.id);
    await this.deps.audit.record({
      action: "environment.processes_killed",
      actorId: input.actorId,
      courseId: input.courseId,
      subjectType: "environment",
      subjectId: environment.id,
    });
    this.deps.log.info({ environmentId: environment.id, actorId: input.actorId }, "runaway: processes ended by staff");
    this.deps.live.changed(input.courseId);
    return { killed: true };
  }

  private async act(change: RunawayChange) {
    const { environmentId, reason } = change;
    try {
      const environment = await this.deps.db.environment.findUnique({ where: { id: environmentId }, select: { lab: { select: { courseId: true } } } });
      if (!environment) return;
      if (change.change === "flagged") {
        this.deps.log.warn({ environmentId, reason }, "runaway: environment at its limit");
        this.deps.environments.warn(environmentId, runawayNotice(reason));
      } else if (change.change === "overdue") {
        this.deps.log.warn({ environmentId, reason }, "runaway: stopped after the operator's limit");
        await this.deps.environments.stopById(environmentId, "RUNAWAY", runawayStoppedNotice(reason, this.policy.stopAfterMs));
        await this.store.forget(environmentId);
      }
      this.deps.live.changed(environment.lab.courseId);
    } catch (error) {
      this.deps.log.error({ environmentId, change: change.change, err: (error as Error).message }, "runaway: could not act");
    }
  }
}
