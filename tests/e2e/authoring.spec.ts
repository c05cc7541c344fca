/**
 * Course staff's authoring, through the real platform in Chromium: an instructor writes and
 * publishes a lab, a student passes its checks, progress updates live and downloads as CSV;
 * and students are kept out of the authoring pages. Exporting and importing labs, image
 * builds, and inert author content are in the other authoring*.spec.ts files.
 * Each test makes its own templates, labs and courses (unique names); the labs it adds to
 * the seeded demo course come after the seeded lab, so the join link still opens that one.
 */
import { readFile } from "node:fs/promises";
import { expect, test } from "@playwright/test";
import { expectConnectedTerminal, screenText, signIn, typeInTerminal, STUDENT } from "./helpers";
import { DEMO_COURSE, DEFAULT_IMAGE, unique, freshPage, openDemoCourse, createTemplate, writeLab } from "./authoring-helpers";

const JOIN_PATH = "/join/demo-workshop";

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
