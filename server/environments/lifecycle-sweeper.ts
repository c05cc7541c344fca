/**
 * The periodic sweep, in the spirit of JupyterHub's idle culler: marks workers that stopped
 * heartbeating as LOST (their environments INTERRUPTED), stops environments idle past
 * their template's timeout, warns before the lifetime limit and stops at it.
 *
 * It runs once per interval across replicas: every replica asks for a sweep on its timer,
 * but the durable queue keeps one job per time slot (and at most one waiting), which one
 * replica takes. Each step is still an idempotent update, and the warning is claimed with a
 * compare-and-set, so a sweep run by hand (tests, operators) alongside never doubles it.
 */
import type { Logger } from "../../common/logger";
import type { JobQueue } from "../jobs/job-queue";
import type { WorkerDirectory } from "../workers/scheduler";
import type { EnvironmentService } from "./environment-service";
import type { SweepStore } from "./sweep-store";

const MINUTE_MS = 60_000;
export const LIFETIME_WARNING_MS = 5 * MINUTE_MS;
export const SWEEP_QUEUE = "lifecycle-sweep";
/** What a student whose machine was lost reads: on the lab page (the environment's error) and in the open terminal. */
export const WORKER_LOST_MESSAGE =
  "The machine running this environment stopped answering. Your files are kept on it: try again in a few minutes, or ask your instructor.";

export class LifecycleSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private jobs: JobQueue | undefined;
  private slotSeconds = 15;
  /** Sweeps this replica has run (taken from the queue or called directly). */
  completedSweeps = 0;

  constructor(
    private readonly store: SweepStore,
    /** What the sweep asks of the environments: transitions, stops and warnings. */
    private readonly environments: Pick<EnvironmentService, "lifecycle" | "stopById" | "warn" | "tellEnded">,
    private readonly directory: Pick<WorkerDirectory, "staleIds">,
    private readonly log: Logger,
  ) {}

  /** Takes sweep jobs from the durable queue; `intervalMs` is the time slot of one sweep. */
  async attach(jobs: JobQueue, intervalMs: number) {
    // stately: at most one sweep waiting and one running, whatever the number of replicas.
    await jobs.createQueue(SWEEP_QUEUE, { name: SWEEP_QUEUE, policy: "stately", retryLimit: 0, expireInSeconds: 600 });
    await jobs.work(SWEEP_QUEUE, { pollingIntervalSeconds: 2 }, async () => {
      await this.sweep();
    });
    this.slotSeconds = Math.max(1, Math.round(intervalMs / 1000));
    this.jobs = jobs;
  }

  /** Asks every `intervalMs` for a sweep (one per time slot runs, on whichever replica takes it). */
  start(intervalMs: number) {
    this.timer = setInterval(() => void this.requestSweep(), intervalMs);
    this.timer.unref();
  }

  /** Queues a sweep unless one for this time slot exists already; true when this call queued it. */
  async requestSweep(): Promise<boolean> {
    if (!this.jobs) return false;
    try {
      const id = await this.jobs.send(SWEEP_QUEUE, {}, { singletonKey: "sweep", singletonSeconds: this.slotSeconds });
      return id !== null;
    } catch (error) {
      this.log.error({ err: (error as Error).message }, "could not queue the lifecycle sweep");
      return false;
    }
  }

  stop() {
    clearInterval(this.timer);
    this.jobs = undefined;
  }

  async sweep(now = new Date()) {
    if (this.running) return; // a slow sweep is not stacked on by the next tick
    this.running = true;
    try {
      await this.markLostWorkers(now);
      await this.cullIdle(now);
      await this.enforceLifetimes(now);
      this.completedSweeps += 1;
    } catch (error) {
      this.log.error({ err: (error as Error).message }, "lifecycle sweep failed");
    } finally {
      this.running = false;
    }
  }

  private async markLostWorkers(now: Date) {
    for (const id of await this.directory.staleIds(now.getTime())) {
      await this.store.markWorkerLost(id);
      const onWorker = await this.store.placedOn(id);
      let interrupted = 0;
      for (const environment of onWorker) {
        // Still on this worker and in the state read: one moved meanwhile (or by another sweep) is left alone.
        const change = await this.environments.lifecycle.transition(environment.id, environment.state, {
          to: "INTERRUPTED",
          reason: "WORKER_LOST",
          data: { error: WORKER_LOST_MESSAGE },
          also: { workerId: id },
        });
        if (!change) continue;
        interrupted++;
        // A student at the terminal is told now, not at their next click.
        this.environments.tellEnded(environment.id, WORKER_LOST_MESSAGE);
      }
      this.log.warn({ workerId: id, interrupted }, "worker lost: no heartbeat");
    }
  }

  private async cullIdle(now: Date) {
    for (const environment of await this.store.runningWithActivity()) {
      const idleMs = now.getTime() - environment.lastActivityAt.getTime();
      if (idleMs < environment.idleTimeoutMinutes * MINUTE_MS) continue;
      await this.environments
        .stopById(
          environment.id,
          "IDLE",
          `Stopped after ${environment.idleTimeoutMinutes} minutes without activity. Your files are kept: press Start again to continue.`,
        )
        .catch((error: Error) => this.log.error({ environmentId: environment.id, err: error.message }, "idle stop failed"));
    }
  }

  private async enforceLifetimes(now: Date) {
    for (const environment of await this.store.runningEndingBy(new Date(now.getTime() + LIFETIME_WARNING_MS))) {
      const leftMs = environment.expiresAt.getTime() - now.getTime();
      if (leftMs <= 0) {
        await this.environments
          .stopById(environment.id, "EXPIRED", "This environment reached its time limit and was stopped. Your files are kept: press Start again to continue.")
          .catch((error: Error) => this.log.error({ environmentId: environment.id, err: error.message }, "lifetime stop failed"));
      } else if (!environment.warnedAt) {
        // Claimed before it is sent: of two sweeps at once, only the one that set warnedAt warns.
        if (!(await this.store.claimLifetimeWarning(environment.id, now))) continue;
        const minutes = Math.max(1, Math.round(leftMs / MINUTE_MS));
        this.environments.warn(
          environment.id,
          `This environment stops in ${minutes} minute${minutes === 1 ? "" : "s"} (its time limit). Your files in ~/workspace are kept.`,
        );
      }
    }
  }
}
