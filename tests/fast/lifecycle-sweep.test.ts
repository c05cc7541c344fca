/**
 * The lifecycle sweep on the fake store, with fake timers for the clock: a worker that stopped
 * heartbeating is LOST and its environments INTERRUPTED, an environment idle past its
 * template's timeout is stopped, and one near its lifetime limit is warned once (even by two
 * replicas sweeping at once) and stopped at the limit. Hours pass in no time.
 */
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { EnvironmentLifecycle, type StopReason } from "../../server/environments/lifecycle";
import { LifecycleSweeper, WORKER_LOST_MESSAGE } from "../../server/environments/lifecycle-sweeper";
import type { SweepStore } from "../../server/environments/sweep-store";
import { MemoryHeartbeats } from "../../server/workers/heartbeats";
import { HEARTBEAT_STALE_MS, WorkerDirectory } from "../../server/workers/scheduler";
import { quietLog } from "../support/fake-runtime/fake-worker";
import { FakeSweepStore, fakeStores } from "../support/fake-store/fake-stores";
import { FakeTables } from "../support/fake-store/fake-tables";

const MINUTE_MS = 60_000;
const BEAT_MS = 5_000;

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-03-02T09:00:00Z") });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A server replica's sweep over shared records: stops and warnings recorded, stops made through the lifecycle. */
function replica(tables: FakeTables, heartbeats: MemoryHeartbeats, sweepStore?: SweepStore) {
  const stores = fakeStores(tables);
  const lifecycle = new EnvironmentLifecycle(stores.states);
  const stops: Array<{ environmentId: string; reason: StopReason; notice?: string }> = [];
  const warnings: Array<{ environmentId: string; message: string }> = [];
  const ended: Array<{ environmentId: string; message: string }> = [];
  const environments = {
    lifecycle,
    // The sweep's part ends at asking; what a stop does (the worker, the notice) is the service's.
    async stopById(environmentId: string, reason: StopReason, notice?: string) {
      stops.push({ environmentId, reason, notice });
      await lifecycle.move(environmentId, { to: "STOPPED", reason, data: { containerId: null, stoppedAt: new Date() } });
      return { state: "STOPPED" as const };
    },
    warn: (environmentId: string, message: string) => warnings.push({ environmentId, message }),
    tellEnded: (environmentId: string, message: string) => ended.push({ environmentId, message }),
  };
  const sweeper = new LifecycleSweeper(sweepStore ?? stores.sweep, environments, new WorkerDirectory(stores.directory, heartbeats), quietLog());
  return { sweeper, stops, warnings, ended };
}

/** Records, heartbeats, one replica, and a worker that beats every few seconds (on the fake clock). */
function setting() {
  const tables = new FakeTables();
  const heartbeats = new MemoryHeartbeats();
  const workerId = tables.addWorker().id;
  void heartbeats.beat(workerId);
  setInterval(() => void heartbeats.beat(workerId), BEAT_MS);
  return { tables, heartbeats, workerId, ...replica(tables, heartbeats) };
}

it("marks a worker that stopped heartbeating LOST, interrupts its starting and running environments, and tells their viewers why", async () => {
  const { tables, heartbeats, workerId: beating, sweeper, ended } = setting();
  const silent = tables.addWorker().id;
  await heartbeats.beat(silent);
  const running = tables.addEnvironment({ workerId: silent, state: "RUNNING" }).id;
  const starting = tables.addEnvironment({ workerId: silent, state: "STARTING" }).id;
  const stopped = tables.addEnvironment({ workerId: silent, state: "STOPPED", stopReason: "USER" }).id;
  const onBeating = tables.addEnvironment({ workerId: beating, state: "RUNNING" }).id;

  await vi.advanceTimersByTimeAsync(HEARTBEAT_STALE_MS);
  await sweeper.sweep();
  expect(tables.worker(silent)!.status).toBe("ONLINE"); // just within the window

  await vi.advanceTimersByTimeAsync(1);
  await sweeper.sweep();
  expect(tables.worker(silent)!.status).toBe("LOST");
  for (const id of [running, starting]) {
    expect(tables.environment(id)).toMatchObject({ state: "INTERRUPTED", stopReason: "WORKER_LOST", error: expect.stringContaining("stopped answering") });
  }
  expect(ended).toEqual([running, starting].map((environmentId) => ({ environmentId, message: WORKER_LOST_MESSAGE })));
  expect(tables.environment(stopped)).toMatchObject({ state: "STOPPED", stopReason: "USER" });
  expect(tables.worker(beating)!.status).toBe("ONLINE");
  expect(tables.environment(onBeating)!.state).toBe("RUNNING");
});

it("interrupts only what is still on the lost worker in the state read: an environment moved meanwhile is left alone", async () => {
  const { tables, heartbeats } = setting();
  const silent = tables.addWorker().id;
  const stoppedMeanwhile = tables.addEnvironment({ workerId: silent, state: "RUNNING" }).id;
  const otherReplica = new EnvironmentLifecycle(fakeStores(tables).states);
  // Another replica stops it just after this sweep listed the lost worker's environments.
  class RacingSweepStore extends FakeSweepStore {
    override async placedOn(workerId: string) {
      const listed = await super.placedOn(workerId);
      await otherReplica.transition(stoppedMeanwhile, "RUNNING", { to: "STOPPED", reason: "STAFF" });
      return listed;
    }
  }
  const { sweeper } = replica(tables, heartbeats, new RacingSweepStore(tables));

  await vi.advanceTimersByTimeAsync(HEARTBEAT_STALE_MS + 1);
  await sweeper.sweep();
  expect(tables.worker(silent)!.status).toBe("LOST");
  expect(tables.environment(stoppedMeanwhile)).toMatchObject({ state: "STOPPED", stopReason: "STAFF" });
});

it("stops an environment idle past its own template's timeout, and only once it is", async () => {
  const { tables, workerId, sweeper, stops } = setting();
  const quick = tables.addTemplate({ idleTimeoutMinutes: 5 }).id;
  const patient = tables.addTemplate({ idleTimeoutMinutes: 30 }).id;
  const idleQuick = tables.addEnvironment({ workerId, templateId: quick, state: "RUNNING", lastActivityAt: new Date() }).id;
  const idlePatient = tables.addEnvironment({ workerId, templateId: patient, state: "RUNNING", lastActivityAt: new Date() }).id;
  const neverActive = tables.addEnvironment({ workerId, templateId: quick, state: "RUNNING" }).id;

  await vi.advanceTimersByTimeAsync(5 * MINUTE_MS - 1);
  await sweeper.sweep();
  expect(stops).toEqual([]);

  await vi.advanceTimersByTimeAsync(1);
  await sweeper.sweep();
  expect(stops).toEqual([{ environmentId: idleQuick, reason: "IDLE", notice: expect.stringContaining("after 5 minutes without activity") }]);
  expect(tables.environment(idleQuick)).toMatchObject({ state: "STOPPED", stopReason: "IDLE" });
  expect(tables.environment(idlePatient)!.state).toBe("RUNNING");

  await vi.advanceTimersByTimeAsync(25 * MINUTE_MS);
  await sweeper.sweep();
  expect(stops.map((stop) => stop.environmentId)).toEqual([idleQuick, idlePatient]);
  expect(tables.environment(neverActive)!.state).toBe("RUNNING");
});

it("warns once before the lifetime limit, even when two replicas sweep at once, and stops at the limit", async () => {
  const { tables, heartbeats, workerId } = setting();
  const a = replica(tables, heartbeats);
  const b = replica(tables, heartbeats);
  const ending = tables.addEnvironment({ workerId, state: "RUNNING", expiresAt: new Date(Date.now() + 12 * MINUTE_MS) }).id;

  await vi.advanceTimersByTimeAsync(6 * MINUTE_MS);
  await Promise.all([a.sweeper.sweep(), b.sweeper.sweep()]);
  expect([...a.warnings, ...b.warnings]).toEqual([]); // six minutes left: not yet

  await vi.advanceTimersByTimeAsync(2 * MINUTE_MS);
  await Promise.all([a.sweeper.sweep(), b.sweeper.sweep()]);
  expect([...a.warnings, ...b.warnings]).toEqual([{ environmentId: ending, message: expect.stringContaining("stops in 4 minutes") }]);
  expect(tables.environment(ending)!.warnedAt).toEqual(new Date());

  await vi.advanceTimersByTimeAsync(3 * MINUTE_MS);
  await Promise.all([a.sweeper.sweep(), b.sweeper.sweep()]);
  expect([...a.warnings, ...b.warnings]).toHaveLength(1);
  expect(tables.environment(ending)!.state).toBe("RUNNING");

  await vi.advanceTimersByTimeAsync(MINUTE_MS);
  await a.sweeper.sweep();
  expect(a.stops).toEqual([{ environmentId: ending, reason: "EXPIRED", notice: expect.stringContaining("reached its time limit") }]);
  expect(tables.environment(ending)).toMatchObject({ state: "STOPPED", stopReason: "EXPIRED" });
});
