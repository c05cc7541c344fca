/**
 * The worker's own HTTP listener: Prometheus /metrics, /healthz (the process answers) and
 * /readyz (the runtime answers and the server link is up). Metrics are prom-client's: one
 * registry per worker, the process's own metrics beside ours; the gauges read their source
 * at each scrape.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { EnvironmentManager } from "./environments";

/** Process metrics (CPU, memory, event loop lag, GC, file descriptors) carry this prefix. */
export const WORKER_PROCESS_METRICS_PREFIX = "shellroom_worker_";

export type WorkerRequestResult = "ok" | "invalid" | "busy" | "failed";

/** Where the gauges read from at each scrape (the HTTP listener names them; zero until then). */
export interface WorkerGaugeSources {
  terminals(): number;
  running(): Promise<number>;
  pooled(): number;
  spares(): number;
}

export function createWorkerMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: WORKER_PROCESS_METRICS_PREFIX });
  const registers = [registry];
  let sources: WorkerGaugeSources | undefined;
  // Unlabelled gauges print as `name 12`: the bench reads the pool and the spares that way.
  // A source that fails (the engine not answering) keeps its last reading rather than failing the whole scrape.
  const gauge = (name: string, help: string, read: (from: WorkerGaugeSources) => number | Promise<number>) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const from = sources;
        const value = from
          ? await Promise.resolve()
              .then(() => read(from))
              .catch(() => undefined)
          : 0;
        if (value !== undefined) this.set(value);
      },
    });
  gauge("shellroom_worker_terminals_open", "Open terminal sessions", (from) => from.terminals());
  gauge("shellroom_worker_environments_running", "Running environment containers", (from) => from.running());
  gauge("shellroom_worker_pool_size", "Warm containers ready to hand out", (from) => from.pooled());
  gauge("shellroom_worker_spare_workspaces", "Workspace images formatted and mounted ahead of need", (from) => from.spares());
  const requests = new Counter({
    name: "shellroom_worker_requests_total",
    help: "Server requests handled, by event and result",
    labelNames: ["event", "result"],
    registers,
  });
  const requestSeconds = new Histogram({
    name: "shellroom_worker_request_seconds",
    help: "Time to answer a server request, by event and result",
    labelNames: ["event", "result"],
    buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  return {
    registry,
    recordRequest(event: string, result: WorkerRequestResult, seconds: number) {
      requests.inc({ event, result });
      requestSeconds.observe({ event, result }, seconds);
    },
    /** Names what the gauges report; until then they read zero. */
    readFrom(from: WorkerGaugeSources) {
      sources = from;
    },
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
  metrics.readFrom({
    terminals: () => environments.openTerminalCount,
    running: () => environments.runningCount(),
    pooled: () => options.pooled?.() ?? 0,
    spares: () => options.spares?.() ?? 0,
  });
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: string, type = "text/plain") => {
      res.writeHead(status, { "content-type": type });
      res.end(body);
    };
    if (req.url === "/healthz") return reply(200, "ok\n");
    if (req.url === "/readyz") {
      void environments
        .runningCount()
        .then(() => (options.connectedToServer() ? reply(200, "ready\n") : reply(503, "not ready: not connected to the server\n")))
        .catch((error: Error) => reply(503, `not ready: runtime: ${error.message}\n`));
      return;
    }
    if (req.url === "/metrics") {
      void metrics.registry.metrics().then(
        (text) => reply(200, text, metrics.registry.contentType),
        (error: Error) => reply(500, `metrics could not be collected: ${error.message}\n`),
      );
      return;
    }
    reply(404, "not found\n");
  });
  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
