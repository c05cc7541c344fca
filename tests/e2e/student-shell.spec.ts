import { expect, test } from "@playwright/test";
import { STUDENT, activeTerminal, expectConnectedTerminal, foregroundsOf, screenText, signIn, typeInTerminal } from "./helpers";

test("a student opens the lab, gets a prompt, and computes 42; a reload lands in the same container", async ({ page }) => {
  await signIn(page, STUDENT);
  await page.getByRole("link", { name: "First steps in the shell" }).click();
  await expect(page.getByRole("heading", { name: "First steps in the shell" })).toBeVisible();

  await expect(page.getByTestId("terminal-status")).toHaveAttribute("data-state", "connected", { timeout: 60_000 });
  await expect.poll(() => screenText(page)).toContain("student@shellroom");

  await typeInTerminal(page, "echo $((6*7))");
  await expect.poll(() => screenText(page)).toMatch(/^42\s*$/m);

  const marker = `reload-${Date.now()}`;
  await typeInTerminal(page, `echo ${marker} > ~/workspace/before-reload.txt; hostname -I 2>/dev/null; cat /etc/hostname`);
  // The command has run (its last line printed) before the page goes: keys still on their way
  // when a page unloads are the page's, and flow control may hold a few while one is in flight.
  await expect.poll(() => screenText(page)).toMatch(/^shellroom\s*$/m);

  await page.reload();
  await expect(page.getByTestId("terminal-status")).toHaveAttribute("data-state", "connected", { timeout: 60_000 });
  // The repainted screen shows what was there before the reload.
  await expect.poll(() => screenText(page)).toMatch(/^42\s*$/m);
  await typeInTerminal(page, "cat ~/workspace/before-reload.txt | tr a-z A-Z");
  await expect.poll(() => screenText(page)).toContain(marker.toUpperCase());
});

test("a signed-out visitor is sent to sign in instead of seeing a lab", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.getByLabel("Email").fill(STUDENT.email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("form").getByRole("alert")).toContainText("do not match");
});

test("a student works in two terminal tabs, with Unicode and colours, and the tabs survive a reload", async ({ page }) => {
  await signIn(page, STUDENT);
  await page.getByRole("link", { name: "First steps in the shell" }).click();
  await expectConnectedTerminal(page);
  const tabs = page.getByTestId("terminal-tab");
  const before = await tabs.count();

  await page.getByRole("button", { name: "New terminal tab" }).click();
  await expect(tabs).toHaveCount(before + 1);
  await expectConnectedTerminal(page);
  const marker = `second-tab-${Date.now()}`;
  await typeInTerminal(page, `echo ${marker}; echo $$ > /tmp/second-tab-pid`);
  await expect.poll(() => screenText(page)).toContain(marker);

  // The first tab is another shell: it never saw that line.
  await tabs.first().click();
  await expect.poll(() => screenText(page)).toContain("student@shellroom");
  expect(await screenText(page)).not.toContain(marker);

  // Wide characters and colours come through as the shell printed them.
  await typeInTerminal(page, String.raw`printf 'wide:\u00e9\u4e2d\U0001F600: \e[31mred-text\e[0m\n'`);
  await expect.poll(() => screenText(page)).toContain("wide:é中😀:");
  // The echoed command line shows the escapes as text (default colour); the printed run is in ANSI
  // red (palette 1, which THEME draws #f87171), whichever renderer paints it.
  await expect.poll(() => foregroundsOf(page, "red-text")).toEqual(["default", "palette:1"]);

  await page.reload();
  await expectConnectedTerminal(page);
  await expect(tabs).toHaveCount(before + 1);

  // Closing the tab ends its shell.
  const last = tabs.last();
  const label = (await last.innerText()).replace(/×/g, "").trim();
  await page.getByRole("button", { name: `Close ${label}` }).click();
  await expect(tabs).toHaveCount(before);
  await typeInTerminal(page, "kill -0 $(cat /tmp/second-tab-pid) 2>/dev/null && echo second-shell-alive || echo second-shell-gone");
  await expect.poll(() => screenText(page)).toMatch(/^second-shell-gone\s*$/m);
});

test("a flood of output neither freezes the page nor outlives Ctrl-C", async ({ page }) => {
  await signIn(page, STUDENT);
  await page.getByRole("link", { name: "First steps in the shell" }).click();
  await expectConnectedTerminal(page);
  const tabs = page.getByTestId("terminal-tab");
  const before = await tabs.count();

  await typeInTerminal(page, "yes shellroom-flood-line");
  await expect.poll(async () => (await screenText(page)).split("shellroom-flood-line").length).toBeGreaterThan(10);

  // While it floods, the page still answers: the tab strip reacts to clicks.
  await page.getByRole("button", { name: "New terminal tab" }).click();
  await expect(tabs).toHaveCount(before + 1);
  await page.getByRole("button", { name: `Close Terminal ${before + 1}` }).click();
  await expect(tabs).toHaveCount(before);

  // Ctrl-C reaches the shell through the flood; the prompt comes back and takes a command.
  await activeTerminal(page).locator(".xterm-helper-textarea").focus();
  await page.keyboard.press("Control+c");
  await typeInTerminal(page, "echo after-flood-$((6*7))");
  await expect.poll(() => screenText(page), { timeout: 20_000 }).toMatch(/^after-flood-42\s*$/m);
  // Nothing of the flood follows the answer.
  expect((await screenText(page)).split("after-flood-42").at(-1)).not.toContain("shellroom-flood-line");
});
