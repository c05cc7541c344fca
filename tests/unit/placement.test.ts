import { describe, expect, it } from "vitest";
import { decidePlacement, type WorkerRoom } from "../../server/workers/placement";
import { defaultMemoryFloor, memAvailableOf } from "../../runtime-worker/host-memory";

const MIB = 1024 ** 2;
const GIB = 1024 ** 3;
const worker = (id: string, room: Partial<WorkerRoom> = {}): WorkerRoom => ({
  id,
  maxEnvironments: 400,
  allocatableBytes: 22 * GIB,
  placed: 0,
  reservedBytes: 0,
  startingBytes: 0,
  memory: { availableBytes: 20 * GIB, floorBytes: 2 * GIB, environmentsBytes: 0 },
  ...room,
});

describe("placement", () => {
  it("a cordoned worker takes nothing new, however much room it has; its refusal says so", () => {
    const cordoned = worker("empty-but-cordoned", { cordoned: true });
    const busy = worker("busy", { placed: 300, reservedBytes: 300 * 64 * MIB });
    expect(decidePlacement([cordoned, busy], 64 * MIB)).toEqual({ ok: true, workerId: "busy" });
    const refused = decidePlacement([cordoned], 64 * MIB);
    expect(refused).toMatchObject({ ok: false, code: "NO_ROOM" });
    expect(refused.ok || refused.details).toEqual(["empty-but-cordoned: cordoned"]);
  });

  it("counts reservations, not limits: 352 idle 64 MiB environments fit where 512 MiB limits would allow 44", () => {
    // 351 placed: 351 x 64 MiB = 21.9 GiB reserved of 22 GiB; their limits would add up to 175 GiB.
    const nearlyFull = worker("host", { placed: 351, reservedBytes: 351 * 64 * MIB });
    expect(decidePlacement([nearlyFull], 64 * MIB)).toEqual({ ok: true, workerId: "host" });
    const full = worker("host", { placed: 352, reservedBytes: 352 * 64 * MIB });
    expect(decidePlacement([full], 64 * MIB)).toMatchObject({ ok: false, code: "NO_ROOM" });
  });

  it("refuses a host whose available memory would fall below its floor, whatever the reservations say", () => {
    const pressed = worker("host", { memory: { availableBytes: 2 * GIB + 32 * MIB, floorBytes: 2 * GIB, environmentsBytes: 19 * GIB } });
    const decision = decidePlacement([pressed], 64 * MIB);
    expect(decision).toMatchObject({ ok: false, code: "MEMORY_PRESSURE" });
    expect(decision.ok || decision.message).toMatch(/short of memory/);
    expect(decision.ok || decision.details.join()).toMatch(/floor 2048 MiB/);
  });

  it("counts starts in flight against available memory: their containers may not show in it yet", () => {
    const burst = worker("host", {
      placed: 20,
      reservedBytes: 20 * 64 * MIB,
      startingBytes: 20 * 64 * MIB,
      memory: { availableBytes: 3 * GIB, floorBytes: 2 * GIB, environmentsBytes: 0 },
    });
    expect(decidePlacement([burst], 64 * MIB)).toMatchObject({ ok: false, code: "MEMORY_PRESSURE" });
  });

  it("places by reservations alone when a worker reports no host memory", () => {
    expect(decidePlacement([worker("old", { memory: undefined })], 64 * MIB)).toEqual({ ok: true, workerId: "old" });
  });

  it("refuses with NO_LIVE_WORKER when there is no live worker", () => {
    expect(decidePlacement([], 64 * MIB)).toMatchObject({ ok: false, code: "NO_LIVE_WORKER" });
  });

  it("refuses a worker whose places are all taken, however much memory it has", () => {
    expect(decidePlacement([worker("host", { maxEnvironments: 3, placed: 3 })], 64 * MIB)).toMatchObject({ ok: false, code: "NO_ROOM" });
  });

  it("goes to the worker with the larger free share, skipping one under pressure", () => {
    const roomy = worker("a", { placed: 10, reservedBytes: 10 * 64 * MIB });
    const emptier = worker("b", { placed: 0 });
    expect(decidePlacement([roomy, emptier], 64 * MIB)).toEqual({ ok: true, workerId: "b" });
    const pressedB = worker("b", { memory: { availableBytes: GIB, floorBytes: 2 * GIB, environmentsBytes: 0 } });
    expect(decidePlacement([roomy, pressedB], 64 * MIB)).toEqual({ ok: true, workerId: "a" });
  });

  it("says MEMORY_PRESSURE when a worker with room is held back only by pressure, NO_ROOM when all are full", () => {
    const full = worker("a", { maxEnvironments: 1, placed: 1 });
    const pressed = worker("b", { memory: { availableBytes: GIB, floorBytes: 2 * GIB, environmentsBytes: 0 } });
    expect(decidePlacement([full, pressed], 64 * MIB)).toMatchObject({ ok: false, code: "MEMORY_PRESSURE" });
    expect(decidePlacement([full, worker("c", { maxEnvironments: 1, placed: 1 })], 64 * MIB)).toMatchObject({ ok: false, code: "NO_ROOM" });
  });
});

describe("placement follows the images", () => {
  it("never chooses a worker without the template's image, however empty it is", () => {
    const busy = worker("old", { placed: 300, reservedBytes: 300 * 64 * MIB, holdsImage: true });
    const empty = worker("new", { holdsImage: false });
    expect(decidePlacement([busy, empty], 64 * MIB)).toEqual({ ok: true, workerId: "old" });
  });

  it("refuses with NO_IMAGE when no live worker holds the image, naming each in the details", () => {
    const decision = decidePlacement([worker("a", { holdsImage: false }), worker("b", { holdsImage: false })], 64 * MIB);
    expect(decision).toMatchObject({ ok: false, code: "NO_IMAGE" });
    expect(decision.ok || decision.details).toEqual(["a: does not hold the image (yet)", "b: does not hold the image (yet)"]);
    expect(decision.ok || decision.message).toMatch(/image/);
  });

  it("says NO_ROOM (a start may wait) when the holders are full and only workers without the image have room", () => {
    const fullHolder = worker("old", { maxEnvironments: 2, placed: 2, holdsImage: true });
    expect(decidePlacement([fullHolder, worker("new", { holdsImage: false })], 64 * MIB)).toMatchObject({ ok: false, code: "NO_ROOM" });
  });

  it("prefers a worker with warm containers for the template over one with more room", () => {
    const warmButBusy = worker("warm", { placed: 200, reservedBytes: 200 * 64 * MIB, holdsImage: true, warm: 3 });
    const coldAndEmpty = worker("cold", { holdsImage: true, warm: 0 });
    expect(decidePlacement([coldAndEmpty, warmButBusy], 64 * MIB)).toEqual({ ok: true, workerId: "warm" });
    // Among warm ones (or cold ones), room decides as before.
    const warmAndEmpty = worker("warm-empty", { holdsImage: true, warm: 1 });
    expect(decidePlacement([coldAndEmpty, warmButBusy, warmAndEmpty], 64 * MIB)).toEqual({ ok: true, workerId: "warm-empty" });
  });

  it("does not prefer a warm worker that has no room left", () => {
    const warmButFull = worker("warm", { maxEnvironments: 1, placed: 1, holdsImage: true, warm: 2 });
    expect(decidePlacement([warmButFull, worker("cold", { holdsImage: true })], 64 * MIB)).toEqual({ ok: true, workerId: "cold" });
  });
});

describe("host memory", () => {
  it("reads MemAvailable from /proc/meminfo in bytes", () => {
    expect(memAvailableOf("MemTotal:       24588328 kB\nMemFree:         1000 kB\nMemAvailable:   22222222 kB\n")).toBe(22222222 * 1024);
    expect(memAvailableOf("MemTotal: 1 kB\n")).toBeNull();
  });

  it("keeps a tenth of the host's memory by default, at most 2 GiB", () => {
    expect(defaultMemoryFloor(24 * GIB)).toBe(2 * GIB);
    expect(defaultMemoryFloor(4 * GIB)).toBe(Math.floor(0.4 * GIB));
  });
});
