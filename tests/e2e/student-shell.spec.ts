import { expect, test } from "@playwright/test";
import { STUDENT, screenText, signIn, typeInTerminal } from "./helpers";

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
