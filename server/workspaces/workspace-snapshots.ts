/**
 * Exports taken ahead of need, so a lost host's workspaces can be restored: every
 * `intervalMinutes` (SHELLROOM_SNAPSHOT_MINUTES; off by default), each workspace used since its
 * last export is exported again, one at a time. Each replica exports the workspaces of the
 * workers connected to it (a byte stream needs the worker's own socket), so replicas never
 * export one twice. An administrator can also export a worker's workspaces now (before
 * maintenance, or a drain).
 */
import type { Logger } from "../../common/logger";
import type { Database } from "../database/client";
import { WorkspaceTransferError, type WorkspaceTransfers } from "./workspace-transfers";

const MINUTE_MS = 60_000;

export interface SnapshotPass {
  exported: number;
  failed: number;
  /** Their worker is connected to another replica (or none): that replica's pass takes them. */
  elsewhere: number;
}

export class WorkspaceSnapshots {
  private timer?: NodeJS.Timeout;
  private running: Promise<SnapshotPass> | null = null;

  constructor(
    private readonly db: Database,
    private readonly transfers: WorkspaceTransfers,
    private readonly log: Logger,
    /** 0: no periodic snapshots. */
    readonly intervalMinutes = 0,
  ) {}

  start() {
    if (this.intervalMinutes <= 0) return;
    // Looked at every minute (or interval, if shorter): a workspace is due once its last export is older than the interval.
    this.timer = setInterval(() => void this.runOnce(), Math.min(this.intervalMinutes * MINUTE_MS, MINUTE_MS));
    this.timer.unref();
  }

  stop() {
    clearInterval(this.timer);
  }

  /** One pass over the workspaces due (one pass at a time in this process). */
  runOnce(now = new Date()): Promise<SnapshotPass> {
    this.running ??= this.pass(now).finally(() => (this.running = null));
    return this.running;
  }

  /** Exports every workspace on `workerId` now, whatever its last export; how it went. */
  async exportWorker(workerId: string): Promise<SnapshotPass> {
    const environments = await this.db.environment.findMany({ where: { workerId, volumeName: { not: null } }, select: { id: true } });
    return this.exportAll(environments.map((environment) => environment.id));
  }

  private async pass(now: Date): Promise<SnapshotPass> {
    const due: string[] = [];
    const environments = await this.db.environment.findMany({
      where: { workerId: { not: null }, volumeName: { not: null } },
      select: { id: true, lastActivityAt: true, startedAt: true },
    });
    for (const environment of environments) {
      const last = await this.transfers.store.latest(environment.id);
      const usedAt = environment.lastActivityAt ?? environment.startedAt;
      const stale = !last || last.createdAt.getTime() <= now.getTime() - this.intervalMinutes * MINUTE_MS;
      if (!last || (stale && usedAt && usedAt > last.createdAt)) due.push(environment.id);
    }
    return this.exportAll(due);
  }

  private async exportAll(environmentIds: string[]): Promise<SnapshotPass> {
    const outcome: SnapshotPass = { exported: 0, failed: 0, elsewhere: 0 };
    for (const environmentId of environmentIds) {
      try {
        await this.transfers.exportToStore(environmentId);
        outcome.exported += 1;
      } catch (error) {
        if (error instanceof WorkspaceTransferError && error.code === "worker_unavailable") outcome.elsewhere += 1;
        else {
          outcome.failed += 1;
          this.log.warn({ environmentId, err: (error as Error).message }, "workspace snapshot failed");
        }
      }
    }
    if (outcome.exported + outcome.failed > 0) this.log.info(outcome, "workspace snapshots taken");
    return outcome;
  }
}
