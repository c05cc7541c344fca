/**
 * The server's metrics (prom-client: one registry per server, the process's own metrics
 * beside ours) and its health/readiness answers. Gauges that mirror the database read it in
 * their collect(), right before each scrape.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Database } from "./database/client";
import type { EnvironmentChange } from "./environments/lifecycle";

/** Process metrics (CPU, memory, event loop lag, GC, file descriptors) carry this prefix. */
export const SERVER_PROCESS_METRICS_PREFIX = "shellroom_server_";

export function createServerMetrics(db: Database) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: SERVER_PROCESS_METRICS_PREFIX });
  const registers = [registry];

  // By state from the database at each scrape (every replica's environments, not just this one's);
  // the transitions this replica made come from the lifecycle's change event.
  new Gauge({
    name: "shellroom_environments",
    help: "Environments by lifecycle state",
    labelNames: ["state"],
    registers,
    async collect() {
      const byState = await readOrNull(() => db.environment.groupBy({ by: ["state"], _count: { _all: true } }));
      if (!byState) return;
      this.reset();
      for (const row of byState) this.set({ state: row.state }, row._count._all);
    },
  });
  new Gauge({
    name: "shellroom_workers",
    help: "Workers by status",
    labelNames: ["status"],
    registers,
    async collect() {
      const byStatus = await readOrNull(() => db.worker.groupBy({ by: ["status"], _count: { _all: true } }));
      if (!byStatus) return;
      this.reset();
      for (const row of byStatus) this.set({ status: row.status }, row._count._all);
    },
  });
  new Gauge({
    name: "shellroom_terminals_open",
    help: "Open terminal sessions, as last reported by online workers",
    registers,
    async collect() {
      const online = await readOrNull(() => db.worker.aggregate({ where: { status: "ONLINE" }, _sum: { openTerminals: true } }));
      if (online) this.set(online._sum.openTerminals ?? 0);
    },
  });
  const transitions = new Counter({
    name: "shellroom_environment_transitions_total",
    help: "Environment state changes made by this replica, by from, to and reason",
    labelNames: ["from", "to", "reason"],
    registers,
  });
  const starts = new Counter({
    name: "shellroom_environment_starts_total",
    help: "Environment start requests by result",
    labelNames: ["result"],
    registers,
  });
  const startSeconds = new Histogram({
    name: "shellroom_environment_start_seconds",
    help: "Time to start or resume an environment, by result",
    labelNames: ["result"],
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers,
  });

  const relayed = new Counter({
    name: "shellroom_relayed_streams_total",
    help: "Byte streams to a worker on another replica: asked here or served here for another, by kind and outcome",
    labelNames: ["side", "kind", "outcome"],
    registers,
  });

  return {
    registry,
    recordRelay(side: "asked" | "served", kind: string, outcome: "opened" | "refused" | "unavailable" | "forbidden") {
      relayed.inc({ side, kind, outcome });
    },
    recordStart(result: "ok" | "failed", seconds: number) {
      starts.inc({ result });
      startSeconds.observe({ result }, seconds);
    },
    recordTransition(change: EnvironmentChange) {
      transitions.inc({ from: change.from, to: change.to, reason: change.reason ?? "none" });
    },
  };
}
export type ServerMetrics = ReturnType<typeof createServerMetrics>;

/** A database that does not answer leaves the gauge at its last reading rather than failing the whole scrape. */
async function readOrNull<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch {
    return null;
  }
}

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
