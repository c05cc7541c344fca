/**
 * Course staff's authoring, through the real platform in Chromium: environment templates,
 * image builds, the lab editor (publish, export, import), live progress with its CSV, and
 * that nothing an author writes can run script in a student's page.
 * Each test makes its own templates, labs and courses (unique names); the labs it adds to
 * the seeded demo course come after the seeded lab, so the join link still opens that one.
 */
import { mkdtemp, mkdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { strFromU8, strToU8, unzipSync, zipSync } from "fflate";
import { expect, test, type Browser, type Page } from "@playwright/test";
import { expectConnectedTerminal, screenText, signIn, typeInTerminal, INSTRUCTOR, STUDENT } from "./helpers";

const DEMO_COURSE = "Intro to the Unix shell";
const JOIN_PATH = "/join/demo-workshop";
const DEFAULT_IMAGE = "shellroom/default:1";

const unique = (label: string) => `${label}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

async function freshPage(browser: Browser) {
  const context = await browser.newContext();
  return { context, page: await context.newPage() };
}

/** Signs the instructor in and opens the demo course; returns its URL. */
async function openDemoCourse(page: Page) {
  await signIn(page, INSTRUCTOR);
  await page.getByRole("link", { name: DEMO_COURSE }).click();
  await expect(page.getByRole("heading", { name: DEMO_COURSE, level: 1 })).toBeVisible();
  return page.url();
}

async function createTemplate(page: Page, courseUrl: string, name: string, image = DEFAULT_IMAGE) {
  await page.goto(`${courseUrl}/templates`);
  await page.getByRole("button", { name: "New template" }).click();
  const form = page.getByTestId("template-form");
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Image").selectOption(image);
  await form.getByLabel("CPUs").fill("0.5");
  await form.getByLabel("Memory (MiB)").fill("256");
  await form.getByLabel("Process limit").fill("128");
  await form.getByLabel("Disk (MiB)").fill("512");
  await form.getByLabel("Idle timeout (minutes)").fill("15");
  await form.getByLabel("Max lifetime (minutes)").fill("60");
  await form.getByRole("button", { name: "Create template" }).click();
  await expect(page.getByRole("status").filter({ hasText: `Created “${name}”` })).toBeVisible();
  await expect(page.getByTestId("templates-table").getByRole("row", { name: new RegExp(name) })).toContainText("0.5 CPUs");
}

type StepSpec = { title: string; body?: string; hint?: string; check?: string };

/** Fills the lab editor (new or existing) and presses the given button. */
async function writeLab(page: Page, lab: { title: string; template?: string; instructions: string; steps: StepSpec[] }) {
  await page.getByLabel("Lab title").fill(lab.title);
  if (lab.template) await page.getByLabel("Environment template").selectOption({ label: `${lab.template} (${DEFAULT_IMAGE})` });
  await page.getByLabel("Instructions").fill(lab.instructions);
  for (const [index, step] of lab.steps.entries()) {
    if (index > 0) await page.getByRole("button", { name: "Add step" }).click();
    const group = page.getByRole("group", { name: `Step ${index + 1}`, exact: true });
    await group.getByLabel("Step title").fill(step.title);
    if (step.body) await group.getByLabel("Step text").fill(step.body);
    if (step.hint) await group.getByLabel("Hint").fill(step.hint);
    if (step.check) await group.getByLabel("Check script").fill(step.check);
  }
}

async function createAndPublishLab(page: Page, courseUrl: string, lab: Parameters<typeof writeLab>[1]) {
  await page.goto(`${courseUrl}/labs/new`);
  await writeLab(page, lab);
  await page.getByRole("button", { name: "Create lab" }).click();
  await expect(page).toHaveURL(/\/labs\/[^/]+\/edit/);
  await expect(page.getByTestId("publish-state")).toHaveText("Draft");
  await expect(page.getByText("Lab created as a draft")).toBeVisible();
  await page.getByRole("button", { name: "Publish", exact: true }).click();
  await expect(page.getByTestId("publish-state")).toHaveText("Published");
  return /\/labs\/([^/]+)\/edit/.exec(page.url())![1]!;
}

test("an instructor writes and publishes a lab; a student passes its checks; progress updates live and downloads as CSV", async ({ page, browser }) => {
  test.setTimeout(300_000);
  const templateName = unique("Small box");
  const labTitle = unique("Files and grep");
  const studentName = `Checker ${Date.now() % 100000}`;

  const courseUrl = await openDemoCourse(page);
  await expect(page.getByRole("link", { name: "Environment templates" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Images" })).toBeVisible();

  // A template: per-field errors first, then a valid one.
  await page.getByRole("link", { name: "Environment templates" }).click();
  await expect(page.getByRole("heading", { name: "Environment templates" })).toBeVisible();
  await page.getByRole("button", { name: "New template" }).click();
  const form = page.getByTestId("template-form");
  await expect(form.getByLabel("Image")).toHaveValue(DEFAULT_IMAGE);
  await expect(form.getByLabel("Network")).toHaveValue("NONE");
  await expect(form.getByRole("option", { name: "Egress (not available on this deployment)" })).toBeDisabled();
  await form.getByLabel("Idle timeout (minutes)").fill("1");
  await form.getByLabel("CPUs").fill("20");
  await form.getByRole("button", { name: "Create template" }).click();
  await expect(form.getByText("Name the template")).toBeVisible();
  await expect(form.getByText("At least 5 minutes")).toBeVisible();
  await expect(form.getByText("At most 8 CPUs")).toBeVisible();
  await expect(form.getByLabel("Idle timeout (minutes)")).toHaveAttribute("aria-invalid", "true");
  await createTemplate(page, courseUrl, templateName);

  // The lab: the editor refuses an untitled step, then saves two checked steps.
  await page.goto(courseUrl);
  await page.getByRole("link", { name: "New lab" }).click();
  await expect(page.getByRole("heading", { name: "New lab" })).toBeVisible();
  await page.getByRole("button", { name: "Create lab" }).click();
  await expect(page.getByText("Give the lab a title")).toBeVisible();
  await expect(page.getByText("Give the step a title")).toBeVisible();
  await writeLab(page, {
    title: labTitle,
    template: templateName,
    instructions: "# Files\n\nMake a file, then put a word in it.",
    steps: [
      { title: "Make one.txt", body: "Create `~/workspace/one.txt`.", hint: "touch makes empty files", check: "test -f ~/workspace/one.txt" },
      { title: "Write two", body: "Put the word **two** in it.", check: 'grep -q two ~/workspace/one.txt || { echo "one.txt must contain two"; exit 1; }' },
    ],
  });
  await page.getByRole("tab", { name: "Preview" }).first().click();
  await expect(page.getByTestId("markdown-preview").first()).toContainText("Make a file");
  await page.getByRole("tab", { name: "Write" }).first().click();
  await page.getByRole("button", { name: "Create lab" }).click();
  await expect(page).toHaveURL(/\/labs\/[^/]+\/edit/);
  await expect(page.getByTestId("publish-state")).toHaveText("Draft");
  await expect(page.getByRole("group", { name: "Step 2", exact: true }).getByLabel("Check script")).toHaveValue(/one.txt must contain two/);
  await page.getByRole("button", { name: "Publish", exact: true }).click();
  await expect(page.getByTestId("publish-state")).toHaveText("Published");
  const labId = /\/labs\/([^/]+)\/edit/.exec(page.url())![1]!;

  // The course page lists it with its staff links; the progress page is open from here on.
  await page.goto(courseUrl);
  await expect(page.getByRole("link", { name: `Edit ${labTitle}` })).toBeVisible();
  await page.getByRole("link", { name: `Progress of ${labTitle}` }).click();
  await expect(page).toHaveURL(new RegExp(`/labs/${labId}/progress$`));
  await expect(page.getByRole("heading", { name: labTitle })).toBeVisible();
  await expect(page.getByTestId("progress-table").getByRole("columnheader", { name: /Write two/ })).toBeVisible();

  // A student joins by link and opens the new lab from the home page.
  const { context: studentContext, page: student } = await freshPage(browser);
  await student.goto(JOIN_PATH);
  await student.getByLabel("Your name").fill(studentName);
  await student.getByRole("button", { name: "Join and open the lab" }).click();
  await expect(student).toHaveURL(/\/labs\/[^/]+$/);
  await student.goto("/");
  await student.getByRole("link", { name: labTitle }).click();
  await expect(student).toHaveURL(new RegExp(`/labs/${labId}$`));
  await expectConnectedTerminal(student);

  const row = page.getByTestId("progress-row").filter({ hasText: studentName });
  await expect(row).toBeVisible({ timeout: 15_000 });
  await expect(row.locator('[data-state="none"]')).toHaveCount(2);

  await typeInTerminal(student, "touch ~/workspace/one.txt && echo made-$((6*7))");
  await expect.poll(() => screenText(student)).toContain("made-42");
  const stepOne = student.getByTestId("step-0");
  await stepOne.getByRole("button", { name: "Check" }).click();
  await expect(stepOne.getByTestId("check-result")).toHaveAttribute("data-passed", "true", { timeout: 30_000 });

  const stepTwo = student.getByTestId("step-1");
  await stepTwo.getByRole("button", { name: "Check" }).click();
  await expect(stepTwo.getByTestId("check-result")).toHaveAttribute("data-passed", "false", { timeout: 30_000 });
  await expect(stepTwo.getByTestId("check-result")).toContainText("one.txt must contain two");

  // The instructor's page follows along without a reload.
  await expect(row.locator("td").nth(0)).toHaveAttribute("data-state", "passed");
  await expect(row.locator("td").nth(1)).toHaveAttribute("data-state", "failed");

  await typeInTerminal(student, "echo two > ~/workspace/one.txt && echo wrote-$((6*7))");
  await expect.poll(() => screenText(student)).toContain("wrote-42");
  await stepTwo.getByRole("button", { name: "Check" }).click();
  await expect(stepTwo.getByTestId("check-result")).toHaveAttribute("data-passed", "true", { timeout: 30_000 });

  await expect(row.locator('[data-state="passed"]')).toHaveCount(2);
  await expect(row.locator("td").nth(0)).toHaveAttribute("title", /first passed/);
  await expect(row.locator("td").nth(1)).toHaveAttribute("title", /2 checks/);
  await expect(row.locator(".done-all")).toHaveText("2/2");

  const downloading = page.waitForEvent("download");
  await page.getByRole("button", { name: "Download CSV" }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/-progress\.csv$/);
  const csv = await readFile((await download.path())!, "utf8");
  expect(csv).toContain(studentName);
  expect(csv).toContain("Write two");

  await studentContext.close();
});

test("a lab exports as a folder zip and comes back in by .zip and by folder; bad uploads say why", async ({ page }) => {
  test.setTimeout(120_000);
  const labTitle = unique("Round trip");
  const courseUrl = await openDemoCourse(page);
  await page.goto(`${courseUrl}/labs/new`);
  await writeLab(page, {
    title: labTitle,
    instructions: "Export me.",
    steps: [
      { title: "First", body: "one", check: "true" },
      { title: "Second", body: "two", hint: "look closely", check: "test -d /tmp" },
    ],
  });
  await page.getByRole("button", { name: "Create lab" }).click();
  await expect(page).toHaveURL(/\/labs\/[^/]+\/edit/);

  // Moving a step and saving keeps the new order.
  await page.getByRole("button", { name: "Move step 2 up" }).click();
  await expect(page.getByText("Unsaved changes")).toBeVisible();
  await page.getByRole("button", { name: "Save lab" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved." })).toBeVisible();
  await page.reload();
  await expect(page.getByRole("group", { name: "Step 1", exact: true }).getByLabel("Step title")).toHaveValue("Second");
  await expect(page.getByRole("group", { name: "Step 1", exact: true }).getByLabel("Hint")).toHaveValue("look closely");

  const downloading = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export folder" }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/^round-trip.*\.zip$/);
  const zipped = await readFile((await download.path())!);
  const entries = unzipSync(new Uint8Array(zipped));
  const folder = download.suggestedFilename().replace(/\.zip$/, "");
  const names = Object.keys(entries);
  expect(names).toContain(`${folder}/lab.yaml`);
  expect(names).toContain(`${folder}/instructions.md`);
  expect(strFromU8(entries[`${folder}/lab.yaml`]!)).toContain(labTitle);
  expect(strFromU8(entries[`${folder}/checks/01-second.sh`]!)).toBe("test -d /tmp");

  // Back in as a .zip ...
  const work = await mkdtemp(path.join(tmpdir(), "shellroom-import-"));
  const zipPath = path.join(work, `${folder}.zip`);
  await writeFile(zipPath, zipped);
  await page.goto(courseUrl);
  const importForm = page.getByTestId("import-lab-form");
  await importForm.getByLabel("Upload a .zip").setInputFiles(zipPath);
  await expect(page.getByTestId("import-picked")).toContainText(`${folder}.zip: 6 files`);
  await importForm.getByRole("button", { name: "Import lab" }).click();
  await expect(importForm.getByRole("status")).toContainText("Imported a lab with 2 steps");
  await expect(page.getByRole("link", { name: `Edit ${labTitle}` })).toHaveCount(2);

  // ... and as a folder (webkitdirectory), hidden files left out.
  const dir = path.join(work, folder);
  for (const [name, data] of Object.entries(entries)) {
    const target = path.join(work, name);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, data);
  }
  await writeFile(path.join(dir, ".DS_Store"), "junk");
  await importForm.getByLabel("Upload a folder").setInputFiles(dir);
  await expect(page.getByTestId("import-picked")).toContainText("6 files, 1 hidden skipped");
  await importForm.getByRole("button", { name: "Import lab" }).click();
  await expect(importForm.getByRole("status")).toContainText("Imported a lab with 2 steps");
  await expect(page.getByRole("link", { name: `Edit ${labTitle}` })).toHaveCount(3);

  // A zip that is not a lab folder, and a lab.yaml that names a missing file.
  const notALab = path.join(work, "not-a-lab.zip");
  await writeFile(notALab, zipSync({ "notes/readme.md": strToU8("hello") }));
  await importForm.getByLabel("Upload a .zip").setInputFiles(notALab);
  await importForm.getByRole("button", { name: "Import lab" }).click();
  await expect(page.getByTestId("import-error")).toHaveText("The folder has no lab.yaml at its top.");
  const broken = path.join(work, "broken.zip");
  await writeFile(broken, zipSync({ "broken/lab.yaml": strToU8("title: Broken\nsteps:\n  - title: A\n    body: steps/01-a.md\n") }));
  await importForm.getByLabel("Upload a .zip").setInputFiles(broken);
  await importForm.getByRole("button", { name: "Import lab" }).click();
  await expect(page.getByTestId("import-error")).toContainText("steps/01-a.md, which is not in the folder");
});

test("an image build follows its log live; a failing RUN shows FAILED with the failing step, a good one becomes a template image", async ({ page }) => {
  test.setTimeout(240_000);
  const courseUrl = await openDemoCourse(page);
  await page.getByRole("link", { name: "Images" }).click();
  await expect(page.getByRole("heading", { name: "Images", level: 1 })).toBeVisible();

  await page.getByRole("button", { name: "New image" }).click();
  await expect(page.getByLabel("Dockerfile")).toHaveValue("FROM shellroom/default:1\nUSER root\nRUN ...\nUSER student");
  await page.getByLabel("Image name").fill(unique("no-from"));
  await page.getByLabel("Dockerfile").fill("RUN true");
  await page.getByRole("button", { name: "Build image" }).click();
  await expect(page.getByText("A Dockerfile starts FROM an image")).toBeVisible();

  const brokenName = unique("broken");
  await page.getByLabel("Image name").fill(brokenName);
  await page.getByLabel("Dockerfile").fill("FROM shellroom/default:1\nUSER root\nRUN echo before-the-failure\nRUN exit 3\nUSER student");
  await page.getByRole("button", { name: "Build image" }).click();
  await expect(page).toHaveURL(/\/images\/[^/]+$/);
  await expect(page.getByRole("heading", { name: brokenName })).toBeVisible();
  await expect(page.getByTestId("image-status")).toHaveAttribute("data-status", "FAILED", { timeout: 120_000 });
  await expect(page.getByTestId("build-outcome")).toContainText("The build failed");
  await expect(page.getByTestId("build-outcome")).toContainText("non-zero code: 3");
  await expect(page.getByTestId("build-log")).toContainText("RUN exit 3");
  await expect(page.getByTestId("build-log")).toContainText("before-the-failure");

  const goodName = unique("with-motd");
  await page.goto(`${courseUrl}/images`);
  await expect(
    page
      .getByTestId("images-table")
      .getByRole("row", { name: new RegExp(brokenName) })
      .getByTestId("image-status"),
  ).toHaveText("Failed");
  await page.getByRole("button", { name: "New image" }).click();
  await page.getByLabel("Image name").fill(goodName);
  await page.getByLabel("Dockerfile").fill("FROM shellroom/default:1\nUSER root\nRUN echo built-by-e2e > /etc/e2e-marker\nUSER student");
  await page.getByRole("button", { name: "Build image" }).click();
  await expect(page).toHaveURL(/\/images\/[^/]+$/);
  await expect(page.getByTestId("image-status")).toHaveAttribute("data-status", "READY", { timeout: 180_000 });
  await expect(page.getByTestId("build-log")).toContainText("Successfully tagged shellroom/c-");
  const tag = (await page.locator("code.tag").first().innerText()).trim();
  expect(tag).toMatch(/^shellroom\/c-/);

  // A ready image is offered to templates.
  await page.goto(`${courseUrl}/templates`);
  await page.getByRole("button", { name: "New template" }).click();
  await expect(page.getByTestId("template-form").getByLabel("Image").locator("option", { hasText: tag })).toHaveCount(1);
});

test("nothing an author writes runs as script: lab title, instructions, links and step text render inert", async ({ page, browser }) => {
  test.setTimeout(180_000);
  const xssTitle = `<img src=x onerror=window.__xss=1> ${unique("lab")}`;
  const courseUrl = await openDemoCourse(page);
  await createAndPublishLab(page, courseUrl, {
    title: xssTitle,
    instructions: 'Intro <script>window.__xss=1</script>\n\n[click me](javascript:window.__xss=1)\n\n<a href="javascript:window.__xss=1">raw link</a>',
    steps: [{ title: "Careful <b>step</b>", body: 'Text <img src=x onerror="window.__xss=1"> more', check: "true" }],
  });
  // The editor's own preview is inert too.
  await page.getByRole("tab", { name: "Preview" }).first().click();
  await expect(page.getByTestId("markdown-preview").first()).toContainText("click me");
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();

  const { context, page: student } = await freshPage(browser);
  const dialogs: string[] = [];
  student.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await signIn(student, STUDENT);
  await student.getByRole("link", { name: xssTitle }).click();
  await expect(student.getByTestId("step-0")).toBeVisible();
  await expect(student.getByText(xssTitle).first()).toBeVisible();
  const clickMe = student.getByText("click me");
  if (await clickMe.count()) await clickMe.first().click();
  await student.waitForTimeout(500);
  expect(await student.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  await expect(student.locator('a[href^="javascript:" i]')).toHaveCount(0);
  await expect(student.locator("script", { hasText: "__xss" })).toHaveCount(0);
  await expect(student.locator('img[src="x"]')).toHaveCount(0);
  expect(dialogs).toEqual([]);
  await context.close();
});

test("a course title with HTML shows as text; course details save kind and dates with per-field errors", async ({ page }) => {
  const title = `<img src=x onerror=window.__xss=1> ${unique("Course")}`;
  await signIn(page, INSTRUCTOR);
  await page.getByLabel("Title").fill("Plain start");
  await page.getByRole("button", { name: "Create course" }).click();
  await expect(page).toHaveURL(/\/courses\/[^/]+$/);

  const details = page.getByTestId("course-details-form");
  await details.getByLabel("Title").fill("ab");
  await details.getByLabel("Kind").selectOption("WORKSHOP");
  await details.getByLabel("Starts at").fill("2030-05-02T10:00");
  await details.getByLabel("Ends at").fill("2030-05-01T10:00");
  await details.getByRole("button", { name: "Save details" }).click();
  await expect(details.getByText("Use at least 3 characters")).toBeVisible();
  await details.getByLabel("Title").fill(title);
  await details.getByRole("button", { name: "Save details" }).click();
  await expect(details.getByText("The end comes after the start")).toBeVisible();
  await details.getByLabel("Ends at").fill("2030-05-02T16:00");
  await details.getByRole("button", { name: "Save details" }).click();
  await expect(details.getByRole("status")).toHaveText("Saved ✓");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(title);

  await page.reload();
  await expect(page.getByTestId("course-details-form").getByLabel("Kind")).toHaveValue("WORKSHOP");
  await expect(page.getByTestId("course-details-form").getByLabel("Ends at")).toHaveValue("2030-05-02T16:00");

  await page.goto("/");
  await expect(page.getByRole("link", { name: title })).toBeVisible();
  await expect(page.locator('img[src="x"]')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
});

test("students are told plainly that authoring pages are for course staff", async ({ page }) => {
  await signIn(page, STUDENT);
  await page.getByRole("link", { name: DEMO_COURSE }).click();
  await expect(page.getByRole("heading", { name: DEMO_COURSE, level: 1 })).toBeVisible();
  await expect(page.getByRole("link", { name: "Environment templates" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "New lab" })).toHaveCount(0);
  await expect(page.getByTestId("course-details-form")).toHaveCount(0);
  const courseUrl = page.url();
  for (const sub of ["templates", "images", "labs/new"]) {
    await page.goto(`${courseUrl}/${sub}`);
    await expect(page.getByTestId("staff-only")).toContainText("Course staff only");
  }
});
