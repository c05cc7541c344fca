/**
 * Reconcile on the fake store and a fake worker: when a worker (re)connects, running
 * containers are adopted, records of vanished or stopped containers corrected, containers no
 * environment owns removed (with their workspace only when no record will ever reopen it),
 * and a record another replica moved meanwhile is left to it.
 */
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { volumeName } from "../../runtime-worker/docker/container-config";
import { EnvironmentLifecycle } from "../../server/environments/lifecycle";
import { reconcileWorker } from "../../server/workers/reconcile";
import type { ReconcileStore } from "../../server/workers/reconcile-store";
import { fakeWorker, freshSpec, quietLog } from "../support/fake-runtime/fake-worker";
import { FakeWorkerLink } from "../support/fake-runtime/fake-worker-link";
import { fakeStores } from "../support/fake-store/fake-stores";
import { FakeTables } from "../support/fake-store/fake-tables";

const NOW = new Date("2026-03-02T09:00:00Z");

beforeEach(() => {
  vi.useFakeTimers({ now: NOW, toFake: ["Date"] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A worker on the fake runtime, its record, and the server's stores and link. */
function setting() {
  const tables = new FakeTables();
  const stores = fakeStores(tables);
  const lifecycle = new EnvironmentLifecycle(stores.states);
  const worker = fakeWorker();
  const workerId = tables.addWorker().id;
  const link = new FakeWorkerLink();
  link.connect(workerId, worker.manager);
  /** A container on the worker for a new environment id, running or stopped. */
  const container = async (state: "running" | "stopped", environmentId = freshSpec().environmentId) => {
    await worker.manager.start(freshSpec({ environmentId }));
    if (state === "stopped") await worker.manager.stop(environmentId);
    return environmentId;
  };
  const reconcile = (store: ReconcileStore = stores.reconcile) => reconcileWorker(store, lifecycle, link, workerId, quietLog());
  return { tables, stores, lifecycle, worker, workerId, container, reconcile };
}

it("adopts a running container whose record says otherwise: RUNNING, its error cleared, activity from now", async () => {
  const { tables, workerId, container, reconcile } = setting();
  const starting = await container("running");
  const interrupted = await container("running");
  tables.addEnvironment({ id: starting, workerId, state: "STARTING" });
  tables.addEnvironment({ id: interrupted, workerId, state: "INTERRUPTED", stopReason: "WORKER_LOST", error: "The machine stopped answering." });

  expect(await reconcile()).toEqual({ adopted: 2, corrected: 0, removed: 0 });
  expect(tables.environment(starting)).toMatchObject({ state: "RUNNING", lastActivityAt: NOW });
  expect(tables.environment(interrupted)).toMatchObject({ state: "RUNNING", stopReason: null, error: null, lastActivityAt: NOW });
});

it("corrects records whose container vanished or stopped: STOPPED, the workspace kept", async () => {
  const { tables, worker, workerId, container, reconcile } = setting();
  const vanished = tables.addEnvironment({ workerId, state: "RUNNING" }).id;
  const stopped = await container("stopped");
  tables.addEnvironment({ id: stopped, workerId, state: "RUNNING" });
  const lostStart = tables.addEnvironment({ workerId, state: "STARTING" }).id;
  const alreadyStopped = tables.addEnvironment({ workerId, state: "STOPPED", stopReason: "USER" }).id;

  expect(await reconcile()).toEqual({ adopted: 0, corrected: 3, removed: 0 });
  for (const id of [vanished, stopped, lostStart]) expect(tables.environment(id)).toMatchObject({ state: "STOPPED", stoppedAt: NOW });
  expect(tables.environment(alreadyStopped)).toMatchObject({ state: "STOPPED", stopReason: "USER", stoppedAt: null });
  // A stopped container is left for its resume; only the record changed.
  expect(await worker.driver.state(stopped)).toBe("stopped");
  expect(worker.driver.engine.volumes.has(volumeName(stopped))).toBe(true);
});

it("removes containers no environment here owns: with their workspace when no record will reopen it, without when one may", async () => {
  const { tables, worker, workerId, container, reconcile } = setting();
  const elsewhere = tables.addWorker().id;
  const noRecord = await container("running");
  const deleted = await container("stopped");
  tables.addEnvironment({ id: deleted, workerId, state: "DELETED" });
  const movedAway = await container("running");
  tables.addEnvironment({ id: movedAway, workerId: elsewhere, state: "RUNNING" });
  const unplacedRecord = await container("stopped");
  tables.addEnvironment({ id: unplacedRecord, workerId: null, state: "STOPPED" });

  expect(await reconcile()).toEqual({ adopted: 0, corrected: 0, removed: 3 });
  const left = (await worker.driver.list()).map((entry) => entry.environmentId);
  expect(left).toEqual([unplacedRecord]);
  expect(worker.driver.engine.volumes.has(volumeName(noRecord))).toBe(false);
  expect(worker.driver.engine.volumes.has(volumeName(deleted))).toBe(false);
  // Its record lives on elsewhere: the workspace here is not this reconcile's to destroy.
  expect(worker.driver.engine.volumes.has(volumeName(movedAway))).toBe(true);
  // The records themselves are not this worker's to change.
  expect(tables.environment(movedAway)).toMatchObject({ state: "RUNNING", workerId: elsewhere });
  expect(tables.environment(deleted)).toMatchObject({ state: "DELETED" });
});

it("leaves a record another replica moved between the read and the write", async () => {
  const { tables, stores, workerId, container, reconcile } = setting();
  const failedMeanwhile = await container("running");
  tables.addEnvironment({ id: failedMeanwhile, workerId, state: "STARTING" });
  const stoppedMeanwhile = tables.addEnvironment({ workerId, state: "RUNNING" }).id;
  // Another replica, on the same records: it moves both just after reconcile read them.
  const otherReplica = new EnvironmentLifecycle(stores.states);
  const racingStore = {
    async recordsFor(...args: Parameters<typeof stores.reconcile.recordsFor>) {
      const records = await stores.reconcile.recordsFor(...args);
      await otherReplica.transition(failedMeanwhile, "STARTING", { to: "FAILED", data: { error: "start timed out" } });
      await otherReplica.transition(stoppedMeanwhile, "RUNNING", { to: "STOPPED", reason: "STAFF" });
      return records;
    },
  };

  expect(await reconcile(racingStore)).toEqual({ adopted: 0, corrected: 0, removed: 0 });
  expect(tables.environment(failedMeanwhile)).toMatchObject({ state: "FAILED", error: "start timed out" });
  expect(tables.environment(stoppedMeanwhile)).toMatchObject({ state: "STOPPED", stopReason: "STAFF", stoppedAt: null });
});

it("changes nothing on a second pass: the worker and the records agree", async () => {
  const { tables, workerId, container, reconcile } = setting();
  const running = await container("running");
  tables.addEnvironment({ id: running, workerId, state: "STARTING" });
  tables.addEnvironment({ workerId, state: "RUNNING" });
  await container("running");
  expect(await reconcile()).toEqual({ adopted: 1, corrected: 1, removed: 1 });
  expect(await reconcile()).toEqual({ adopted: 0, corrected: 0, removed: 0 });
});
