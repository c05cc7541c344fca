/** Waiting on the class bench's worker process: ready, its spare workspaces settled, its pool at a size. */
import type Docker from "dockerode";
import type { Database } from "../../server/database/client";
import { now, sleep } from "./measure";
import { pooledContainers } from "./pool-bench";

/** Waits until the worker is ready (its /readyz) and the server has its record. */
export async function waitForWorker(db: Database, workerId: string, metricsUrl: string, timeoutMs = 120_000) {
  const deadline = now() + timeoutMs;
  for (;;) {
    const ready = await fetch(`${metricsUrl}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready && (await db.worker.findUnique({ where: { id: workerId } }))?.status === "ONLINE") return;
    if (now() > deadline) throw new Error(`the worker ${workerId} was not ready within ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

/** The worker's own count of pooled containers ready to the shell (its /metrics). */
async function reportedGauge(metricsUrl: string, name: string): Promise<number> {
  const text = await fetch(`${metricsUrl}/metrics`).then((response) => response.text());
  const match = new RegExp(`^${name}(?:\\{\\})?\\s+(\\d+)`, "m").exec(text);
  return match ? Number(match[1]) : Number.NaN;
}
const reportedPoolSize = (metricsUrl: string) => reportedGauge(metricsUrl, "shellroom_worker_pool_size");

/**
 * Waits until the worker's stock of spare workspaces (spare-workspaces.ts) stops growing: a
 * worker prepares them after it starts and after every burst, and a round measured while it
 * refills would measure the refill too (on either side). Returns the stock it settled at.
 */
export async function waitForSpares(metricsUrl: string, timeoutMs: number) {
  const deadline = now() + timeoutMs;
  let last = -1;
  let steady = 0;
  for (;;) {
    const spares = await reportedGauge(metricsUrl, "shellroom_worker_spare_workspaces").catch(() => Number.NaN);
    steady = spares === last ? steady + 1 : 0;
    last = spares;
    // Steady for longer than the worker waits after a take before it refills (10 s).
    if (steady >= 24 || now() > deadline) return spares;
    await sleep(500);
  }
}

/** Waits until the worker reports `size` pooled and Docker holds exactly that many, running. */
export async function waitForPool(size: number, metricsUrl: string, docker: Docker, workerId: string, timeoutMs: number) {
  const deadline = now() + timeoutMs;
  for (;;) {
    const reported = await reportedPoolSize(metricsUrl).catch(() => Number.NaN);
    if (reported === size) {
      const inDocker = await pooledContainers(docker, workerId);
      if (inDocker.length === size && inDocker.every((container) => container.State === "running")) return;
    }
    if (now() > deadline) throw new Error(`the pool did not reach ${size} within ${timeoutMs / 1000} s (the worker reports ${reported})`);
    await sleep(500);
  }
}
