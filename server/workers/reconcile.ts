/**
 * After a worker (re)connects, the database and the worker's containers are brought into
 * agreement: running containers are adopted, records of vanished or stopped containers are
 * corrected, and containers no environment owns any more are removed.
 */
import type { Logger } from "../../common/logger";
import { WorkerRequests } from "../../protocol/worker-contract";
import type { EnvironmentLifecycle } from "../environments/lifecycle";
import type { ReconcileStore } from "./reconcile-store";
import type { WorkerLink } from "./worker-link";

export async function reconcileWorker(
  store: ReconcileStore,
  lifecycle: Pick<EnvironmentLifecycle, "transition">,
  workers: Pick<WorkerLink, "request">,
  workerId: string,
  log: Logger,
) {
  const reply = await workers.request(workerId, WorkerRequests.listEnvironments, {}, 30_000);
  if (!reply.ok) throw new Error(reply.error);
  const onWorker = new Map(reply.environments.map((entry) => [entry.environmentId, entry.state]));
  const records = await store.recordsFor(workerId, [...onWorker.keys()]);
  const known = new Map(records.map((record) => [record.id, record]));

  let adopted = 0;
  let corrected = 0;
  for (const record of records) {
    if (record.workerId !== workerId || record.state === "DELETED") continue;
    const container = onWorker.get(record.id);
    if (container === "running" && record.state !== "RUNNING") {
      // From the state read: a record another replica moved meanwhile is left to it.
      if (await lifecycle.transition(record.id, record.state, { to: "RUNNING", data: { error: null, lastActivityAt: new Date() } })) adopted++;
    } else if (container !== "running" && (record.state === "RUNNING" || record.state === "STARTING" || record.state === "INTERRUPTED")) {
      if (await lifecycle.transition(record.id, record.state, { to: "STOPPED", data: { stoppedAt: new Date() } })) corrected++;
    }
  }

  let removed = 0;
  for (const environmentId of onWorker.keys()) {
    const record = known.get(environmentId);
    const orphan = !record || record.state === "DELETED" || (record.workerId !== null && record.workerId !== workerId);
    if (!orphan) continue;
    // No record at all: nothing will ever reopen the workspace either.
    const removal = await workers.request(
      workerId,
      WorkerRequests.removeEnvironment,
      { environmentId, removeVolume: !record || record.state === "DELETED" },
      30_000,
    );
    if (removal.ok) removed++;
  }
  log.info({ workerId, containers: onWorker.size, adopted, corrected, removed }, "worker reconciled");
  return { adopted, corrected, removed };
}
