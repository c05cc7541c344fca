/**
 * The worker's own HTTP listener: Prometheus /metrics, /healthz (the process answers) and
 * /readyz (the runtime answers and the server link is up).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, MetricsRegistry, PROMETHEUS_CONTENT_TYPE } from "../common/metrics";
import type { EnvironmentManager } from "./environments";

export function createWorkerMetrics() {
  const registry = new MetricsRegistry();
  return {
    registry,
    requests: registry.register(new Counter("shellroom_worker_requests_total", "Server requests handled, by event and result")),
    terminals: registry.register(new Gauge("shellroom_worker_terminals_open", "Open terminal sessions")),
    running: registry.register(new Gauge("shellroom_worker_environments_running", "Running environment containers")),
    pool: registry.register(new Gauge("shellroom_worker_pool_size", "Warm containers ready to hand out")),
    spares: registry.register(new Gauge("shellroom_worker_spare_workspaces", "Workspace images formatted and mounted ahead of need")),
  };
}
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

export async function startWorkerHttp(options: {
  port: number;
  host: string;
  metrics: WorkerMetrics;
  environments: EnvironmentManager;
  pooled?: () => number;
  spares?: () => number;
  connectedToServer(): boolean;
}) {
  const { metrics, environments } = options;
  metrics.registry.collect(async () => {
    metrics.terminals.set({}, environments.openTerminalCount);
    metrics.running.set({}, await environments.runningCount());
    metrics.pool.set({}, options.pooled?.() ?? 0);
    metrics.spares.set({}, options.spares?.() ?? 0);
  });
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: string, type = "text/plain") => {
      res.writeHead(status, { "content-type": type });
      res.end(body);
    };
    if (req.url === "/healthz") return reply(200, "ok\n");
    if (req.url === "/readyz") {
      void environments.runningCount()
        .then(() => (options.connectedToServer() ? reply(200, "ready\n") : reply(503, "not ready: not connected to the server\n")))
        .catch((error: Error) => reply(503, `not ready: runtime: ${error.message}\n`));
      return;
    }
    if (req.url === "/metrics") {
      void metrics.registry.render().then((text) => reply(200, text, PROMETHEUS_CONTENT_TYPE));
      return;
    }
    reply(404, "not found\n");
  });
  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
