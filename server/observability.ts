/** The server's metrics and its health/readiness answers. */
import { Counter, Gauge, Histogram, MetricsRegistry } from "../common/metrics";
import type { Database } from "./database/client";
import type { EnvironmentChange } from "./environments/lifecycle";

export function createServerMetrics(db: Database) {
  const registry = new MetricsRegistry();
  // By state from the database at each scrape (every replica's environments, not just this one's);
  // the transitions this replica made come from the lifecycle's change event.
  const environments = registry.register(new Gauge("shellroom_environments", "Environments by lifecycle state"));
  const transitions = registry.register(new Counter("shellroom_environment_transitions_total", "Environment state changes made by this replica, by from, to and reason"));
  const workers = registry.register(new Gauge("shellroom_workers", "Workers by status"));
  const terminals = registry.register(new Gauge("shellroom_terminals_open", "Open terminal sessions, as last reported by workers"));
  const starts = registry.register(new Counter("shellroom_environment_starts_total", "Environment start requests by result"));
  const startSeconds = registry.register(new Histogram("shellroom_environment_start_seconds", "Time to start or resume an environment",
    [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60]));

  registry.collect(async () => {
    const byState = await db.environment.groupBy({ by: ["state"], _count: { _all: true } });
    environments.reset();
    for (const row of byState) environments.set({ state: row.state }, row._count._all);
    const byStatus = await db.worker.groupBy({ by: ["status"], _count: { _all: true }, _sum: { openTerminals: true } });
    workers.reset();
    let open = 0;
    for (const row of byStatus) {
      workers.set({ status: row.status }, row._count._all);
      if (row.status === "ONLINE") open += row._sum.openTerminals ?? 0;
    }
    terminals.set({}, open);
  });

  return {
    registry,
    recordStart(result: "ok" | "failed", seconds: number) {
      starts.inc({ result });
      startSeconds.observe(seconds);
    },
    recordTransition(change: EnvironmentChange) {
      transitions.inc({ from: change.from, to: change.to, reason: change.reason ?? "none" });
    },
  };
}
export type ServerMetrics = ReturnType<typeof createServerMetrics>;

/** Ready when the database answers (and Redis, when configured). */
export async function readiness(db: Database, redisPing?: () => Promise<unknown>): Promise<string | null> {
  try {
    await db.$queryRaw`SELECT 1`;
  } catch (error) {
    return `database: ${(error as Error).message}`;
  }
  if (redisPing) {
    try {
      await redisPing();
    } catch (error) {
      return `redis: ${(error as Error).message}`;
    }
  }
  return null;
}
