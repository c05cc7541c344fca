/** What every browser test needs: the demo logins and the terminal as a person uses it. */
import { expect, type Locator, type Page } from "@playwright/test";

export const ADMIN = { email: "admin@shellroom.local", password: "shellroom-admin" };
export const INSTRUCTOR = { email: "instructor@shellroom.local", password: "shellroom-instructor" };
export const STUDENT = { email: "student@shellroom.local", password: "shellroom-student" };

/** xterm 6 renders rows as DOM; non-breaking spaces stand in for spaces. */
/** The terminal tab on show (hidden tabs carry no test id). */
export const activeTerminal = (scope: Page | Locator) => scope.getByTestId("terminal");

export async function screenText(scope: Page | Locator) {
  return (await activeTerminal(scope).locator(".xterm-rows").innerText()).replace(/\u00a0/g, " ");
}

export async function typeInTerminal(page: Page, text: string) {
  await activeTerminal(page).locator(".xterm-helper-textarea").focus();
  await page.keyboard.type(text);
  await page.keyboard.press("Enter");
}

/** Connected, and the shell's prompt is on screen. */
export async function expectConnectedTerminal(page: Page) {
  await expect(page.getByTestId("terminal-status")).toHaveAttribute("data-state", "connected", { timeout: 60_000 });
  await expect.poll(() => screenText(page), { timeout: 30_000 }).toContain("student@");
}

export async function signIn(page: Page, login: { email: string; password: string }) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(login.email);
  await page.getByLabel("Password").fill(login.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Your courses" })).toBeVisible();
}
