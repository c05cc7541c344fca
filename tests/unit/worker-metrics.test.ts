/** The worker's metrics: its process's own, its gauges as the bench reads them, requests by event. */
import { describe, expect, it } from "vitest";
import { createWorkerMetrics } from "../../runtime-worker/observability";

/** The bench's reading of a gauge (tests/bench/class-bench.ts, reportedGauge). */
const benchReading = (text: string, name: string) => {
  const match = new RegExp(`^${name}(?:\\{\\})?\\s+(\\d+)`, "m").exec(text);
  return match ? Number(match[1]) : Number.NaN;
};

describe("the worker's metrics", () => {
  it("include the process's own (CPU, memory, event loop), under the worker's prefix", async () => {
    const text = await createWorkerMetrics().registry.metrics();
    for (const name of [
      "shellroom_worker_process_cpu_seconds_total",
      "shellroom_worker_process_resident_memory_bytes",
      "shellroom_worker_nodejs_eventloop_lag_seconds",
      "shellroom_worker_nodejs_heap_size_used_bytes",
    ]) {
      expect(text).toMatch(new RegExp(`^${name} \\d`, "m"));
    }
  });

  it("read the gauges' sources at each scrape, in lines the bench parses", async () => {
    const metrics = createWorkerMetrics();
    let pooled = 12;
    metrics.readFrom({ terminals: () => 3, running: async () => 5, pooled: () => pooled, spares: () => 7 });
    let text = await metrics.registry.metrics();
    expect(benchReading(text, "shellroom_worker_pool_size")).toBe(12);
    expect(benchReading(text, "shellroom_worker_spare_workspaces")).toBe(7);
    expect(benchReading(text, "shellroom_worker_terminals_open")).toBe(3);
    expect(benchReading(text, "shellroom_worker_environments_running")).toBe(5);
    pooled = 40;
    text = await metrics.registry.metrics();
    expect(benchReading(text, "shellroom_worker_pool_size")).toBe(40);
  });

  it("keep a gauge's last reading when its source fails, and still answer the scrape", async () => {
    const metrics = createWorkerMetrics();
    let engineUp = true;
    metrics.readFrom({
      terminals: () => 0,
      pooled: () => 0,
      spares: () => 0,
      running: async () => {
        if (!engineUp) throw new Error("the engine does not answer");
        return 9;
      },
    });
    expect(benchReading(await metrics.registry.metrics(), "shellroom_worker_environments_running")).toBe(9);
    engineUp = false;
    expect(benchReading(await metrics.registry.metrics(), "shellroom_worker_environments_running")).toBe(9);
  });

  it("count requests and time them in a histogram labelled by event and result", async () => {
    const metrics = createWorkerMetrics();
    metrics.recordRequest("environment:start", "ok", 0.3);
    metrics.recordRequest("environment:start", "ok", 2);
    metrics.recordRequest("terminal:input", "busy", 0.001);
    const text = await metrics.registry.metrics();
    expect(text).toContain('shellroom_worker_requests_total{event="environment:start",result="ok"} 2');
    expect(text).toContain('shellroom_worker_requests_total{event="terminal:input",result="busy"} 1');
    expect(text).toContain('shellroom_worker_request_seconds_bucket{le="0.5",event="environment:start",result="ok"} 1');
    expect(text).toContain('shellroom_worker_request_seconds_bucket{le="+Inf",event="environment:start",result="ok"} 2');
    expect(text).toContain('shellroom_worker_request_seconds_count{event="terminal:input",result="busy"} 1');
  });
});
