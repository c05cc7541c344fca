/**
 * Instructor-built images (Dockerfile on the worker, log followed live) and template
 * setup scripts, on the real Docker engine.
 */
import Docker from "dockerode";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startHarness, type Harness } from "../support/platform-harness";
import { runInEnvironment } from "../support/run-in-environment";

let harness: Harness;
let instructor: string;
const builtTags: string[] = [];

beforeAll(async () => {
  harness = await startHarness({ redis: false });
  instructor = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
});
afterAll(async () => {
  await harness?.close();
  const docker = new Docker();
  for (const tag of builtTags)
    await docker
      .getImage(tag)
      .remove({ force: true })
      .catch(() => undefined);
});

async function build(name: string, dockerfile: string) {
  const started = await harness.trpc("authoring.buildImage", { courseId: harness.courseId, name, dockerfile }, { cookie: instructor });
  expect(started.status).toBe(200);
  const { imageId, tag } = started.body.result.data;
  builtTags.push(tag);
  const logs: string[] = [];
  let image: any;
  await expect
    .poll(
      async () => {
        image = (await harness.trpc("authoring.image", { courseId: harness.courseId, imageId }, { cookie: instructor, method: "GET" })).body.result.data;
        logs.push(image.log);
        return image.status;
      },
      { timeout: 120_000, interval: 200 },
    )
    .not.toBe("BUILDING");
  return { image, tag, logs };
}

async function labWith(templateFields: Record<string, unknown>) {
  const template = await harness.trpc(
    "authoring.saveTemplate",
    {
      courseId: harness.courseId,
      name: "t",
      memoryMb: 256,
      cpuMillis: 500,
      pidsLimit: 128,
      diskMb: 512,
      network: "NONE",
      idleTimeoutMinutes: 30,
      maxLifetimeMinutes: 120,
      workingDir: "/home/student/workspace",
      setupScript: null,
      image: "shellroom/default:1",
      ...templateFields,
    },
    { cookie: instructor },
  );
  expect(template.status).toBe(200);
  const lab = await harness.trpc(
    "authoring.saveLab",
    {
      courseId: harness.courseId,
      templateId: template.body.result.data.id,
      title: `Lab ${Date.now()}`,
      instructions: "",
      published: true,
      steps: [],
    },
    { cookie: instructor },
  );
  return lab.body.result.data.labId as string;
}

it("a Dockerfile builds on the worker with its log streamed as it goes; the image then runs a template with a setup script", async () => {
  // The last step takes a few seconds so that a poll sees the log mid-build even on a loaded host.
  const { image, tag, logs } = await build(
    "With tools",
    "FROM shellroom/default:1\nRUN echo baked-in > /home/student/baked.txt\nRUN sleep 2 && echo second step done\n",
  );
  expect(image.status).toBe("READY");
  expect(image.log).toMatch(/Step 1\/3 : FROM shellroom\/default:1[\s\S]*second step done/);
  // The page saw the log grow while the build ran, not only at the end.
  // (The step's own line names the echo too: the output is the line that starts with it.)
  expect(logs.some((log) => log.includes("Step 2/3") && !log.includes("\nsecond step done"))).toBe(true);

  const labId = await labWith({ image: tag, setupScript: "echo set-up-by-template > ~/workspace/setup.txt" });
  const student = await harness.newStudent("Image Student");
  const started = await harness.trpc("environment.startForLab", { labId }, { cookie: student.cookie });
  expect(started.status).toBe(200);
  const result = await runInEnvironment(harness.driver, started.body.result.data.environmentId, "cat ~/baked.txt ~/workspace/setup.txt");
  expect(result.output).toContain("baked-in");
  expect(result.output).toContain("set-up-by-template");
});

it("a broken Dockerfile reports the failing step", async () => {
  const { image } = await build("Broken", "FROM shellroom/default:1\nRUN echo fine\nRUN echo about to fail && exit 3\n");
  expect(image.status).toBe("FAILED");
  expect(image.log).toContain("Step 3/3 : RUN echo about to fail && exit 3");
  expect(image.error).toMatch(/returned a non-zero code: 3/);
});

it("a build FROM an image this host does not have fails without pulling from any registry", async () => {
  const { image } = await build("Remote base", "FROM debian:trixie\nRUN true\n");
  expect(image.status).toBe("FAILED");
  expect(image.error).toBe(
    'The base image "debian:trixie" is not on this worker (nothing is pulled from registries). Build FROM shellroom/default:1 or another image built here.',
  );
});

it("a template whose image does not exist cannot be started and says why; a failing setup script says what it printed", async () => {
  const student = await harness.newStudent("Unlucky Student");
  const missing = await harness.trpc("environment.startForLab", { labId: await labWith({ image: "shellroom/never-built:1" }) }, { cookie: student.cookie });
  // No worker holds it, so placement refuses with a code before any worker is asked.
  expect(missing.status).toBe(503);
  expect(missing.body.error.data.placement).toBe("NO_IMAGE");
  expect(missing.body.error.message).toMatch(/image is not on any machine/);

  const failing = await harness.trpc(
    "environment.startForLab",
    { labId: await labWith({ setupScript: "echo cannot find data; exit 4" }) },
    { cookie: student.cookie },
  );
  expect(failing.body.error.message).toMatch(/setup script exited with 4: cannot find data/);
});
