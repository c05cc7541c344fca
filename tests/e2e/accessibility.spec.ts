/**
 * axe (WCAG 2.x A and AA rules) on every kind of page, as the person who uses it: signed out
 * (sign-in, sign-up, a join link, not-found), a student (courses, a lab with a running terminal)
 * an instructor (course page, live room with a student in it, a lab's progress, the authoring
 * pages, the account page) and an admin (users). A serious
 * or critical violation fails the test and is printed with the elements it was found on.
 */
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Browser, type Page } from "@playwright/test";
import { ADMIN, INSTRUCTOR, STUDENT, expectConnectedTerminal, signIn } from "./helpers";

const DEMO_COURSE = "Intro to the Unix shell";
const DEMO_LAB = "First steps in the shell";
const JOIN_PATH = "/join/demo-workshop";

type Violation = Awaited<ReturnType<AxeBuilder["analyze"]>>["violations"][number];

const describe = (violation: Violation) =>
  `${violation.impact} ${violation.id}: ${violation.help}\n${violation.nodes
    .map((node) => `    ${node.target.join(" ")}\n      ${(node.failureSummary ?? "").replace(/\n/g, "\n      ")}`)
    .join("\n")}`;

/** Fails with every serious or critical violation on the page as it is now. */
async function expectNoSeriousViolations(page: Page, name: string) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const serious = results.violations.filter((violation) => violation.impact === "serious" || violation.impact === "critical");
  // Soft: one run reports every page's violations, not only the first page's.
  expect.soft(serious.map(describe).join("\n"), `serious or critical axe violations on ${name}`).toBe("");
}

async function studentInLab(browser: Browser) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await signIn(page, STUDENT);
  await page.getByRole("link", { name: DEMO_LAB }).click();
  await expect(page.getByRole("heading", { name: DEMO_LAB })).toBeVisible();
  await expectConnectedTerminal(page);
  return { context, page };
}

test("signed-out pages: sign-in, sign-up, a join link, not-found", async ({ page }) => {
  await page.goto("/sign-in");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  await expectNoSeriousViolations(page, "sign-in");

  // A refused sign-in: the form's error and the fields' state are part of the page too.
  await page.getByLabel("Email").fill("nobody@shellroom.local");
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("main").getByRole("alert")).toBeVisible(); // Next's route announcer is an alert too
  await expectNoSeriousViolations(page, "sign-in with an error");

  await page.goto("/sign-up");
  await expect(page.getByRole("heading", { name: "Create an account" })).toBeVisible();
  const password = page.getByLabel("Password", { exact: true });
  await expect(password).toHaveAccessibleDescription("At least 10 characters."); // the hint, tied to its field
  await expectNoSeriousViolations(page, "sign-up");

  // A field's error is tied to its input: marked invalid and described by the error, not the hint.
  await page.getByLabel("Display name").fill("Axe Tester");
  await page.getByLabel("Email").fill(`axe-${Date.now()}@example.test`);
  await password.fill("short");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(password).toHaveAttribute("aria-invalid", "true");
  await expect(password).not.toHaveAccessibleDescription("At least 10 characters.");
  await expect(password).toHaveAccessibleDescription(/\S/);
  await expectNoSeriousViolations(page, "sign-up with a field error");

  await page.goto(JOIN_PATH);
  await expect(page.getByLabel("Your name")).toBeVisible();
  await expectNoSeriousViolations(page, "join link");

  const missing = await page.goto("/no-such-page");
  expect(missing?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "This page does not exist" })).toBeVisible();
  await expectNoSeriousViolations(page, "not-found");
});

test("a student's pages: courses and a lab with a running terminal", async ({ browser }) => {
  const { context, page } = await studentInLab(browser);
  try {
    await expectNoSeriousViolations(page, "lab");
    await page.goto("/");
    await expect(page.getByRole("heading", { name: "Your courses" })).toBeVisible();
    await expectNoSeriousViolations(page, "courses (student)");
  } finally {
    await context.close();
  }
});

test("an instructor's pages: course, live room with a student in it, progress", async ({ browser, page }) => {
  const student = await studentInLab(browser);
  try {
    await signIn(page, INSTRUCTOR);
    await expectNoSeriousViolations(page, "courses (instructor)");
    await page.getByRole("link", { name: DEMO_COURSE }).click();
    await expect(page.getByRole("heading", { name: DEMO_COURSE, level: 1 })).toBeVisible();
    await expectNoSeriousViolations(page, "course");
    const courseUrl = page.url();

    // A raised hand: the student's panel on the lab page and the instructor's queue.
    await student.page.getByRole("button", { name: "Raise hand" }).click();
    await student.page.getByLabel("What do you need help with?").fill("Checking the colours");
    await expectNoSeriousViolations(student.page, "lab, raising a hand");
    await student.page.getByRole("button", { name: "Send to instructor" }).click();

    await page.getByRole("link", { name: "Live room" }).click();
    await expect(page.getByTestId("live-status")).toHaveAttribute("data-state", "live", { timeout: 30_000 });
    await expect(page.getByTestId("student-card").first()).toBeVisible({ timeout: 30_000 });
    const hand = page.getByTestId("hand-queue").getByTestId("hand-item").filter({ hasText: "Checking the colours" });
    await expect(hand).toBeVisible({ timeout: 15_000 });
    await expectNoSeriousViolations(page, "live room with a raised hand");
    await expectNoSeriousViolations(student.page, "lab with a raised hand");
    await hand.getByRole("button", { name: "Done" }).click(); // the demo student's hand is not left up for other tests
    await expect(hand).toHaveCount(0);

    await page.goto(courseUrl);
    await page.getByRole("link", { name: `Progress of ${DEMO_LAB}` }).click();
    await expect(page).toHaveURL(/\/progress$/);
    await expect(page.getByTestId("progress-table")).toBeVisible();
    await expectNoSeriousViolations(page, "progress");
  } finally {
    await student.context.close();
  }
});

test("the authoring, account and admin pages", async ({ page }) => {
  await signIn(page, INSTRUCTOR);
  await page.getByRole("link", { name: DEMO_COURSE }).click();
  await expect(page.getByRole("heading", { name: DEMO_COURSE, level: 1 })).toBeVisible();
  const courseUrl = page.url().replace(/\/$/, "");
  const pages = [
    { path: "/templates", heading: "Environment templates" },
    { path: "/images", heading: "Images" },
    { path: "/labs/new", heading: "New lab" },
  ];
  for (const { path, heading } of pages) {
    await page.goto(`${courseUrl}${path}`);
    await expect(page.getByRole("heading", { name: heading, level: 1 })).toBeVisible();
    await expectNoSeriousViolations(page, heading);
  }
  await page.goto(courseUrl);
  await page.getByRole("link", { name: `Edit ${DEMO_LAB}` }).click();
  await expect(page.getByRole("heading", { name: "Edit lab", level: 1 })).toBeVisible();
  await expectNoSeriousViolations(page, "lab editor");
  await page.goto("/account");
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  await expectNoSeriousViolations(page, "account");

  await page.context().clearCookies();
  await signIn(page, ADMIN);
  await page.goto("/admin/users");
  await expect(page.getByRole("heading", { name: "Users", level: 1 })).toBeVisible();
  await expectNoSeriousViolations(page, "admin users");
  await page.goto("/admin/webhooks");
  await expect(page.getByRole("heading", { name: "Webhooks", level: 1 })).toBeVisible();
  await expectNoSeriousViolations(page, "admin webhooks");
  await page.goto("/admin/service-tokens");
  await expect(page.getByRole("heading", { name: "Service tokens", level: 1 })).toBeVisible();
  await expectNoSeriousViolations(page, "admin service tokens");
});
