/**
 * The worker directory on the fake store, with fake timers for the clock: which workers are
 * live (ONLINE with a recent heartbeat) or stale, what each holds as placement counts it
 * (STARTING and RUNNING reservations, a resume's own environment left out), and the pick.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MemoryHeartbeats } from "../../server/workers/heartbeats";
import { HEARTBEAT_STALE_MS, PlacementRefusedError, WorkerDirectory } from "../../server/workers/scheduler";
import { fakeStores } from "../support/fake-store/fake-stores";
import { FakeTables } from "../support/fake-store/fake-tables";

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-03-02T09:00:00Z") });
});
afterEach(() => {
  vi.useRealTimers();
});

function setting() {
  const tables = new FakeTables();
  const heartbeats = new MemoryHeartbeats();
  const directory = new WorkerDirectory(fakeStores(tables).directory, heartbeats);
  return { tables, heartbeats, directory };
}

/** The refusal's code, or "placed" when pick placed it. */
const refusalOf = (picking: Promise<string>) =>
  picking.then(
    () => "placed",
    (error: unknown) => (error instanceof PlacementRefusedError ? error.code : Promise.reject(error)),
  );

describe("live and stale workers", () => {
  it("an ONLINE worker is live while its last heartbeat is within the window, and stale after", async () => {
    const { tables, heartbeats, directory } = setting();
    const workerId = tables.addWorker().id;
    await heartbeats.beat(workerId);
    await vi.advanceTimersByTimeAsync(HEARTBEAT_STALE_MS);
    expect(await directory.liveIds()).toEqual([workerId]);
    expect(await directory.staleIds()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(await directory.liveIds()).toEqual([]);
    expect(await directory.isLive(workerId)).toBe(false);
    expect(await directory.staleIds()).toEqual([workerId]);
    // A beat brings it back.
    await heartbeats.beat(workerId);
    expect(await directory.isLive(workerId)).toBe(true);
  });

  it("an OFFLINE worker is never live but may go stale; a LOST one is neither; one never heard from is stale", async () => {
    const { tables, heartbeats, directory } = setting();
    const offline = tables.addWorker({ status: "OFFLINE" }).id;
    const lost = tables.addWorker({ status: "LOST" }).id;
    const silent = tables.addWorker().id;
    await heartbeats.beat(offline);
    await heartbeats.beat(lost);
    expect(await directory.liveIds()).toEqual([]);
    expect(await directory.staleIds()).toEqual([silent]);
    await vi.advanceTimersByTimeAsync(HEARTBEAT_STALE_MS + 1);
    expect((await directory.staleIds()).sort()).toEqual([offline, silent].sort());
  });
});

describe("rooms", () => {
  it("count STARTING and RUNNING environments and their reservations, STARTING ones apart, with the host's memory", async () => {
    const { tables, heartbeats, directory } = setting();
    const workerId = tables.addWorker({ maxEnvironments: 10, memoryBytes: 4 * GIB }).id;
    const small = tables.addTemplate({ memoryReservationMb: 64 }).id;
    const large = tables.addTemplate({ memoryReservationMb: 256 }).id;
    tables.addEnvironment({ workerId, templateId: small, state: "RUNNING" });
    tables.addEnvironment({ workerId, templateId: large, state: "STARTING" });
    for (const state of ["STOPPED", "INTERRUPTED", "QUEUED", "FAILED", "DELETED"] as const) tables.addEnvironment({ workerId, templateId: large, state });
    const memory = { availableBytes: 3 * GIB, floorBytes: 512 * MIB, environmentsBytes: GIB };
    await heartbeats.beat(workerId, Date.now(), memory);

    expect(await directory.rooms([workerId])).toEqual([
      { id: workerId, maxEnvironments: 10, allocatableBytes: 4 * GIB, placed: 2, reservedBytes: 320 * MIB, startingBytes: 256 * MIB, memory, cordoned: false },
    ]);
  });

  it("leave out a resume's own environment, and count only the workers asked for", async () => {
    const { tables, directory } = setting();
    const workerId = tables.addWorker().id;
    const other = tables.addWorker().id;
    const resumed = tables.addEnvironment({ workerId, state: "STARTING" }).id;
    tables.addEnvironment({ workerId, state: "RUNNING" });
    tables.addEnvironment({ workerId: other, state: "RUNNING" });

    const [room] = await directory.rooms([workerId], resumed);
    expect(room).toMatchObject({ id: workerId, placed: 1, reservedBytes: 64 * MIB, startingBytes: 0, memory: undefined });
    expect((await directory.rooms([workerId])).map((entry) => entry.placed)).toEqual([2]);
  });
});

describe("pick", () => {
  it("places on the live worker with the most room, and a resume only on its workspace's worker", async () => {
    const { tables, heartbeats, directory } = setting();
    const busy = tables.addWorker({ maxEnvironments: 4 }).id;
    const quiet = tables.addWorker({ maxEnvironments: 4 }).id;
    const silent = tables.addWorker({ maxEnvironments: 4 }).id;
    for (let i = 0; i < 2; i++) tables.addEnvironment({ workerId: busy, state: "RUNNING" });
    tables.addEnvironment({ workerId: quiet, state: "RUNNING" });
    for (const id of [busy, quiet]) await heartbeats.beat(id);

    expect(await directory.pick({ reservationBytes: 64 * MIB })).toBe(quiet);
    expect(await directory.pick({ reservationBytes: 64 * MIB, workerId: busy })).toBe(busy);
    // The workspace lives on a worker that is not live: nothing else will do.
    expect(await refusalOf(directory.pick({ reservationBytes: 64 * MIB, workerId: silent }))).toBe("NO_LIVE_WORKER");
  });

  it("refuses when every place is taken, but a resume's own place does not count against it", async () => {
    const { tables, heartbeats, directory } = setting();
    const workerId = tables.addWorker({ maxEnvironments: 1 }).id;
    await heartbeats.beat(workerId);
    const resuming = tables.addEnvironment({ workerId, state: "STARTING" }).id;

    expect(await refusalOf(directory.pick({ reservationBytes: 64 * MIB }))).toBe("NO_ROOM");
    expect(await directory.pick({ reservationBytes: 64 * MIB, workerId, environmentId: resuming })).toBe(workerId);
  });

  it("never places a new environment on a cordoned or draining worker, but a resume bound to one still goes there", async () => {
    const { tables, heartbeats, directory } = setting();
    const open = tables.addWorker({ maxEnvironments: 4 }).id;
    const cordoned = tables.addWorker({ maxEnvironments: 40, scheduling: "CORDONED" }).id;
    const draining = tables.addWorker({ maxEnvironments: 40, scheduling: "DRAINING" }).id;
    for (let i = 0; i < 3; i++) tables.addEnvironment({ workerId: open, state: "RUNNING" });
    for (const id of [open, cordoned, draining]) await heartbeats.beat(id);

    // The emptiest workers are the cordoned ones: the one open worker is chosen all the same.
    expect(await directory.pick({ reservationBytes: 64 * MIB })).toBe(open);
    expect(await directory.pick({ reservationBytes: 64 * MIB, workerId: cordoned })).toBe(cordoned);
    expect(await directory.isDraining(draining)).toBe(true);
    expect(await directory.isDraining(cordoned)).toBe(false);
    // Once the open worker is full, a new start waits (the queue) rather than going to a cordoned one.
    tables.addEnvironment({ workerId: open, state: "RUNNING" });
    expect(await refusalOf(directory.pick({ reservationBytes: 64 * MIB }))).toBe("NO_ROOM");
    expect((await directory.rooms([cordoned, draining])).map((room) => room.cordoned)).toEqual([true, true]);
  });

  it("refuses with NO_LIVE_WORKER once the only worker's heartbeat is stale", async () => {
    const { tables, heartbeats, directory } = setting();
    const workerId = tables.addWorker().id;
    await heartbeats.beat(workerId);
    expect(await directory.pick({ reservationBytes: 64 * MIB })).toBe(workerId);
    await vi.advanceTimersByTimeAsync(HEARTBEAT_STALE_MS + 1);
    expect(await refusalOf(directory.pick({ reservationBytes: 64 * MIB }))).toBe("NO_LIVE_WORKER");
  });

  it("places a template only on workers that hold its image, preferring one with warm containers for it", async () => {
    const { tables, heartbeats, directory } = setting();
    const image = "shellroom/c-course-image:1";
    const old = tables.addWorker({ images: ["shellroom/default:1", image] }).id;
    const fresh = tables.addWorker({ images: [] }).id;
    for (let i = 0; i < 5; i++) tables.addEnvironment({ workerId: old, state: "RUNNING" });
    await heartbeats.beat(old);
    await heartbeats.beat(fresh);

    // The new worker is emptier, but holds nothing yet.
    expect(await directory.pick({ reservationBytes: 64 * MIB })).toBe(fresh);
    expect(await directory.pick({ reservationBytes: 64 * MIB, image })).toBe(old);
    expect(await refusalOf(directory.pick({ reservationBytes: 64 * MIB, image: "shellroom/c-nowhere:1" }))).toBe("NO_IMAGE");

    // Once it holds the image it gets the start (more room), unless the other has warm containers for the template.
    tables.workers.get(fresh)!.images.push(image);
    expect(await directory.pick({ reservationBytes: 64 * MIB, image, poolKey: "00000000000000aa" })).toBe(fresh);
    await heartbeats.beat(old, Date.now(), undefined, [{ key: "00000000000000aa", ready: 2 }]);
    expect(await directory.pick({ reservationBytes: 64 * MIB, image, poolKey: "00000000000000aa" })).toBe(old);
  });
});
