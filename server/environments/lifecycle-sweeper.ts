/**
 * The periodic sweep, in the spirit of JupyterHub's idle culler: marks workers that stopped
 * heartbeating as LOST (their environments INTERRUPTED), stops environments idle past
 * their template's timeout, warns before the lifetime limit and stops at it. Every
 * replica may run it: each step is an idempotent update.
 */
import type { Logger } from "../../common/logger";
import type { Database } from "../database/client";
import type { WorkerDirectory } from "../workers/scheduler";
import type { EnvironmentService } from "./environment-service";

const MINUTE_MS = 60_000;
export const LIFETIME_WARNING_MS = 5 * MINUTE_MS;

export class LifecycleSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly db: Database,
    private readonly environments: EnvironmentService,
    private readonly directory: WorkerDirectory,
    private readonly log: Logger,
  ) {}

  start(intervalMs: number) {
    this.timer = setInterval(() => void this.sweep(), intervalMs);
    this.timer.unref();
  }

  stop() {
    clearInterval(this.timer);
  }

  async sweep(now = new Date()) {
    if (this.running) return; // a slow sweep is not stacked on by the next tick
    this.running = true;
    try {
      await this.markLostWorkers(now);
      await this.cullIdle(now);
      await this.enforceLifetimes(now);
    } catch (error) {
      this.log.error({ err: (error as Error).message }, "lifecycle sweep failed");
    } finally {
      this.running = false;
    }
  }

  private async markLostWorkers(now: Date) {
    for (const id of await this.directory.staleIds(now.getTime())) {
      await this.db.worker.update({ where: { id }, data: { status: "LOST" } });
      const interrupted = await this.db.environment.updateMany({
        where: { workerId: id, state: { in: ["RUNNING", "STARTING"] } },
        data: { state: "INTERRUPTED", stopReason: "WORKER_LOST", error: "The machine running this environment stopped answering." },
      });
      this.log.warn({ workerId: id, interrupted: interrupted.count }, "worker lost: no heartbeat");
    }
  }

  private async cullIdle(now: Date) {
    const running = await this.db.environment.findMany({
      where: { state: "RUNNING", lastActivityAt: { not: null } },
      select: { id: true, lastActivityAt: true, template: { select: { idleTimeoutMinutes: true } } },
    });
    for (const environment of running) {
      const idleMs = now.getTime() - environment.lastActivityAt!.getTime();
      if (idleMs < environment.template.idleTimeoutMinutes * MINUTE_MS) continue;
      await this.environments.stopById(environment.id, "IDLE",
        `Stopped after ${environment.template.idleTimeoutMinutes} minutes without activity. Your files are kept: press Start again to continue.`)
        .catch((error: Error) => this.log.error({ environmentId: environment.id, err: error.message }, "idle stop failed"));
    }
  }

  private async enforceLifetimes(now: Date) {
    const ending = await this.db.environment.findMany({
      where: { state: "RUNNING", expiresAt: { lte: new Date(now.getTime() + LIFETIME_WARNING_MS) } },
      select: { id: true, expiresAt: true, warnedAt: true },
    });
    for (const environment of ending) {
      const leftMs = environment.expiresAt!.getTime() - now.getTime();
      if (leftMs <= 0) {
        await this.environments.stopById(environment.id, "EXPIRED", "This environment reached its time limit and was stopped. Your files are kept: press Start again to continue.")
          .catch((error: Error) => this.log.error({ environmentId: environment.id, err: error.message }, "lifetime stop failed"));
      } else if (!environment.warnedAt) {
        const minutes = Math.max(1, Math.round(leftMs / MINUTE_MS));
        this.environments.warn(environment.id, `This environment stops in ${minutes} minute${minutes === 1 ? "" : "s"} (its time limit). Your files in ~/workspace are kept.`);
        await this.db.environment.update({ where: { id: environment.id }, data: { warnedAt: now } });
      }
    }
  }
}
