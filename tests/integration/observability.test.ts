/** Operators can scrape both processes and ask whether they are ready. */
import { afterAll, beforeAll, expect, it } from "vitest";
import { startWorkerHttp } from "../../runtime-worker/observability";
import { startHarness, type Harness } from "../support/platform-harness";

let harness: Harness;
let workerHttp: Awaited<ReturnType<typeof startWorkerHttp>>;
beforeAll(async () => {
  harness = await startHarness();
  workerHttp = await startWorkerHttp({
    port: 0, host: "127.0.0.1", metrics: harness.worker.metrics, environments: harness.worker.environments,
    connectedToServer: () => harness.worker.socket.connected,
  });
  const student = await harness.newStudent("Measured Student");
  expect((await harness.trpc("environment.startForLab", { labId: harness.labId }, { cookie: student.cookie })).status).toBe(200);
});
afterAll(async () => {
  await workerHttp?.close();
  await harness?.close();
});

it("the server exposes environments by state, starts and their latency, and is ready when its database and Redis answer", async () => {
  const metrics = await (await fetch(`${harness.url}/metrics`)).text();
  expect(metrics).toContain('shellroom_environments{state="RUNNING"} 1');
  expect(metrics).toContain('shellroom_environment_starts_total{result="ok"} 1');
  expect(metrics).toMatch(/shellroom_environment_start_seconds_count 1\n/);
  expect(metrics).toMatch(/shellroom_workers\{status="ONLINE"\} 1/);
  const ready = await fetch(`${harness.url}/readyz`);
  expect([ready.status, await ready.text()]).toEqual([200, "ready\n"]);
});

it("the worker exposes its requests, terminals and running containers, and is ready while linked to the server", async () => {
  const base = `http://127.0.0.1:${workerHttp.port}`;
  const metrics = await (await fetch(`${base}/metrics`)).text();
  expect(metrics).toContain('shellroom_worker_requests_total{event="environment:start",result="ok"} 1');
  expect(metrics).toContain("shellroom_worker_environments_running 1");
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
  expect((await fetch(`${base}/readyz`)).status).toBe(200);
});
