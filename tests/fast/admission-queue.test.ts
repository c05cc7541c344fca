/**
 * The admission queue's rules on the fake store, with fake timers for the clock: admission
 * in arrival order while placement says yes (strict first come), resumes bound to their
 * workspace's worker, places and estimates, entries that leave (abandoned, workshop ended,
 * taken out), the pump's triggers (a freed place here, its timer for frees elsewhere), and
 * two replicas pumping at once.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AdmissionQueue, DEFAULT_ADMISSION_QUEUE, type AdmissionHooks, type AdmissionQueueOptions } from "../../server/environments/admission-queue";
import { EnvironmentLifecycle } from "../../server/environments/lifecycle";
import { MemoryHeartbeats } from "../../server/workers/heartbeats";
import { WorkerDirectory } from "../../server/workers/scheduler";
import { quietLog } from "../support/fake-runtime/fake-worker";
import { fakeStores } from "../support/fake-store/fake-stores";
import { FakeTables, type FakeWorker } from "../support/fake-store/fake-tables";

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const MIB = 1024 * 1024;
const OFFLINE = "Your workspace is on a machine that is offline right now.";

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-03-02T09:00:00Z") });
});
afterEach(() => {
  vi.useRealTimers();
});

/** One server replica's queue over shared records: the starts it sent recorded (the start path is not under test). */
function replica(tables: FakeTables, heartbeats: MemoryHeartbeats, options: Partial<AdmissionQueueOptions> = {}) {
  const stores = fakeStores(tables);
  const lifecycle = new EnvironmentLifecycle(stores.states);
  const sent: Array<{ environmentId: string; workerId: string; from?: string }> = [];
  const directory = new WorkerDirectory(stores.directory, heartbeats);
  const hooks: AdmissionHooks = {
    // A start that leaves its workspace's worker says where from (the start path moves the files first).
    sendStart: async (entry, workerId) =>
      sent.push({ environmentId: entry.id, workerId, ...(entry.workerId && entry.workerId !== workerId ? { from: entry.workerId } : {}) }),
    workspaceOffline: (environmentId, from) =>
      lifecycle.transition(environmentId, from, { to: "INTERRUPTED", data: { error: OFFLINE, queuedAt: null, queueSeenAt: null } }),
    movesOff: (workerId) => directory.isDraining(workerId),
  };
  const queue = new AdmissionQueue(stores.queue, directory, lifecycle, hooks, quietLog(), { ...DEFAULT_ADMISSION_QUEUE, ...options });
  return { queue, lifecycle, sent };
}

/** Records and one replica; `live` workers heartbeat every few seconds on the fake clock. */
function setting(options: Partial<AdmissionQueueOptions> = {}) {
  const tables = new FakeTables();
  const heartbeats = new MemoryHeartbeats();
  const liveWorker = (worker: Partial<FakeWorker> = {}) => {
    const { id } = tables.addWorker(worker);
    void heartbeats.beat(id);
    setInterval(() => void heartbeats.beat(id), 5 * SECOND_MS);
    return id;
  };
  const own = replica(tables, heartbeats, options);
  /** A new environment joins the queue now; bound to `workerId` when it is a resume. */
  const join = async (environment: { workerId?: string; templateId?: string; labId?: string } = {}) => {
    const { id, state } = tables.addEnvironment(environment);
    expect(await own.queue.enqueue({ id, state })).toBe(true);
    return id;
  };
  const stateOf = (id: string) => tables.environment(id)!.state;
  return { tables, heartbeats, liveWorker, join, stateOf, ...own };
}

describe("admission", () => {
  it("admits in arrival order while there is room; the others keep their places", async () => {
    const { tables, liveWorker, join, stateOf, queue, sent } = setting();
    const workerId = liveWorker({ maxEnvironments: 2 });
    tables.addEnvironment({ workerId, state: "RUNNING" });
    const first = await join();
    await vi.advanceTimersByTimeAsync(SECOND_MS);
    const second = await join();
    await vi.advanceTimersByTimeAsync(SECOND_MS);
    const third = await join();

    await queue.pump();
    expect(sent).toEqual([{ environmentId: first, workerId }]);
    expect(tables.environment(first)).toMatchObject({ state: "STARTING", workerId, startClaimedAt: new Date(), queuedAt: null, queueSeenAt: null });
    expect([stateOf(second), stateOf(third)]).toEqual(["QUEUED", "QUEUED"]);
    expect(await queue.place(second)).toEqual({ position: 1, estimateSeconds: null });
    expect(await queue.place(third)).toEqual({ position: 2, estimateSeconds: null });
    expect(await queue.place(first)).toBeNull();
  });

  it("is strict first come: when the head does not fit, nobody behind it is admitted", async () => {
    const { tables, liveWorker, join, stateOf, queue, sent } = setting();
    const workerId = liveWorker({ memoryBytes: 1024 * MIB });
    tables.addEnvironment({ workerId, state: "RUNNING", templateId: tables.addTemplate({ memoryReservationMb: 768 }).id });
    const large = await join({ templateId: tables.addTemplate({ memoryReservationMb: 512 }).id });
    await vi.advanceTimersByTimeAsync(SECOND_MS);
    const small = await join({ templateId: tables.addTemplate({ memoryReservationMb: 64 }).id });

    await queue.pump();
    expect(sent).toEqual([]);
    expect([stateOf(large), stateOf(small)]).toEqual(["QUEUED", "QUEUED"]);
    // A new start queues behind them: nobody overtakes.
    expect(await queue.anyoneWaiting()).toBe(true);
  });

  it("sends a resume bound to a draining worker where a new start would go, claimed under its old worker until its files move; with no room elsewhere it starts where it is", async () => {
    const { tables, liveWorker, join, queue, sent } = setting();
    const draining = liveWorker({ maxEnvironments: 5, scheduling: "DRAINING" });
    const open = liveWorker({ maxEnvironments: 1 });
    const leaving = await join({ workerId: draining });
    await vi.advanceTimersByTimeAsync(SECOND_MS);
    const staying = await join({ workerId: draining });

    await queue.pump();
    expect(sent).toEqual([
      { environmentId: leaving, workerId: open, from: draining },
      // The open worker is full now: the next one starts beside its files, as before the drain.
      { environmentId: staying, workerId: draining },
    ]);
    // The record names the old worker until the copy re-points it (a failed copy leaves both where
    // they were), and where it goes: placement counted it there, so the second did not fit.
    expect(tables.environment(leaving)).toMatchObject({ state: "STARTING", workerId: draining, movingToWorkerId: open });
    expect(tables.environment(staying)).toMatchObject({ state: "STARTING", workerId: draining, movingToWorkerId: null });
  });

  it("holds a resume bound to a full worker back without holding others; one bound to a worker that is not live is interrupted", async () => {
    const { tables, liveWorker, join, stateOf, queue, sent } = setting();
    const full = liveWorker({ maxEnvironments: 1 });
    const roomy = liveWorker({ maxEnvironments: 5 });
    const gone = tables.addWorker().id; // never heard from
    tables.addEnvironment({ workerId: full, state: "RUNNING" });
    const boundToFull = await join({ workerId: full });
    await vi.advanceTimersByTimeAsync(SECOND_MS);
    const boundToGone = await join({ workerId: gone });
    await vi.advanceTimersByTimeAsync(SECOND_MS);
    const alsoBoundToFull = await join({ workerId: full });
    await vi.advanceTimersByTimeAsync(SECOND_MS);
    const unbound = await join();

    await queue.pump();
    expect(sent).toEqual([{ environmentId: unbound, workerId: roomy }]);
    expect([stateOf(boundToFull), stateOf(alsoBoundToFull)]).toEqual(["QUEUED", "QUEUED"]);
    expect(tables.environment(boundToGone)).toMatchObject({ state: "INTERRUPTED", error: OFFLINE, queuedAt: null });
    expect(await queue.place(alsoBoundToFull)).toMatchObject({ position: 2 });
  });

  it("takes nobody while no worker is live, and a new start is then not held behind the queue", async () => {
    const { tables, join, stateOf, queue, sent } = setting();
    tables.addWorker();
    const waiting = await join();
    await queue.pump();
    expect(sent).toEqual([]);
    expect(stateOf(waiting)).toBe("QUEUED");
    expect(await queue.anyoneWaiting()).toBe(false);
  });
});

describe("the pump's triggers", () => {
  it("a place freed here admits the next at once; one freed on another replica, at the next tick of the pump's timer", async () => {
    const pumpIntervalMs = 10 * MINUTE_MS;
    const { tables, heartbeats, liveWorker, join, stateOf, queue, lifecycle } = setting({ pumpIntervalMs, abandonAfterMs: 60 * MINUTE_MS });
    const workerId = liveWorker({ maxEnvironments: 2 });
    const runningA = tables.addEnvironment({ workerId, state: "RUNNING" }).id;
    const runningB = tables.addEnvironment({ workerId, state: "RUNNING" }).id;
    const first = await join();
    await vi.advanceTimersByTimeAsync(SECOND_MS);
    const second = await join();
    queue.start();

    await lifecycle.transition(runningA, "RUNNING", { to: "STOPPED", reason: "USER" });
    await vi.waitFor(() => expect(stateOf(first)).toBe("STARTING"));
    expect(stateOf(second)).toBe("QUEUED");

    // Another replica's stop emits no event here: the timer finds the place.
    const otherReplica = replica(tables, heartbeats);
    await otherReplica.lifecycle.transition(runningB, "RUNNING", { to: "STOPPED", reason: "IDLE" });
    await vi.advanceTimersByTimeAsync(pumpIntervalMs - SECOND_MS);
    expect(stateOf(second)).toBe("QUEUED");
    await vi.advanceTimersByTimeAsync(SECOND_MS);
    expect(stateOf(second)).toBe("STARTING");
    await queue.stop();
  });

  it("two replicas pumping at once admit each entry once", async () => {
    const { tables, heartbeats, liveWorker, join, queue, sent } = setting();
    liveWorker({ maxEnvironments: 3 });
    const entries = [await join(), await join(), await join(), await join()];
    const other = replica(tables, heartbeats);

    await Promise.all([queue.pump(), other.queue.pump(), queue.pump(), other.queue.pump()]);
    const admitted = [...sent, ...other.sent].map((start) => start.environmentId);
    expect(new Set(admitted).size).toBe(admitted.length);
    expect(admitted).toHaveLength(3);
    expect(entries.filter((id) => tables.environment(id)!.state === "STARTING").sort()).toEqual([...admitted].sort());
  });
});

describe("leaving the queue", () => {
  it("an entry whose page stopped asking leaves (LEFT_QUEUE); one whose page keeps asking stays", async () => {
    const { tables, liveWorker, join, stateOf, queue } = setting({ abandonAfterMs: MINUTE_MS });
    const workerId = liveWorker({ maxEnvironments: 1 });
    tables.addEnvironment({ workerId, state: "RUNNING" });
    const abandoned = await join();
    const asking = await join();

    await vi.advanceTimersByTimeAsync(40 * SECOND_MS);
    expect(await queue.place(asking)).not.toBeNull();
    await vi.advanceTimersByTimeAsync(30 * SECOND_MS);
    await queue.pump();
    expect(tables.environment(abandoned)).toMatchObject({ state: "STOPPED", stopReason: "LEFT_QUEUE", queuedAt: null, queueSeenAt: null, stoppedAt: null });
    expect(stateOf(asking)).toBe("QUEUED");
    expect(await queue.place(asking)).toMatchObject({ position: 1 });
  });

  it("an entry whose workshop staff ended leaves (STAFF) and holds nobody back", async () => {
    const { tables, liveWorker, join, stateOf, queue, sent } = setting();
    const workerId = liveWorker();
    const ended = await join({ labId: tables.addLab({ courseEndedAt: new Date() }).id });
    await vi.advanceTimersByTimeAsync(SECOND_MS);
    const next = await join();
    await queue.pump();
    expect(tables.environment(ended)).toMatchObject({ state: "STOPPED", stopReason: "STAFF" });
    expect(stateOf(next)).toBe("STARTING");
    expect(sent).toEqual([{ environmentId: next, workerId }]);
  });

  it("taking an entry out moves those behind up; one admitted meanwhile is not taken out", async () => {
    const { tables, liveWorker, join, stateOf, queue } = setting();
    const workerId = liveWorker({ maxEnvironments: 2 });
    tables.addEnvironment({ workerId, state: "RUNNING" });
    const admitted = await join();
    await vi.advanceTimersByTimeAsync(SECOND_MS);
    const leaving = await join();
    await vi.advanceTimersByTimeAsync(SECOND_MS);
    const behind = await join();
    await queue.pump();

    expect(await queue.place(behind)).toMatchObject({ position: 2 });
    expect(await queue.leave(leaving, "LEFT_QUEUE")).toBe(true);
    expect(tables.environment(leaving)).toMatchObject({ state: "STOPPED", stopReason: "LEFT_QUEUE" });
    expect(await queue.place(behind)).toMatchObject({ position: 1 });
    expect(await queue.leave(admitted, "LEFT_QUEUE")).toBe(false);
    expect(stateOf(admitted)).toBe("STARTING");
  });
});

describe("a place and its estimate", () => {
  it("counts those queued before (the id breaking a tie) and estimates from places freed lately and the typical start", async () => {
    const { tables, liveWorker, join, queue } = setting();
    const workerId = liveWorker({ maxEnvironments: 1 });
    tables.addEnvironment({ workerId, state: "RUNNING" });
    const [earlier, later] = [await join(), await join()].sort();
    expect(await queue.place(earlier!)).toEqual({ position: 1, estimateSeconds: null });
    expect(await queue.place(later!)).toEqual({ position: 2, estimateSeconds: null });

    // One place freed in the last five minutes, and starts take ten seconds.
    tables.addEnvironment({ state: "STOPPED", stoppedAt: new Date(Date.now() - MINUTE_MS) });
    tables.addEnvironment({ state: "STOPPED", stoppedAt: new Date(Date.now() - 6 * MINUTE_MS) });
    queue.starts.record(10);
    expect(await queue.place(earlier!)).toEqual({ position: 1, estimateSeconds: 300 + 10 });
    expect(await queue.place(later!)).toEqual({ position: 2, estimateSeconds: 600 + 10 });
  });
});
