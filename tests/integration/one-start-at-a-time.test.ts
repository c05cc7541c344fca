/**
 * One start at a time per environment: several tabs pressing Start at once send one start to
 * the worker and all see the environment running; pooled containers are never leaked and a
 * workspace image is never formatted or mounted twice, whether the start works or fails.
 */
import { readFile } from "node:fs/promises";
import Docker from "dockerode";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startHarness, type Harness } from "../support/platform-harness";

const TABS = 3;
const docker = new Docker();
let harness: Harness;
let instructor: string;
/** Start requests handled by the worker, per environment: how many at once at most, and in all. */
const starts = new Map<string, { inFlight: number; most: number; total: number }>();

const template = {
  image: "shellroom/default:1",
  cpuMillis: 500,
  pidsLimit: 128,
  diskMb: 256,
  network: "NONE",
  idleTimeoutMinutes: 30,
  maxLifetimeMinutes: 120,
  workingDir: "/home/student/workspace",
};

/** Each lab's template has its own memory size, so no two share a warm pool. */
async function labWith(name: string, memoryMb: number, warmPoolSize: number, setupScript: string | null) {
  const saved = await harness.trpc(
    "authoring.saveTemplate",
    { courseId: harness.courseId, ...template, name, memoryMb, setupScript, warmPoolSize },
    { cookie: instructor },
  );
  expect(saved.status).toBe(200);
  const lab = await harness.trpc(
    "authoring.saveLab",
    {
      courseId: harness.courseId,
      templateId: saved.body.result.data.id,
      title: name,
      instructions: "",
      published: true,
      steps: [],
    },
    { cookie: instructor },
  );
  expect(lab.status).toBe(200);
  return lab.body.result.data.labId as string;
}

/** Every tab of one student presses Start at the same moment. */
async function startFromTabs(labId: string) {
  const student = await harness.newStudent("Many Tabs");
  return Promise.all(Array.from({ length: TABS }, () => harness.trpc("environment.startForLab", { labId }, { cookie: student.cookie })));
}

/** Containers and volumes this worker holds, by label. */
async function onWorker() {
  const label = `dev.shellroom.worker=${harness.workerId}`;
  const containers = await docker.listContainers({ all: true, filters: { label: [label] } });
  const volumes = (await docker.listVolumes({ filters: { label: [label] } })).Volumes ?? [];
  const mounted = new Set(containers.flatMap((container) => container.Mounts.map((mount) => mount.Name)));
  return {
    environmentContainers: containers.filter((container) => container.Names[0]?.startsWith("/shellroom-env-")),
    pooledContainers: containers.filter((container) => container.Names[0]?.startsWith("/shellroom-pool-")),
    /** Volumes no container uses: nothing records them, so they would stay forever. */
    orphanVolumes: volumes.filter((volume) => !mounted.has(volume.Name)).map((volume) => volume.Name),
  };
}

beforeAll(async () => {
  harness = await startHarness({ redis: false });
  instructor = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
  // Watches the start requests the worker handles (a reload of a running environment may
  // send one more later, harmlessly; two at once is what must never happen).
  const manager = harness.worker.environments;
  const start = manager.start.bind(manager);
  manager.start = (spec) => {
    const count = starts.get(spec.environmentId) ?? { inFlight: 0, most: 0, total: 0 };
    starts.set(spec.environmentId, count);
    count.total++;
    count.most = Math.max(count.most, ++count.inFlight);
    return start(spec).finally(() => count.inFlight--);
  };
});
afterAll(async () => {
  await harness?.close();
});

it("two tabs starting the same environment at once get one container, and no pooled container leaks (warm pool)", { timeout: 120_000 }, async () => {
  const labId = await labWith("Pooled tabs", 256, 2, null);
  await expect.poll(() => harness.worker.pool.size, { timeout: 60_000 }).toBe(2);

  const replies = await startFromTabs(labId);
  expect(replies.map((reply) => reply.status)).toEqual(Array(TABS).fill(200));
  const environmentIds = new Set(replies.map((reply) => reply.body.result.data.environmentId as string));
  expect(environmentIds.size).toBe(1);
  const [environmentId] = environmentIds;
  expect(starts.get(environmentId!)?.most).toBe(1);

  await harness.worker.pool.filled();
  const held = await onWorker();
  expect(held.environmentContainers.map((container) => container.Names[0])).toEqual([`/shellroom-env-${environmentId}`]);
  expect(held.pooledContainers).toHaveLength(2);
  expect(held.orphanVolumes).toEqual([]);
  expect(await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId! } })).toMatchObject({ state: "RUNNING", startClaimedAt: null });
});

it(
  "two tabs starting the same environment at once get one container, and its workspace image is formatted and mounted once (no pool)",
  { timeout: 120_000 },
  async () => {
    const labId = await labWith("Cold tabs", 288, 0, null);
    const replies = await startFromTabs(labId);
    expect(replies.map((reply) => reply.status)).toEqual(Array(TABS).fill(200));
    const environmentId = replies[0]!.body.result.data.environmentId as string;
    expect(new Set(replies.map((reply) => reply.body.result.data.environmentId))).toEqual(new Set([environmentId]));
    expect(starts.get(environmentId)?.most).toBe(1);

    const held = await onWorker();
    expect(held.environmentContainers.filter((container) => container.Names[0] === `/shellroom-env-${environmentId}`)).toHaveLength(1);
    const { volumeName } = await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } });
    // The workspace is a loop-mounted image (this host has root and loop devices): mounted once.
    const mounts = (await readFile("/proc/self/mountinfo", "utf8")).split("\n").filter((line) => line.split(" ")[4]?.endsWith(`/${volumeName}`));
    expect(mounts).toHaveLength(1);
  },
);

it("a failed start returns or removes the pooled container it took, and every tab is told why", { timeout: 120_000 }, async () => {
  await harness.worker.pool.filled();
  const pooled = harness.worker.pool.size + 1; // this lab's pool holds one
  const labId = await labWith("Broken setup", 320, 1, "echo the setup broke; exit 3");
  await expect.poll(() => harness.worker.pool.size, { timeout: 60_000 }).toBe(pooled);

  const replies = await startFromTabs(labId);
  for (const reply of replies) {
    expect(reply.status).toBe(500);
    expect(JSON.stringify(reply.body)).toMatch(/setup script exited with 3/);
  }
  const environmentId = (await harness.db.environment.findFirstOrThrow({ where: { labId } })).id;
  expect(starts.get(environmentId)?.most).toBe(1);

  await harness.worker.pool.filled();
  const held = await onWorker();
  expect(held.environmentContainers.filter((container) => container.Names[0] === `/shellroom-env-${environmentId}`)).toHaveLength(0);
  expect(held.pooledContainers).toHaveLength(pooled);
  expect(held.orphanVolumes).toEqual([]);
  // Every tab was told of the one failed start: none of them sent another.
  expect(starts.get(environmentId)?.total).toBe(1);
  expect(await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } })).toMatchObject({ state: "FAILED", startClaimedAt: null });
});
