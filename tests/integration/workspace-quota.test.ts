/**
 * A workspace cannot grow past its template's disk limit (loop-mounted ext4 image per
 * workspace volume on this host), keeps its files across stop/start, and leaves nothing
 * behind on the host when it is deleted.
 */
import { existsSync, statSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startHarness, type Harness } from "../support/platform-harness";
import { runInEnvironment } from "../support/run-in-environment";

let harness: Harness;
let instructor: string;
beforeAll(async () => {
  harness = await startHarness({ redis: false });
  instructor = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
});
afterAll(async () => {
  await harness?.close();
});

it("writing past the template's disk limit fails inside the environment, without touching the host's disk", async () => {
  const template = await harness.trpc(
    "authoring.saveTemplate",
    {
      courseId: harness.courseId,
      name: "Small disk",
      image: "shellroom/default:1",
      memoryMb: 256,
      cpuMillis: 500,
      pidsLimit: 128,
      diskMb: 64,
      network: "NONE",
      idleTimeoutMinutes: 30,
      maxLifetimeMinutes: 120,
      workingDir: "/home/student/workspace",
      setupScript: null,
    },
    { cookie: instructor },
  );
  const lab = await harness.trpc(
    "authoring.saveLab",
    {
      courseId: harness.courseId,
      templateId: template.body.result.data.id,
      title: "Disk lab",
      instructions: "",
      published: true,
      steps: [],
    },
    { cookie: instructor },
  );
  const labId = lab.body.result.data.labId;
  const student = await harness.newStudent("Hoarding Student");
  const started = await harness.trpc("environment.startForLab", { labId }, { cookie: student.cookie });
  const environmentId = started.body.result.data.environmentId;
  const { volumeName } = await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } });
  const image = `/var/lib/shellroom/workspaces/${volumeName}.img`;
  expect(statSync(image).size).toBe(64 * 1024 * 1024);

  const filled = await runInEnvironment(
    harness.driver,
    environmentId,
    "echo keep > ~/workspace/small.txt; dd if=/dev/zero of=~/workspace/big bs=1M count=200 2>&1; echo exit=$?; df -m ~/workspace | tail -1",
  );
  expect(filled.output).toContain("No space left on device");
  expect(filled.output).toContain("exit=1");
  expect(Number(filled.output.trim().split("\n").at(-1)!.split(/\s+/)[1])).toBeLessThanOrEqual(64);
  // The image is sparse but bounded: the host holds at most the limit for this workspace.
  expect(statSync(image).blocks * 512).toBeLessThanOrEqual(64 * 1024 * 1024);

  await harness.trpc("environment.stop", { labId }, { cookie: student.cookie });
  await harness.trpc("environment.startForLab", { labId }, { cookie: student.cookie });
  expect((await runInEnvironment(harness.driver, environmentId, "cat ~/workspace/small.txt; id -un; touch ~/workspace/again && echo writable")).output).toMatch(
    /keep[\s\S]*student[\s\S]*writable/,
  );

  const wiped = await harness.trpc("environment.reset", { labId, wipeWorkspace: true }, { cookie: student.cookie });
  expect(wiped.status, JSON.stringify(wiped.body)).toBe(200);
  // A fresh, empty workspace of the same limit (the name is reused for the new one).
  expect((await runInEnvironment(harness.driver, environmentId, "ls -A ~/workspace | wc -l; df -m ~/workspace | tail -1")).output).toMatch(/^0\n/);

  // Deleting the environment for good leaves no image or mount on the host.
  await harness.driver.remove(environmentId, { removeVolume: true, volumeName });
  expect(existsSync(image)).toBe(false);
  expect(existsSync(`/var/lib/shellroom/workspaces/${volumeName}`)).toBe(false);
});
