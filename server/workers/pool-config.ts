/** Tells workers which warm pools to keep: every template with a pool size, per worker. */
import type { Logger } from "../../common/logger";
import { ServerToWorker, type ConfigurePools, type WorkerReply } from "../../protocol/worker-messages";
import type { Database } from "../database/client";
import { containerShapeOf } from "../environments/template-spec";
import type { WorkerDirectory } from "./scheduler";
import type { WorkerLink } from "./worker-link";

export async function poolConfiguration(db: Database): Promise<ConfigurePools> {
  const templates = await db.environmentTemplate.findMany({ where: { warmPoolSize: { gt: 0 } } });
  return { pools: templates.map((template) => ({ template: containerShapeOf(template), size: template.warmPoolSize })) };
}

export async function pushPoolConfiguration(db: Database, workers: WorkerLink, directory: WorkerDirectory, log: Logger, workerIds?: string[]) {
  const config = await poolConfiguration(db);
  for (const workerId of workerIds ?? (await directory.liveIds())) {
    const reply = await workers.request<WorkerReply>(workerId, ServerToWorker.configurePools, config, 30_000).catch((error: Error) => ({ ok: false as const, error: error.message }));
    if (!reply.ok) log.warn({ workerId, err: reply.error }, "could not configure warm pools");
  }
}
