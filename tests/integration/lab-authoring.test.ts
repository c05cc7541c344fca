/** Instructors write templates and labs; students see a lab once it is published. */
import { afterAll, beforeAll, expect, it } from "vitest";
import { startHarness, type Harness } from "../support/platform-harness";

let harness: Harness;
let instructor: string;
beforeAll(async () => {
  harness = await startHarness({ redis: false });
  instructor = await harness.signIn("instructor@shellroom.local", "shellroom-instructor");
});
afterAll(async () => {
  await harness?.close();
});

const template = {
  name: "Python 3",
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
};

it("an instructor creates a template and a lab with checked steps, edits it, publishes it; students see it only then", async () => {
  const courseId = harness.courseId;
  const savedTemplate = await harness.trpc("authoring.saveTemplate", { courseId, ...template }, { cookie: instructor });
  expect(savedTemplate.status).toBe(200);
  const templateId = savedTemplate.body.result.data.id;

  const invalid = await harness.trpc("authoring.saveTemplate", { courseId, ...template, memoryMb: 1, workingDir: "relative" }, { cookie: instructor });
  expect(invalid.status).toBe(400);
  expect(Object.keys(invalid.body.error.data.zodError.fieldErrors).sort()).toEqual(["memoryMb", "workingDir"]);

  const steps = [
    { title: "Make a file", body: "Run `touch a.txt`.", hint: null, checkScript: "test -f ~/workspace/a.txt", checkTimeoutSeconds: 5 },
    { title: "Fill it", body: "Write into it.", hint: "Use echo and >", checkScript: "test -s ~/workspace/a.txt", checkTimeoutSeconds: 5 },
  ];
  const created = await harness.trpc(
    "authoring.saveLab",
    { courseId, templateId, title: "Files 101", instructions: "# Files", published: false, steps },
    { cookie: instructor },
  );
  expect(created.status).toBe(200);
  const labId = created.body.result.data.labId;

  const student = await harness.newStudent("Waiting Student");
  expect((await harness.trpc("lab.byId", { labId }, { cookie: student.cookie, method: "GET" })).status).toBe(404);
  const forbidden = await harness.trpc(
    "authoring.saveLab",
    { courseId, templateId, title: "Mine", instructions: "", published: true, steps: [] },
    { cookie: student.cookie },
  );
  expect(forbidden.status).toBe(403);

  // Edit: swap the steps; ids (and any results) travel with the steps.
  const stored = (await harness.trpc("authoring.lab", { courseId, labId }, { cookie: instructor, method: "GET" })).body.result.data;
  const [first, second] = stored.steps;
  const edited = await harness.trpc(
    "authoring.saveLab",
    {
      courseId,
      labId,
      templateId,
      title: "Files 101",
      instructions: "# Files\n\nEdited.",
      published: false,
      steps: [second, first].map((step: any) => ({
        stepId: step.id,
        title: step.title,
        body: step.body,
        hint: step.hint,
        checkScript: step.checkScript,
        checkTimeoutSeconds: step.checkTimeoutSeconds,
      })),
    },
    { cookie: instructor },
  );
  expect(edited.status).toBe(200);
  const after = (await harness.trpc("authoring.lab", { courseId, labId }, { cookie: instructor, method: "GET" })).body.result.data;
  expect(after.steps.map((step: any) => step.id)).toEqual([second.id, first.id]);

  expect((await harness.trpc("authoring.setPublished", { courseId, labId, published: true }, { cookie: instructor })).status).toBe(200);
  const visible = await harness.trpc("lab.byId", { labId }, { cookie: student.cookie, method: "GET" });
  expect(visible.body.result.data.steps.map((step: any) => step.title)).toEqual(["Fill it", "Make a file"]);
});

it("a lab exported as a folder imports back as the same lab; a broken folder is refused with the reason", async () => {
  const courseId = harness.courseId;
  const exported = await harness.trpc("authoring.exportLab", { courseId, labId: harness.labId }, { cookie: instructor, method: "GET" });
  const { files } = exported.body.result.data;
  expect(Object.keys(files)).toContain("lab.yaml");
  const templateId = (await harness.db.lab.findUniqueOrThrow({ where: { id: harness.labId } })).templateId;

  const imported = await harness.trpc("authoring.importLab", { courseId, templateId, files }, { cookie: instructor });
  expect(imported.status).toBe(200);
  const original = await harness.db.lab.findUniqueOrThrow({ where: { id: harness.labId }, include: { steps: { orderBy: { position: "asc" } } } });
  const copy = await harness.db.lab.findUniqueOrThrow({ where: { id: imported.body.result.data.labId }, include: { steps: { orderBy: { position: "asc" } } } });
  expect(copy.slug).not.toBe(original.slug);
  const shape = (lab: typeof original) => ({
    title: lab.title,
    instructions: lab.instructions,
    steps: lab.steps.map(({ title, body, hint, checkScript }) => ({ title, body, hint, checkScript })),
  });
  expect(shape(copy)).toEqual(shape(original));

  const broken = await harness.trpc(
    "authoring.importLab",
    { courseId, templateId, files: { "lab.yaml": "title: Broken\nsteps:\n  - title: x\n    body: steps/missing.md\n" } },
    { cookie: instructor },
  );
  expect(broken.status).toBe(400);
  expect(broken.body.error.message).toBe("lab.yaml: steps[0].body refers to steps/missing.md, which is not in the folder.");
});

it("a one-off workshop has dates, and dates out of order are refused on the right field", async () => {
  const created = await harness.trpc(
    "course.create",
    { title: "Friday workshop", description: "Two hours of git", kind: "WORKSHOP", startsAt: "2026-12-04T14:00:00Z", endsAt: "2026-12-04T16:00:00Z" },
    { cookie: instructor },
  );
  expect(created.status).toBe(200);
  const courseId = created.body.result.data.id;
  const read = await harness.trpc("course.byId", { courseId }, { cookie: instructor, method: "GET" });
  expect(read.body.result.data).toMatchObject({ kind: "WORKSHOP", startsAt: "2026-12-04T14:00:00.000Z" });
  const backwards = await harness.trpc(
    "course.update",
    { courseId, title: "Friday workshop", description: "", kind: "WORKSHOP", startsAt: "2026-12-04T16:00:00Z", endsAt: "2026-12-04T14:00:00Z" },
    { cookie: instructor },
  );
  expect(backwards.status).toBe(400);
  expect(backwards.body.error.data.zodError.fieldErrors.endsAt).toEqual(["The end comes after the start"]);
});

it("a step's field error names the step it belongs to", async () => {
  const templateId = (await harness.db.lab.findUniqueOrThrow({ where: { id: harness.labId } })).templateId;
  const step = { title: "Fine", body: "", hint: null, checkScript: null, checkTimeoutSeconds: 10 };
  const response = await harness.trpc(
    "authoring.saveLab",
    {
      courseId: harness.courseId,
      templateId,
      title: "Steps",
      instructions: "",
      published: false,
      steps: [step, { ...step, title: "" }, { ...step, checkTimeoutSeconds: 900 }],
    },
    { cookie: instructor },
  );
  expect(response.status).toBe(400);
  expect(response.body.error.data.zodError.issues).toEqual([
    { path: ["steps", 1, "title"], message: "Give the step a title" },
    { path: ["steps", 2, "checkTimeoutSeconds"], message: "At most 5 minutes" },
  ]);
});

it("a template's memory reservation defaults to 64 MiB, may be set up to its limit, and above it is refused on its field", async () => {
  const courseId = harness.courseId;
  const defaulted = await harness.trpc("authoring.saveTemplate", { courseId, ...template, name: "Reserved by default" }, { cookie: instructor });
  expect(defaulted.body.result.data.memoryReservationMb).toBe(64);
  const set = await harness.trpc("authoring.saveTemplate", { courseId, ...template, name: "Reserved 128", memoryReservationMb: 128 }, { cookie: instructor });
  expect(set.body.result.data.memoryReservationMb).toBe(128);
  const above = await harness.trpc(
    "authoring.saveTemplate",
    { courseId, ...template, name: "Reserved too much", memoryReservationMb: 512 },
    { cookie: instructor },
  );
  expect(above.status).toBe(400);
  expect(above.body.error.data.zodError.fieldErrors).toEqual({ memoryReservationMb: ["At most the memory limit"] });
});
