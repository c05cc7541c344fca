/** Operators can scrape both processes (the server's /metrics behind its token) and ask whether they are ready. */
import { afterAll, beforeAll, expect, it } from "vitest";
import { startWorkerHttp } from "../../runtime-worker/observability";
import { until } from "../support/until";
import { startHarness, type Harness } from "../support/platform-harness";

const METRICS_TOKEN = "observability-test-token-0123456789";
let harness: Harness;
let workerHttp: Awaited<ReturnType<typeof startWorkerHttp>>;
beforeAll(async () => {
  harness = await startHarness({ server: { metricsToken: METRICS_TOKEN } });
  workerHttp = await startWorkerHttp({
    port: 0,
    host: "127.0.0.1",
    metrics: harness.worker.metrics,
    environments: harness.worker.environments,
    pooled: () => harness.worker.pool.size,
    connectedToServer: () => harness.worker.socket.connected,
  });
  const student = await harness.newStudent("Measured Student");
  expect((await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie })).status).toBe(200);
});
afterAll(async () => {
  await workerHttp?.close();
  await harness?.close();
});

const scrape = (headers: Record<string, string> = {}) => fetch(`${harness.url}/metrics`, { headers });

it("the server's /metrics refuses a scraper without its bearer token, even on this machine", async () => {
  for (const headers of [{}, { authorization: "Bearer not-the-token-0123456789" }] as Record<string, string>[]) {
    const refused = await scrape(headers);
    expect([refused.status, refused.headers.get("www-authenticate")]).toEqual([401, 'Bearer realm="metrics"']);
    expect(await refused.text()).not.toContain("shellroom_");
  }
});

it("the server exposes environments by state, starts and their latency by result, its process, and is ready when its database and Redis answer", async () => {
  const response = await scrape({ authorization: `Bearer ${METRICS_TOKEN}` });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const metrics = await response.text();
  expect(metrics).toContain('shellroom_environments{state="RUNNING"} 1');
  expect(metrics).toContain('shellroom_environment_starts_total{result="ok"} 1');
  expect(metrics).toContain('shellroom_environment_start_seconds_count{result="ok"} 1\n');
  expect(metrics).toContain('shellroom_environment_start_seconds_bucket{le="+Inf",result="ok"} 1\n');
  expect(metrics).toMatch(/^shellroom_workers\{status="ONLINE"\} 1$/m);
  expect(metrics).toMatch(/^shellroom_terminals_open \d+$/m);
  expect(metrics).toMatch(/^shellroom_environment_transitions_total\{from="STARTING",to="RUNNING",reason="none"\} 1$/m);
  expect(metrics).toMatch(/^shellroom_server_process_cpu_seconds_total \d/m);
  expect(metrics).toMatch(/^shellroom_server_nodejs_eventloop_lag_seconds \d/m);
  const ready = await fetch(`${harness.url}/readyz`);
  expect([ready.status, await ready.text()]).toEqual([200, "ready\n"]);
  // A start can be placed: the harness's worker beats.
  const workers = await fetch(`${harness.url}/readyz/workers`);
  expect([workers.status, await workers.text()]).toEqual([200, "ready: 1 live worker(s)\n"]);
});

it("/readyz/workers says not ready while no worker beats (the launcher waits for it before printing the URL)", async () => {
  try {
    // A heartbeat that reports a change of load records the worker ONLINE again: mark it again until the answer is read.
    const none = await until("/readyz/workers with no worker online", async () => {
      await harness.db.worker.updateMany({ data: { status: "OFFLINE" } });
      const answer = await fetch(`${harness.url}/readyz/workers`);
      return answer.status === 503 ? [answer.status, await answer.text()] : null;
    });
    expect(none).toEqual([503, "not ready: no live worker\n"]);
  } finally {
    await harness.db.worker.updateMany({ data: { status: "ONLINE" } });
  }
});

it("the worker exposes its requests (counted and timed by event), terminals, running containers, pool and process, and is ready while linked to the server", async () => {
  const base = `http://127.0.0.1:${workerHttp.port}`;
  const metrics = await (await fetch(`${base}/metrics`)).text();
  expect(metrics).toContain('shellroom_worker_requests_total{event="environment:start",result="ok"} 1');
  expect(metrics).toContain('shellroom_worker_request_seconds_count{event="environment:start",result="ok"} 1');
  expect(metrics).toMatch(/^shellroom_worker_environments_running 1$/m);
  // In the shape the bench reads (tests/bench/class-bench.ts).
  expect(metrics).toMatch(/^shellroom_worker_pool_size(?:\{\})?\s+\d+$/m);
  expect(metrics).toMatch(/^shellroom_worker_process_resident_memory_bytes \d/m);
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
  expect((await fetch(`${base}/readyz`)).status).toBe(200);
});
