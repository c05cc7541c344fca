import { describe, expect, it } from "vitest";
import {
  DEFAULT_SESSION_MINUTES,
  planPools,
  preparationStatus,
  type CourseToPrepare,
  type PoolShape,
  type WorkerPoolRoom,
} from "../../server/workers/class-preparation-plan";
import type { PoolTemplate } from "../../protocol/worker-messages";

const MIB = 1024 * 1024;
const MINUTE = 60_000;
const LEAD = 15;
const start = new Date("2026-12-01T10:00:00Z");
const at = (minutesFromStart: number) => new Date(start.getTime() + minutesFromStart * MINUTE);

const template = (image: string): PoolTemplate => ({
  image,
  network: "none",
  workingDir: "/home/student/workspace",
  user: "student",
  limits: { memoryBytes: 512 * MIB, nanoCpus: 1_000_000_000, pidsLimit: 256 },
});
const shape = (key: string, warmPoolSize = 0): PoolShape => ({ key, template: template(`img-${key}`), warmPoolSize, reservationBytes: 64 * MIB });
const worker = (id: string, freeSlots = 100, freeBytes = 100 * 64 * MIB): WorkerPoolRoom => ({ id, freeSlots, freeBytes, startingBytes: 0 });
const course = (fields: Partial<CourseToPrepare> = {}): CourseToPrepare => ({
  id: "c1",
  startsAt: start,
  endsAt: at(90),
  endedAt: null,
  prepareSeats: null,
  prepareUntil: null,
  expectedSeats: 30,
  joinSeatLimit: null,
  rosterSize: 0,
  shapes: [{ key: "aaaaaaaaaaaaaaaa", started: 0 }],
  ...fields,
});
const KEY = "aaaaaaaaaaaaaaaa";

/** The size of `key`'s pool on each worker (0 when left out). */
function sizes(plan: ReturnType<typeof planPools>, key = KEY, shapes = [shape(KEY)]) {
  const image = shapes.find((candidate) => candidate.key === key)!.template.image;
  return Object.fromEntries([...plan].map(([workerId, pools]) => [workerId, pools.find((pool) => pool.template.image === image)?.size ?? 0]));
}

const plan = (now: Date, courses: CourseToPrepare[], workers = [worker("w1")], shapes = [shape(KEY)]) =>
  planPools({ now, leadMinutes: LEAD, courses, shapes, workers });

describe("the preparation window", () => {
  it("opens the lead time before the start and closes at the end", () => {
    expect(sizes(plan(at(-LEAD - 1), [course()]))).toEqual({ w1: 0 });
    expect(sizes(plan(at(-LEAD), [course()]))).toEqual({ w1: 30 });
    expect(sizes(plan(at(89), [course()]))).toEqual({ w1: 30 });
    expect(sizes(plan(at(90), [course()]))).toEqual({ w1: 0 });
  });

  it("lasts a default length when the session has no end, and closes when the workshop is ended", () => {
    const open = course({ endsAt: null });
    expect(sizes(plan(at(DEFAULT_SESSION_MINUTES - 1), [open]))).toEqual({ w1: 30 });
    expect(sizes(plan(at(DEFAULT_SESSION_MINUTES), [open]))).toEqual({ w1: 0 });
    expect(sizes(plan(at(10), [course({ endedAt: at(5) })]))).toEqual({ w1: 0 });
  });

  it("does not prepare a term-long course by its dates, but does when staff prepare by hand", () => {
    const term = course({ endsAt: at(60 * 24 * 60) });
    expect(sizes(plan(at(0), [term]))).toEqual({ w1: 0 });
    expect(sizes(plan(at(0), [{ ...term, prepareSeats: 12, prepareUntil: at(120) }]))).toEqual({ w1: 12 });
    expect(sizes(plan(at(120), [{ ...term, prepareSeats: 12, prepareUntil: at(120) }]))).toEqual({ w1: 0 });
  });

  it("a manual preparation of 0 seats holds an open window at nothing (Stop preparing)", () => {
    expect(sizes(plan(at(0), [course({ prepareSeats: 0, prepareUntil: at(90) })]))).toEqual({ w1: 0 });
  });
});

describe("seats", () => {
  it("come from the manual preparation, else expected seats, else the join limit, else the roster", () => {
    const now = at(0);
    expect(sizes(plan(now, [course({ prepareSeats: 7, prepareUntil: at(30) })]))).toEqual({ w1: 7 });
    expect(sizes(plan(now, [course({ expectedSeats: 9, joinSeatLimit: 40, rosterSize: 50 })]))).toEqual({ w1: 9 });
    expect(sizes(plan(now, [course({ expectedSeats: null, joinSeatLimit: 40, rosterSize: 50 })]))).toEqual({ w1: 40 });
    expect(sizes(plan(now, [course({ expectedSeats: null, joinSeatLimit: null, rosterSize: 50 })]))).toEqual({ w1: 50 });
  });

  it("count only students not yet started, and never go below the template's own size", () => {
    expect(sizes(plan(at(0), [course({ shapes: [{ key: KEY, started: 25 }] })]))).toEqual({ w1: 5 });
    expect(sizes(plan(at(0), [course({ shapes: [{ key: KEY, started: 30 }] })], [worker("w1")], [shape(KEY, 3)]))).toEqual({ w1: 3 });
  });

  it("add up when several courses use the same template shape, once per course", () => {
    const other = course({
      id: "c2",
      expectedSeats: 12,
      shapes: [
        { key: KEY, started: 2 },
        { key: KEY, started: 2 },
      ],
    });
    expect(sizes(plan(at(0), [course(), other]))).toEqual({ w1: 40 });
  });
});

describe("capacity", () => {
  it("bounds a pool by the free places and reservations on the worker", () => {
    expect(sizes(plan(at(0), [course()], [worker("w1", 4)]))).toEqual({ w1: 4 });
    expect(sizes(plan(at(0), [course()], [worker("w1", 100, 10 * 64 * MIB)]))).toEqual({ w1: 10 });
  });

  it("bounds a pool by the host's memory above its floor", () => {
    const pressed = { ...worker("w1"), memory: { availableBytes: 1024 * MIB + 5 * 64 * MIB, floorBytes: 1024 * MIB, environmentsBytes: 0 } };
    expect(sizes(plan(at(0), [course()], [pressed]))).toEqual({ w1: 5 });
  });

  it("splits the seats across live workers by their room", () => {
    const split = sizes(plan(at(0), [course()], [worker("w1", 40), worker("w2", 20)]));
    expect(split.w1 + split.w2).toBe(30);
    expect(split.w1).toBeGreaterThan(split.w2);
    expect(sizes(plan(at(0), [course()], [worker("w1", 10), worker("w2", 10)]))).toEqual({ w1: 10, w2: 10 });
  });

  it("lets one shape's pool use up room another shape then cannot have", () => {
    const B = "bbbbbbbbbbbbbbbb";
    const shapes = [shape(KEY), shape(B)];
    const both = course({
      expectedSeats: 8,
      shapes: [
        { key: KEY, started: 0 },
        { key: B, started: 0 },
      ],
    });
    const result = plan(at(0), [both], [worker("w1", 10)], shapes);
    expect(sizes(result, KEY, shapes).w1 + sizes(result, B, shapes).w1).toBe(10);
  });
});

describe("drain", () => {
  it("goes back to each template's own size after the class", () => {
    const shapes = [shape(KEY, 2)];
    expect(sizes(plan(at(30), [course()], [worker("w1")], shapes), KEY, shapes)).toEqual({ w1: 30 });
    expect(sizes(plan(at(91), [course()], [worker("w1")], shapes), KEY, shapes)).toEqual({ w1: 2 });
  });

  it("marks a class's pool as not refilled on a take, and a template's own pool as refilled", () => {
    const shapes = [shape(KEY, 2)];
    expect(plan(at(30), [course()], [worker("w1")], shapes).get("w1")![0]).toMatchObject({ size: 30, shrinkOnTake: true });
    expect(plan(at(91), [course()], [worker("w1")], shapes).get("w1")![0]).toMatchObject({ size: 2, shrinkOnTake: false });
  });
});

describe("images", () => {
  it("gives a worker no pool of a template whose image it lacks: the class's seats go to workers that hold it", () => {
    const shapes = [shape(KEY, 2)];
    const fresh = { ...worker("fresh"), images: new Set<string>() };
    const holder = { ...worker("holder", 40), images: new Set([`img-${KEY}`]) };
    expect(sizes(plan(at(30), [course()], [fresh, holder], shapes), KEY, shapes)).toEqual({ fresh: 0, holder: 30 });
  });
});

describe("progress", () => {
  it("counts pooled containers and running students up to the seats, and says when the class is ready", () => {
    const prepared = course({ expectedSeats: 10 });
    const status = preparationStatus(prepared, at(-5), LEAD, new Map([[KEY, 6]]), 1);
    expect(status).toMatchObject({ seats: 10, ready: 7, preparing: true, classReady: false, source: "schedule" });
    expect(status.windowStart).toEqual(at(-LEAD));
    expect(status.windowEnd).toEqual(at(90));
    expect(preparationStatus(prepared, at(-5), LEAD, new Map([[KEY, 12]]), 3)).toMatchObject({ ready: 10, classReady: true });
  });

  it("shows the coming window before it opens, and is not ready when nothing is prepared", () => {
    const status = preparationStatus(course(), at(-60), LEAD, new Map([[KEY, 30]]), 0);
    expect(status).toMatchObject({ preparing: false, classReady: false, seats: 30 });
    expect(status.windowStart).toEqual(at(-LEAD));
  });
});
