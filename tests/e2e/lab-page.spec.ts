/**
 * The lab page through the real platform in Chromium: step checks and progress, resetting
 * (keeping or wiping ~/workspace), stopping and starting again, the resizable split.
 * Every test joins the demo workshop as a new guest in a fresh browser context, so each has
 * its own student, container and workspace and no test leans on another's leftovers.
 */
import { expect, test, type Browser, type Page } from "@playwright/test";
import { expectConnectedTerminal, screenText, typeInTerminal } from "./helpers";

const JOIN_PATH = "/join/demo-workshop";
const DEMO_LAB = "First steps in the shell";
const SCREENSHOTS = process.env.SHELLROOM_LAB_SCREENSHOTS; // a folder, to look at the page's states

async function screenshot(page: Page, name: string) {
  if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/lab-${name}.png` });
}

/** A new guest (own cookies, own container) on the demo lab with a live terminal. */
async function joinAsNewStudent(browser: Browser, label: string) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await page.goto(JOIN_PATH);
  await page.getByLabel("Your name").fill(`${label} ${Date.now() % 100000}`);
  await page.getByRole("button", { name: "Join and open the lab" }).click();
  await expect(page).toHaveURL(/\/labs\/[^/]+$/);
  await expect(page.getByRole("heading", { name: DEMO_LAB })).toBeVisible();
  await expectConnectedTerminal(page);
  return { context, page };
}

const makeAFile = (page: Page) => page.getByTestId("step-2");

test("a student checks a step before and after doing it; the progress bar follows", async ({ browser }) => {
  const { context, page } = await joinAsNewStudent(browser, "Checker");
  try {
    const step = makeAFile(page);
    await expect(step.getByRole("heading", { name: "Make a file" })).toBeVisible();
    // The body is Markdown: `code` spans render as code.
    await expect(step.locator("code", { hasText: "cat notes.txt" })).toBeVisible();
    await expect(page.getByTestId("step-0").getByRole("button", { name: "Check" })).toHaveCount(0); // no check there
    const progress = page.getByRole("progressbar");
    await expect(progress).toHaveAttribute("aria-valuenow", "0");
    await expect(progress).toHaveAttribute("aria-valuemax", "1");
    await expect(page.getByText("0 of 1 checks passed")).toBeVisible();
    await expect(step.getByTestId("check-result")).toHaveCount(0);

    await step.getByRole("button", { name: "Check", exact: true }).click();
    const result = step.getByTestId("check-result");
    await expect(result).toHaveAttribute("data-passed", "false", { timeout: 30_000 });
    await expect(result).toContainText("Not yet");
    await expect(result.locator("pre")).toContainText("notes.txt is missing or empty");
    await expect(progress).toHaveAttribute("aria-valuenow", "0");
    await screenshot(page, "check-failed");

    await typeInTerminal(page, "echo hi > ~/workspace/notes.txt && echo written-ok");
    await expect.poll(() => screenText(page)).toMatch(/^written-ok\s*$/m);

    await step.getByRole("button", { name: "Check", exact: true }).click();
    await expect(result).toHaveAttribute("data-passed", "true", { timeout: 30_000 });
    await expect(result).toContainText("Passed");
    await expect(result).toContainText("2 attempts");
    await expect(progress).toHaveAttribute("aria-valuenow", "1");
    await expect(page.getByText("1 of 1 checks passed")).toBeVisible();
    await screenshot(page, "check-passed");

    // The result is stored: a reload shows it without checking again.
    await page.reload();
    await expect(makeAFile(page).getByTestId("check-result")).toHaveAttribute("data-passed", "true");
    await expect(page.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "1");
    await expectConnectedTerminal(page);
  } finally {
    await context.close();
  }
});

test("resetting keeps ~/workspace by default, and wipes it when asked", async ({ browser }) => {
  const { context, page } = await joinAsNewStudent(browser, "Resetter");
  try {
    const marker = `kept-${Date.now()}`;
    await typeInTerminal(page, `echo ${marker} > ~/workspace/notes.txt; touch /tmp/outside-workspace`);

    // Cancelling changes nothing.
    await page.getByRole("button", { name: "Reset environment" }).click();
    const dialog = page.getByRole("dialog", { name: "Reset your environment?" });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByLabel("Keep my files in ~/workspace")).toBeChecked();
    await screenshot(page, "reset-dialog");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByTestId("terminal-status")).toHaveAttribute("data-state", "connected");

    // Reset, keeping files: a fresh container (its /tmp is empty) with the same workspace.
    await page.getByRole("button", { name: "Reset environment" }).click();
    await dialog.getByRole("button", { name: "Reset", exact: true }).click();
    await expect(dialog).toBeHidden();
    await expectConnectedTerminal(page);
    await typeInTerminal(page, "cat ~/workspace/notes.txt | tr a-z A-Z; ls /tmp/outside-workspace 2>&1 | grep -c 'No such'");
    await expect.poll(() => screenText(page)).toContain(marker.toUpperCase());
    await expect.poll(() => screenText(page)).toMatch(/^1\s*$/m);

    // Reset, wiping files: the workspace is empty.
    await page.getByRole("button", { name: "Reset environment" }).click();
    await dialog.getByLabel("Wipe my files in ~/workspace too").check();
    await expect(dialog.getByLabel("Keep my files in ~/workspace")).not.toBeChecked();
    await screenshot(page, "reset-dialog-wipe");
    await dialog.getByRole("button", { name: "Reset", exact: true }).click();
    await expectConnectedTerminal(page);
    await typeInTerminal(page, "echo files=$(ls -A ~/workspace | wc -l)");
    await expect.poll(() => screenText(page)).toMatch(/^files=0\s*$/m);
    // The literal command the brief names prints a bare 0.
    await typeInTerminal(page, "ls -A ~/workspace | wc -l");
    await expect.poll(() => screenText(page)).toMatch(/^0\s*$/m);
  } finally {
    await context.close();
  }
});

test("a student stops the environment and starts it again with the files still there", async ({ browser }) => {
  const { context, page } = await joinAsNewStudent(browser, "Stopper");
  try {
    const marker = `survives-${Date.now()}`;
    await typeInTerminal(page, `echo ${marker} > ~/workspace/notes.txt && echo saved-ok`);
    await expect.poll(() => screenText(page)).toMatch(/^saved-ok\s*$/m);

    await page.getByRole("button", { name: "Stop", exact: true }).click();
    const status = page.getByTestId("terminal-status");
    await expect(status).toHaveAttribute("data-state", "stopped", { timeout: 30_000 });
    await expect(status).toContainText("Stopped");
    await expect(page.locator(".xterm")).toHaveCount(0);
    // Checks need a running environment.
    await expect(makeAFile(page).getByRole("button", { name: "Check", exact: true })).toBeDisabled();
    await expect(page.getByRole("button", { name: "Stop", exact: true })).toBeDisabled();
    await screenshot(page, "stopped");

    await page.getByRole("button", { name: "Start again" }).click();
    await expectConnectedTerminal(page);
    await expect(makeAFile(page).getByRole("button", { name: "Check", exact: true })).toBeEnabled();
    await typeInTerminal(page, "cat ~/workspace/notes.txt | tr a-z A-Z");
    await expect.poll(() => screenText(page)).toContain(marker.toUpperCase());
  } finally {
    await context.close();
  }
});

test("the split between instructions and terminal resizes by keyboard and pointer and is remembered", async ({ browser }) => {
  const { context, page } = await joinAsNewStudent(browser, "Resizer");
  try {
    const handle = page.getByRole("separator", { name: "Resize instructions and terminal" });
    const instructions = page.locator("#lab-instructions");
    const before = (await instructions.boundingBox())!.width;
    const start = Number(await handle.getAttribute("aria-valuenow"));

    await handle.focus();
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    await expect(handle).toHaveAttribute("aria-valuenow", String(start + 4));
    await expect.poll(async () => (await instructions.boundingBox())!.width).toBeGreaterThan(before + 30);

    // Dragging the handle to 60% of the page's width.
    const box = (await handle.boundingBox())!;
    const main = (await page.locator("main").boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(main.x + main.width * 0.6, box.y + box.height / 2, { steps: 8 });
    await page.mouse.up();
    await expect(handle).toHaveAttribute("aria-valuenow", "60");
    await screenshot(page, "split-60");

    await page.reload();
    await expect(page.getByRole("separator", { name: "Resize instructions and terminal" })).toHaveAttribute("aria-valuenow", "60");
    await expectConnectedTerminal(page);

    // Hints are folded away until asked for.
    const hint = page.getByTestId("step-0").locator("details");
    await expect(hint.getByText("Mind the space after echo.")).toBeHidden();
    await hint.getByText("Hint").click();
    await expect(hint.getByText("Mind the space after echo.")).toBeVisible();
  } finally {
    await context.close();
  }
});
