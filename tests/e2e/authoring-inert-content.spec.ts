/**
 * Course staff's authoring, through the real platform in Chromium: nothing an author writes
 * can run script in a student's page, and course details save with per-field errors.
 * Each test makes its own templates, labs and courses (unique names); the labs it adds to
 * the seeded demo course come after the seeded lab, so the join link still opens that one.
 */
import { expect, test } from "@playwright/test";
import { signIn, INSTRUCTOR, STUDENT } from "./helpers";
import { unique, freshPage, openDemoCourse, createAndPublishLab } from "./authoring-helpers";

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
