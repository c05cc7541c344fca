/**
 * Pre-warming for a class, end to end on a real worker and Docker: a workshop about to start
 * gets its pool filled to its seats (bounded by the worker's capacity), the live room's
 * preparation reports the progress, a student takes a prepared container, and after the class
 * the pool drains to the template's own size. "Prepare for N" does the same by hand.
 */
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LABEL_POOL, LABEL_WORKER } from "../../runtime-worker/docker/container-config";
import { SESSION_COOKIE } from "../../server/auth/cookies";
import { createSession, generateSessionToken } from "../../server/auth/sessions";
import { startHarness, type Harness } from "../support/platform-harness";

const MINUTE = 60_000;
const template = {
  name: "Class",
  image: "shellroom/default:1",
  memoryMb: 256,
  cpuMillis: 500,
  pidsLimit: 128,
  diskMb: 512,
  network: "NONE",
  idleTimeoutMinutes: 30,
  maxLifetimeMinutes: 120,
  workingDir: "/home/student/workspace",
  setupScript: null,
  warmPoolSize: 0,
};
const docker = new Docker();

/** The harness worker's pooled containers, straight from Docker by their labels. */
async function pooledContainers(harness: Harness) {
  const containers = await docker.listContainers({ all: true, filters: { label: [LABEL_POOL, `${LABEL_WORKER}=${harness.workerId}`] } });
  return containers.filter((container) => container.Names[0]?.startsWith("/shellroom-pool-"));
}

/** A workshop of its own (a lab on a template with no pool of its own), starting in `startsInMinutes`. */
async function newWorkshop(harness: Harness, instructor: string, title: string, startsInMinutes: number, expectedSeats: number | null) {
  const startsAt = new Date(Date.now() + startsInMinutes * MINUTE);
  const endsAt = new Date(startsAt.getTime() + 60 * MINUTE);
  const created = await harness.trpc("course.create", { title, kind: "WORKSHOP", startsAt, endsAt }, { cookie: instructor });
  expect(created.status).toBe(200);
  const courseId = created.body.result.data.id as string;
  const updated = await harness.trpc(
    "course.update",
    { courseId, title, description: "", kind: "WORKSHOP", startsAt, endsAt, expectedSeats },
    { cookie: instructor },
  );
  expect(updated.status).toBe(200);
  const saved = await harness.trpc("authoring.saveTemplate", { courseId, ...template }, { cookie: instructor });
  expect(saved.status).toBe(200);
  const lab = await harness.trpc(
    "authoring.saveLab",
    { courseId, templateId: saved.body.result.data.id, title: "Class lab", instructions: "", published: true, steps: [] },
    { cookie: instructor },
  );
  expect(lab.status).toBe(200);
  return { courseId, labId: lab.body.result.data.labId as string };
}

async function studentOf(harness: Harness, courseId: string, name: string) {
  const user = await harness.db.user.create({ data: { displayName: name, role: "STUDENT" } });
  await harness.db.courseMember.create({ data: { courseId, userId: user.id, role: "STUDENT" } });
  const token = generateSessionToken();
  await createSession(harness.db, token, user.id);
  return `${SESSION_COOKIE}=${token}`;
}

async function preparation(harness: Harness, cookie: string, courseId: string) {
  const response = await harness.trpc("live.preparation", { courseId }, { cookie, method: "GET" });
  expect(response.status).toBe(200);
  return response.body.result.data as {
    seats: number;
    ready: number;
    preparing: boolean;
    classReady: boolean;
    windowStart: string | null;
    windowEnd: string | null;
  };
}

describe("a workshop about to start", () => {
  let harness: Harness;
  let instructor: string;
  let courseId: string;
  let labId: string;

  beforeAll(async () => {
    harness = await startHarness({ redis: false, server: { preparationIntervalMs: 500 } });
    instructor = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
    ({ courseId, labId } = await newWorkshop(harness, instructor, "Workshop soon", 5, 3));
  });
  afterAll(async () => {
    await harness?.close();
  });

  it("gets its pool filled to its seats, reports the progress, serves a student from it, and drains after the class", async () => {
    await expect.poll(async () => (await pooledContainers(harness)).length, { timeout: 90_000, interval: 500 }).toBe(3);
    await expect
      .poll(() => preparation(harness, instructor, courseId), { timeout: 30_000, interval: 500 })
      .toMatchObject({ seats: 3, ready: 3, preparing: true, classReady: true });
    const status = await preparation(harness, instructor, courseId);
    expect(new Date(status.windowStart!).getTime()).toBeLessThan(Date.now());

    // A student starts: the container was one of the prepared ones.
    const pooledIds = new Set((await pooledContainers(harness)).map((container) => container.Id));
    const student = await studentOf(harness, courseId, "Early Student");
    const started = await harness.trpc("environment.startForLab", { labId }, { cookie: student });
    expect(started.status).toBe(200);
    const environment = await harness.db.environment.findUniqueOrThrow({ where: { id: started.body.result.data.environmentId } });
    expect(pooledIds.has(environment.containerId!)).toBe(true);
    // Two seats are left to serve: two pooled, and the running student still counts as ready.
    await expect.poll(async () => (await pooledContainers(harness)).length, { timeout: 60_000, interval: 500 }).toBe(2);
    await expect
      .poll(() => preparation(harness, instructor, courseId), { timeout: 30_000, interval: 500 })
      .toMatchObject({ seats: 3, ready: 3, classReady: true });

    // After the class: its pool drains to the template's own size (none).
    const past = { startsAt: new Date(Date.now() - 120 * MINUTE), endsAt: new Date(Date.now() - MINUTE) };
    const moved = await harness.trpc("course.update", { courseId, title: "Workshop soon", description: "", kind: "WORKSHOP", ...past }, { cookie: instructor });
    expect(moved.status).toBe(200);
    await expect.poll(async () => (await pooledContainers(harness)).length, { timeout: 60_000, interval: 500 }).toBe(0);
    expect(await preparation(harness, instructor, courseId)).toMatchObject({ preparing: false, classReady: false });
    // Expected seats were kept by the update that did not name them.
    expect((await harness.db.course.findUniqueOrThrow({ where: { id: courseId } })).expectedSeats).toBe(3);
  });

  it("prepares for N students by hand, and stops preparing", async () => {
    const student = await studentOf(harness, courseId, "Not Staff");
    expect((await harness.trpc("live.prepare", { courseId, seats: 3 }, { cookie: student })).status).toBe(403);
    expect((await harness.trpc("live.prepare", { courseId, seats: 0 }, { cookie: instructor })).status).toBe(400);
    expect((await harness.trpc("live.prepare", { courseId, seats: 1001 }, { cookie: instructor })).status).toBe(400);
    const details = { courseId, title: "Workshop soon", description: "", kind: "WORKSHOP", startsAt: null, endsAt: null };
    expect((await harness.trpc("course.update", { ...details, expectedSeats: 0 }, { cookie: instructor })).status).toBe(400);
    expect((await harness.trpc("course.update", { ...details, expectedSeats: 1001 }, { cookie: instructor })).status).toBe(400);

    // One student of the course is still running from the first test: 4 seats need 3 pooled.
    const prepared = await harness.trpc("live.prepare", { courseId, seats: 4 }, { cookie: instructor });
    expect(prepared.status).toBe(200);
    expect(prepared.body.result.data).toMatchObject({ seats: 4, preparing: true });
    await expect.poll(async () => (await pooledContainers(harness)).length, { timeout: 90_000, interval: 500 }).toBe(3);
    await expect
      .poll(() => preparation(harness, instructor, courseId), { timeout: 30_000, interval: 500 })
      .toMatchObject({ seats: 4, ready: 4, classReady: true });

    const stopped = await harness.trpc("live.stopPreparing", { courseId }, { cookie: instructor });
    expect(stopped.status).toBe(200);
    expect(stopped.body.result.data).toMatchObject({ preparing: false });
    await expect.poll(async () => (await pooledContainers(harness)).length, { timeout: 60_000, interval: 500 }).toBe(0);
  });
});

describe("a workshop larger than the worker", () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ server: { preparationIntervalMs: 500 }, worker: { capacity: { maxEnvironments: 2, memoryBytes: 8 * 1024 ** 3 } } });
  });
  afterAll(async () => {
    await harness?.close();
  });

  it("gets only what the worker can still admit", async () => {
    const instructor = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
    const { courseId } = await newWorkshop(harness, instructor, "Big workshop", 5, 5);
    await expect
      .poll(() => preparation(harness, instructor, courseId), { timeout: 90_000, interval: 500 })
      .toMatchObject({ seats: 5, ready: 2, preparing: true, classReady: false });
    expect((await pooledContainers(harness)).length).toBe(2);
    // Still two a while later: the bound holds across rounds (the plan is re-sent only on change).
    await harness.server.preparation.refresh();
    await harness.worker.pool.filled();
    expect((await pooledContainers(harness)).length).toBe(2);
  });
});
