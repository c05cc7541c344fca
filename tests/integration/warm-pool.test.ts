/**
 * Warm pools: started containers wait per template; a student's first start takes one
 * (renamed, its fresh volume becoming the workspace), the pool refills, and the workspace
 * then behaves like any other: kept across stop/start and reset, wiped on request.
 */
import Docker from "dockerode";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startHarness, type Harness } from "../support/platform-harness";
import { runInEnvironment } from "../support/run-in-environment";

let harness: Harness;
let instructor: string;
let labId: string;
let templateId: string;
const template = {
  name: "Pooled",
  image: "shellroom/default:1",
  memoryMb: 256,
  cpuMillis: 500,
  pidsLimit: 128,
  diskMb: 512,
  network: "NONE",
  idleTimeoutMinutes: 30,
  maxLifetimeMinutes: 120,
  workingDir: "/home/student/workspace",
  setupScript: "touch ~/workspace/.setup-ran",
};

beforeAll(async () => {
  harness = await startHarness({ redis: false });
  instructor = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
  const saved = await harness.trpc("authoring.saveTemplate", { courseId: harness.courseId, ...template, warmPoolSize: 3 }, { cookie: instructor });
  templateId = saved.body.result.data.id;
  const lab = await harness.trpc(
    "authoring.saveLab",
    { courseId: harness.courseId, templateId, title: "Pool lab", instructions: "", published: true, steps: [] },
    { cookie: instructor },
  );
  labId = lab.body.result.data.labId;
});
afterAll(async () => {
  await harness?.close();
});

const start = async (cookie: string) => {
  const started = await harness.trpc("environment.startForLab", { labId }, { cookie });
  expect(started.status).toBe(200);
  return started.body.result.data.environmentId as string;
};

it("keeps the configured number of started containers ready, hands one out on a first start, and refills", async () => {
  await expect.poll(() => harness.worker.pool.size, { timeout: 60_000 }).toBe(3);
  const docker = new Docker();
  const pooledIds = new Set(
    await Promise.all((await harness.driver.listPooled()).map(async (slot) => (await docker.getContainer(`shellroom-pool-${slot.slotId}`).inspect()).Id)),
  );

  const student = await harness.newStudent("Pooled Student");
  const environmentId = await start(student.cookie);
  const environment = await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } });
  expect(pooledIds.has(environment.containerId!)).toBe(true);
  expect(environment.volumeName).toMatch(/^shellroom-pool-ws-/);

  // Same isolation as a cold container, and the template's setup script ran.
  const probe = await runInEnvironment(harness.driver, environmentId, "id -u; grep CapEff /proc/self/status; ls -A ~/workspace");
  expect(probe.output).toMatch(/^1000$/m);
  expect(probe.output).toContain("0000000000000000");
  expect(probe.output).toContain(".setup-ran");

  await harness.worker.pool.filled();
  expect(harness.worker.pool.size).toBe(3);
  expect((await harness.driver.listPooled()).length).toBe(3);
});

it("a pooled workspace is kept across stop/start and a keep-files reset, and a wipe gives a fresh one", async () => {
  const student = await harness.newStudent("Keeping Student");
  const environmentId = await start(student.cookie);
  await runInEnvironment(harness.driver, environmentId, "echo mine > ~/workspace/mine.txt");

  await harness.trpc("environment.stop", { labId }, { cookie: student.cookie });
  await start(student.cookie);
  expect((await runInEnvironment(harness.driver, environmentId, "cat ~/workspace/mine.txt")).output).toContain("mine");

  await harness.trpc("environment.reset", { labId, wipeWorkspace: false }, { cookie: student.cookie });
  expect((await runInEnvironment(harness.driver, environmentId, "cat ~/workspace/mine.txt")).output).toContain("mine");

  const before = (await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } })).volumeName!;
  await harness.trpc("environment.reset", { labId, wipeWorkspace: true }, { cookie: student.cookie });
  const after = (await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } })).volumeName!;
  expect(after).not.toBe(before);
  await expect(new Docker().getVolume(before).inspect()).rejects.toThrow();
  expect((await runInEnvironment(harness.driver, environmentId, "ls ~/workspace/mine.txt 2>&1")).output).toContain("No such file");
});

it("shrinks to nothing when the instructor turns the pool off", async () => {
  const saved = await harness.trpc("authoring.saveTemplate", { courseId: harness.courseId, templateId, ...template, warmPoolSize: 0 }, { cookie: instructor });
  expect(saved.status).toBe(200);
  await expect.poll(async () => (await harness.driver.listPooled()).length, { timeout: 30_000 }).toBe(0);
});
