import { expect, test, type Browser, type Locator, type Page } from "@playwright/test";
import { INSTRUCTOR, STUDENT, activeTerminal, expectConnectedTerminal, screenText, signIn, typeInTerminal } from "./helpers";

const STUDENT_NAME = "Sam Student";
const DEMO_COURSE = "Intro to the Unix shell";

/** The instructor's live room for the demo course, reached the way an instructor would. */
async function openLiveRoom(page: Page) {
  await signIn(page, INSTRUCTOR);
  await page.getByRole("link", { name: DEMO_COURSE }).click();
  await expect(page.getByRole("heading", { name: DEMO_COURSE, level: 1 })).toBeVisible();
  await page.getByRole("link", { name: "Live room" }).click();
  await expect(page.getByTestId("live-status")).toHaveAttribute("data-state", "live", { timeout: 30_000 });
}

const card = (page: Page) => page.getByTestId("student-card").and(page.locator(`[data-student-name="${STUDENT_NAME}"]`));

async function typeInto(scope: Locator, page: Page, text: string) {
  await activeTerminal(scope).locator(".xterm-helper-textarea").focus();
  await page.keyboard.type(text);
  await page.keyboard.press("Enter");
}

/** The demo student in the first lab with a live terminal, and an instructor, each in a browser context of their own. */
async function studentInLabAndInstructor(browser: Browser) {
  const studentContext = await browser.newContext();
  const instructorContext = await browser.newContext();
  const student = await studentContext.newPage();
  const instructor = await instructorContext.newPage();
  await signIn(student, STUDENT);
  await student.getByRole("link", { name: "First steps in the shell" }).click();
  await expectConnectedTerminal(student);
  const close = async () => {
    await studentContext.close();
    await instructorContext.close();
  };
  return { student, instructor, close };
}

test("an instructor watches a student live, takes the keyboard, answers a raised hand and broadcasts", async ({ browser }) => {
  const { student, instructor, close } = await studentInLabAndInstructor(browser);

  await openLiveRoom(instructor);
  await expect(card(instructor)).toHaveAttribute("data-state", "RUNNING", { timeout: 30_000 });

  // Watching: the student's typing shows up live, read-only.
  await card(instructor).getByRole("button", { name: "Watch" }).click();
  const dialog = instructor.getByRole("dialog", { name: `Terminal of ${STUDENT_NAME}` });
  await expect(dialog.getByTestId("terminal-status")).toHaveAttribute("data-state", "watching", { timeout: 30_000 });
  const typed = `watched-${Date.now()}`;
  await typeInTerminal(student, `echo ${typed}`);
  await expect.poll(() => screenText(dialog), { timeout: 15_000 }).toContain(typed);

  // Taking the keyboard: the student is told who, and sees what the instructor types.
  await dialog.getByRole("button", { name: "Take the keyboard" }).click();
  await expect(dialog.getByTestId("terminal-status")).toHaveAttribute("data-state", "controlling");
  await expect(student.getByTestId("control-banner")).toContainText("Ines Instructor");
  await typeInto(dialog, instructor, "echo from-instructor-$((40+2))");
  await expect.poll(() => screenText(student), { timeout: 15_000 }).toContain("from-instructor-42");
  await dialog.getByRole("button", { name: "Give back the keyboard" }).click();
  await expect(student.getByTestId("control-banner")).toHaveCount(0);
  await dialog.getByRole("button", { name: "Close" }).click();

  // Raising a hand puts the student in the instructor's queue, note and all.
  await student.getByRole("button", { name: "Raise hand" }).click();
  await student.getByLabel("What do you need help with?").fill("Step 2 says permission denied");
  await student.getByRole("button", { name: "Send to instructor" }).click();
  const hand = instructor.getByTestId("hand-queue").getByTestId("hand-item");
  await expect(hand).toContainText(STUDENT_NAME, { timeout: 15_000 });
  await expect(hand).toContainText("Step 2 says permission denied");
  await hand.getByRole("button", { name: "Done" }).click();
  await expect(instructor.getByTestId("hand-queue")).toContainText("No hands raised.");

  // A broadcast reaches the student's lab page.
  const message = `Break in five minutes ${Date.now()}`;
  await instructor.getByLabel("Message to all students").fill(message);
  await instructor.getByRole("button", { name: "Send" }).click();
  await expect(student.getByTestId("broadcast-notice")).toContainText(message, { timeout: 15_000 });
  await expect(student.getByTestId("broadcast-notice")).toContainText("Ines Instructor");
  // Kept: after a reload the message is still there, until the student dismisses it.
  await student.reload();
  await expectConnectedTerminal(student);
  const notice = student.getByTestId("broadcast-notice").filter({ hasText: message });
  await expect(notice).toHaveCount(1);
  await notice.getByRole("button", { name: "Dismiss this message" }).click();
  await expect(notice).toHaveCount(0);
  // A later message comes in the same batch after a reload: once it shows, the dismissed one would have too.
  const later = `Back at 11:15 ${Date.now()}`;
  await instructor.getByLabel("Message to all students").fill(later);
  await instructor.getByRole("button", { name: "Send" }).click();
  await expect(student.getByTestId("broadcast-notice").filter({ hasText: later })).toHaveCount(1, { timeout: 15_000 });
  await student.reload();
  await expectConnectedTerminal(student);
  await expect(student.getByTestId("broadcast-notice").filter({ hasText: later })).toHaveCount(1, { timeout: 15_000 });
  await expect(notice).toHaveCount(0);

  await close();
});

test("watching a student who closed the first terminal shows the one still open", async ({ browser }) => {
  const { student, instructor, close } = await studentInLabAndInstructor(browser);
  const tabs = student.getByTestId("terminal-tab");
  await student.getByRole("button", { name: "New terminal tab" }).click();
  const marker = `kept-tab-${Date.now()}`;
  await typeInTerminal(student, `echo ${marker}`);
  // Close every other tab, the first ("main") included: only the new one stays open.
  for (let count = await tabs.count(); count > 1; count -= 1) {
    await student.getByRole("button", { name: "Close Terminal 1" }).click();
    await expect(tabs).toHaveCount(count - 1);
  }
  await expect.poll(() => screenText(student)).toContain(marker);

  await openLiveRoom(instructor);
  await card(instructor).getByRole("button", { name: "Watch" }).click();
  const dialog = instructor.getByRole("dialog", { name: `Terminal of ${STUDENT_NAME}` });
  await expect(dialog.getByTestId("terminal-status")).toHaveAttribute("data-state", "watching", { timeout: 30_000 });
  await expect.poll(() => screenText(dialog), { timeout: 15_000 }).toContain(marker);
  await expect(dialog.getByTestId("terminal-tab")).toHaveCount(1);

  // Back to one "main" terminal for the tests after this one: a reload opens main again.
  await student.reload();
  await expectConnectedTerminal(student);
  await expect(tabs).toHaveCount(2);
  await student.getByRole("button", { name: "Close Terminal 2" }).click();
  await expect(tabs).toHaveCount(1);

  await close();
});

test("extending everyone runs in the background and shows its progress to the end; the student is told", async ({ browser }) => {
  const { student, instructor, close } = await studentInLabAndInstructor(browser);
  await openLiveRoom(instructor);
  await expect(card(instructor)).toHaveAttribute("data-state", "RUNNING", { timeout: 30_000 });

  await instructor.getByRole("button", { name: "Extend all" }).click();
  const progress = instructor.getByTestId("bulk-progress");
  await expect(progress).toHaveAttribute("data-kind", "extend");
  await expect(progress).toHaveAttribute("data-finished", "true", { timeout: 30_000 });
  await expect(progress).toContainText(/Extended \d+ environments?\./);
  await expect(instructor.getByRole("button", { name: "Extend all" })).toBeEnabled();
  await expect(student.getByTestId("environment-notice").filter({ hasText: "30 more minutes" }).first()).toBeVisible({ timeout: 15_000 });
  // A reload shows how the last action went (the overview keeps it for a while).
  await instructor.reload();
  await expect(instructor.getByTestId("bulk-progress")).toContainText(/Extended \d+ environments?\./, { timeout: 30_000 });

  await close();
});

test("a student cannot open the live room", async ({ page }) => {
  await signIn(page, STUDENT);
  await page.getByRole("link", { name: DEMO_COURSE }).click();
  await expect(page.getByRole("heading", { name: DEMO_COURSE, level: 1 })).toBeVisible();
  await expect(page.getByRole("link", { name: "Live room" })).toHaveCount(0);
  await page.goto(`${page.url().replace(/\/$/, "")}/live`);
  await expect(page.getByTestId("staff-only")).toBeVisible();
  await expect(page.getByTestId("student-card")).toHaveCount(0);
});
