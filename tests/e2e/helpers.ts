/** What every browser test needs: the demo logins and the terminal as a person uses it. */
import { expect, type Browser, type Locator, type Page } from "@playwright/test";

export const ADMIN = { email: "admin@shellroom.local", password: "shellroom-admin" };
export const INSTRUCTOR = { email: "instructor@shellroom.local", password: "shellroom-instructor" };
export const STUDENT = { email: "student@shellroom.local", password: "shellroom-student" };

/** The terminal tab on show (hidden tabs carry no test id). */
export const activeTerminal = (scope: Page | Locator) => scope.getByTestId("terminal");

type Inspectable = HTMLElement & { shellroomInspect?: { screen(): string; foregroundsOf(text: string): string[] } };

/**
 * The rows in view, read from the terminal's buffer (app/components/terminal-inspect.ts): the
 * WebGL renderer paints a canvas, so there are no rows in the DOM to read.
 */
export async function screenText(scope: Page | Locator) {
  return activeTerminal(scope).evaluate((host) => (host as Inspectable).shellroomInspect?.screen() ?? "");
}

/** How each occurrence of `text` on screen is coloured ("palette:1" is ANSI red, "default" the theme's foreground). */
export async function foregroundsOf(scope: Page | Locator, text: string) {
  return activeTerminal(scope).evaluate((host, wanted) => (host as Inspectable).shellroomInspect?.foregroundsOf(wanted) ?? [], text);
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

/** A new guest of the demo workshop (own context, own cookies), on the lab the join opens. */
export async function joinAsGuest(browser: Browser, label: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto("/join/demo-workshop");
  await page.getByLabel("Your name").fill(`${label} ${Date.now() % 100000}`);
  await page.getByRole("button", { name: "Join and open the lab" }).click();
  await expect(page).toHaveURL(/\/labs\/[^/]+$/);
  return { context, page };
}
