/**
 * Automatic checks run inside the student's own container (as a checker user that reads the
 * student's files; see check-isolation.test.ts): results are
 * stored per student per step, staff see a table and a CSV, and a runaway check is
 * stopped at its time limit.
 */
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "../support/platform-harness";
import { runInEnvironment } from "../support/run-in-environment";

let harness: Harness;
let labId: string;
let steps: { id: string }[];
let instructorCookie: string;

beforeAll(async () => {
  harness = await startHarness();
  instructorCookie = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
  const template = await harness.db.environmentTemplate.findFirstOrThrow({ where: { courseId: harness.courseId } });
  const lab = await harness.db.lab.create({
    data: {
      courseId: harness.courseId,
      templateId: template.id,
      slug: `checks-${Date.now()}`,
      title: "Checks lab",
      published: true,
      steps: {
        create: [
          { position: 0, title: "Create hello.txt", checkScript: "test -f ~/workspace/hello.txt" },
          {
            position: 1,
            title: "Say world",
            checkScript: 'grep -q world ~/workspace/hello.txt || { echo "hello.txt should contain the word world"; exit 1; }',
          },
          { position: 2, title: "Runaway", checkScript: "echo started; while true; do :; done", checkTimeoutSeconds: 2 },
          { position: 3, title: "Read along" },
        ],
      },
    },
    include: { steps: { orderBy: { position: "asc" } } },
  });
  labId = lab.id;
  steps = lab.steps;
});
afterAll(async () => {
  await harness?.close();
});

async function startFor(cookie: string) {
  const started = await harness.trpc("environment.startForLab", { labId }, { cookie });
  expect(started.status).toBe(200);
  return started.body.result.data.environmentId as string;
}
const check = (cookie: string, stepId: string) => harness.trpc("step.check", { labId, stepId }, { cookie });

describe("step checks", () => {
  it("fail with their output shown, then pass once the student fixes things; attempts and first pass are kept", async () => {
    const student = await harness.newStudent("Checked Student");
    const environmentId = await startFor(student.cookie);

    let result = await check(student.cookie, steps[0]!.id);
    expect(result.body.result.data).toMatchObject({ passed: false, attempts: 1 });

    await runInEnvironment(harness.driver, environmentId, "echo hello > ~/workspace/hello.txt");
    result = await check(student.cookie, steps[0]!.id);
    expect(result.body.result.data).toMatchObject({ passed: true, attempts: 2 });
    const firstPassedAt = result.body.result.data.firstPassedAt;
    expect(firstPassedAt).toBeTruthy();

    result = await check(student.cookie, steps[1]!.id);
    expect(result.body.result.data).toMatchObject({ passed: false, exitCode: 1 });
    expect(result.body.result.data.output).toContain("hello.txt should contain the word world");

    await runInEnvironment(harness.driver, environmentId, "echo world >> ~/workspace/hello.txt");
    result = await check(student.cookie, steps[1]!.id);
    expect(result.body.result.data).toMatchObject({ passed: true, attempts: 2 });

    // A later failure keeps the first pass time.
    await runInEnvironment(harness.driver, environmentId, "rm ~/workspace/hello.txt");
    result = await check(student.cookie, steps[0]!.id);
    expect(result.body.result.data).toMatchObject({ passed: false, attempts: 3, firstPassedAt });

    const lab = await harness.trpc("lab.byId", { labId }, { cookie: student.cookie, method: "GET" });
    const shown = lab.body.result.data.steps;
    expect(shown.map((step: { hasCheck: boolean }) => step.hasCheck)).toEqual([true, true, true, false]);
    expect(JSON.stringify(shown)).not.toContain("grep -q world"); // check scripts stay on the server
    expect(shown[1].result).toMatchObject({ passed: true, attempts: 2 });
  });

  it("a check that loops forever is stopped at its time limit and reported as failed", async () => {
    const student = await harness.newStudent("Looping Student");
    await startFor(student.cookie);
    const began = Date.now();
    const result = await check(student.cookie, steps[2]!.id);
    const elapsed = Date.now() - began;
    expect(result.body.result.data).toMatchObject({ passed: false, timedOut: true });
    expect(result.body.result.data.output).toMatch(/started[\s\S]*longer than 2 s/);
    expect(elapsed).toBeLessThan(15_000); // stopped, not left to run to the request timeout
  });

  it("a check sees only its own student's workspace", async () => {
    const alice = await harness.newStudent("Alice");
    const bob = await harness.newStudent("Bob");
    const aliceEnvironment = await startFor(alice.cookie);
    await startFor(bob.cookie);
    await runInEnvironment(harness.driver, aliceEnvironment, "echo world > ~/workspace/hello.txt");
    expect((await check(alice.cookie, steps[1]!.id)).body.result.data.passed).toBe(true);
    const bobs = await check(bob.cookie, steps[1]!.id);
    expect(bobs.body.result.data.passed).toBe(false);
    expect(bobs.body.result.data.output).toMatch(/No such file|should contain/);
  });

  it("a step without a check, or a student without a running environment, gets a clear answer", async () => {
    const student = await harness.newStudent("Early Student");
    const early = await check(student.cookie, steps[0]!.id);
    expect(early.status).toBe(412);
    expect(early.body.error.message).toMatch(/not running/);
    await startFor(student.cookie);
    const none = await check(student.cookie, steps[3]!.id);
    expect(none.status).toBe(400);
    expect(none.body.error.message).toMatch(/no automatic check/);
    const foreign = await harness.trpc("step.check", { labId: harness.labId, stepId: steps[0]!.id }, { cookie: student.cookie });
    expect(foreign.status).toBe(404);
  });
});

describe("progress for staff", () => {
  it("shows students x steps, exports CSV, and is refused to students", async () => {
    const table = await harness.trpc("lab.progress", { labId }, { cookie: instructorCookie, method: "GET" });
    expect(table.status).toBe(200);
    const row = table.body.result.data.rows.find((entry: { displayName: string }) => entry.displayName === "Checked Student");
    expect(row.steps[1]).toMatchObject({ passed: true, attempts: 2 });

    const csv = await harness.trpc("lab.progressCsv", { labId }, { cookie: instructorCookie, method: "GET" });
    const { filename, csv: text } = csv.body.result.data;
    expect(filename).toBe("checks-lab-progress.csv");
    expect(text.split("\r\n")[0]).toContain('"Step 2: Say world (passed at)"');
    expect(text).toMatch(/"Checked Student","","\d{4}-\d\d-\d\dT[^"]+","3","\d{4}-\d\d-\d\dT[^"]+","2"/);

    const student = await harness.newStudent('=HYPERLINK("http://evil")');
    expect((await harness.trpc("lab.progress", { labId }, { cookie: student.cookie, method: "GET" })).status).toBe(403);
    const again = await harness.trpc("lab.progressCsv", { labId }, { cookie: instructorCookie, method: "GET" });
    expect(again.body.result.data.csv).toContain(`"'=HYPERLINK(""http://evil"")"`);
  });
});

describe("reset and stop", () => {
  it("reset gives a fresh container and keeps or wipes the workspace as chosen; stop keeps it", async () => {
    const student = await harness.newStudent("Resetting Student");
    const environmentId = await startFor(student.cookie);
    await runInEnvironment(harness.driver, environmentId, "echo kept > ~/workspace/file.txt; touch /tmp/scratch");

    const kept = await harness.trpc("environment.reset", { labId, wipeWorkspace: false }, { cookie: student.cookie });
    expect(kept.body.result.data.environmentId).toBe(environmentId);
    let listing = await runInEnvironment(harness.driver, environmentId, "cat ~/workspace/file.txt; ls /tmp");
    expect(listing.output).toContain("kept");
    expect(listing.output).not.toContain("scratch");

    expect((await harness.trpc("environment.stop", { labId }, { cookie: student.cookie })).body.result.data.state).toBe("STOPPED");
    expect(await harness.driver.state(environmentId)).toBe("missing"); // a resume gets a fresh container
    await startFor(student.cookie);
    listing = await runInEnvironment(harness.driver, environmentId, "cat ~/workspace/file.txt");
    expect(listing.output).toContain("kept");

    await harness.trpc("environment.reset", { labId, wipeWorkspace: true }, { cookie: student.cookie });
    listing = await runInEnvironment(harness.driver, environmentId, "ls -A ~/workspace | wc -l");
    expect(listing.output.trim()).toBe("0");

    // Delete: container, workspace and record go; the next start is a brand-new environment.
    const { volumeName } = await harness.db.environment.findUniqueOrThrow({ where: { id: environmentId } });
    expect((await harness.trpc("environment.delete", { labId }, { cookie: student.cookie })).status).toBe(200);
    expect(await harness.driver.state(environmentId)).toBe("missing");
    await expect(new Docker().getVolume(volumeName!).inspect()).rejects.toThrow();
    expect(await startFor(student.cookie)).not.toBe(environmentId);
  });
});
