/** An administrator's one-time reset link, used in another browser to set a new password. */
import { expect, test } from "@playwright/test";
import { signIn, ADMIN } from "./helpers";

const unique = (label: string) => `${label}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

test("an administrator makes a reset link; the person sets a new password with it once", async ({ page, browser, baseURL }) => {
  const email = `${unique("forgot")}@example.test`;
  const signedUp = await page.request.post("/api/trpc/auth.signUp", {
    headers: { origin: baseURL! },
    data: { displayName: "Forgetful Fran", email, password: "an old password" },
  });
  expect(signedUp.ok()).toBe(true);
  await page.context().clearCookies();

  await signIn(page, ADMIN);
  await page.goto("/admin/users");
  await page.getByLabel("Search users").fill(email);
  const row = page.locator(`[data-testid="user-row"][data-email="${email}"]`);
  await row.getByRole("button", { name: "Make a reset link" }).click();
  const link = await row.getByTestId("reset-link").inputValue();
  expect(link).toMatch(/\/reset-password\/[a-z2-7]{32}$/);

  const context = await browser.newContext();
  const fran = await context.newPage();
  await fran.goto(link);
  await fran.getByLabel("New password").fill("a new password for Fran");
  await fran.getByLabel("The same password again").fill("a new password for Fran");
  await fran.getByRole("button", { name: "Set the new password" }).click();
  await expect(fran.getByRole("status")).toContainText("Your password is set");
  await fran.locator("main").getByRole("link", { name: "Sign in" }).click();
  await expect(fran).toHaveURL(/\/sign-in$/);
  await signIn(fran, { email, password: "a new password for Fran" });

  await fran.goto(link);
  await expect(fran.locator("main").getByRole("alert")).toContainText("expired or was used already");
  await context.close();
});
