/**
 * API tokens in the browser. An administrator makes a service token on the admin pages (its
 * secret shown once): over /api/v1 it acts as a service account of its own, the list
 * shows it used, and once revoked the API refuses it. A person makes a token of their own on the
 * account page the same way. Nobody but an administrator sees the service tokens.
 */
import { expect, test, type Page } from "@playwright/test";
import { DEMO_COURSE, freshPage } from "./authoring-helpers";
import { ADMIN, INSTRUCTOR, signIn } from "./helpers";

/** GET /api/v1/courses with the token as its bearer (the REST API ignores the page's cookies). */
const coursesWith = (page: Page, secret: string) => page.request.get("/api/v1/courses", { headers: { authorization: `Bearer ${secret}` } });

/** Makes a token with the form on screen; returns its name and the secret the page shows once. */
async function makeToken(page: Page, submit: string, choose: () => Promise<void> = async () => undefined) {
  const name = `Token ${Date.now() % 1_000_000}`;
  await page.getByTestId("token-name").fill(name);
  await choose();
  await page.getByRole("button", { name: submit }).click();
  const shown = page.getByTestId("token-secret");
  await expect(shown).toContainText("not shown again");
  const secret = (await shown.locator("code").textContent())!.trim();
  expect(secret.length).toBeGreaterThan(20);
  return { name, secret };
}

/** The token's row: it was used (the list says when), then its revoke button makes the API refuse it. */
async function usedThenRevoked(page: Page, table: string, name: string, secret: string) {
  await page.reload();
  const row = page.getByRole("table", { name: table }).getByRole("row").filter({ hasText: name });
  await expect(row).toBeVisible();
  await expect(row.getByRole("cell", { name: "never", exact: true })).toHaveCount(0); // "Last used" was "never"
  await row.getByRole("button", { name: `Revoke ${name}` }).click();
  await expect(row).toContainText("revoked");
  expect((await coursesWith(page, secret)).status()).toBe(401);
}

test("an administrator makes a service token that acts as its own account over the API, and revokes it; others cannot see them", async ({ browser }) => {
  const { context, page } = await freshPage(browser);
  await signIn(page, ADMIN);
  await page.goto("/admin/users");
  await page.getByRole("link", { name: "Service tokens" }).click();
  await expect(page.getByRole("heading", { name: "Service tokens", level: 1 })).toBeVisible();

  const { name, secret } = await makeToken(page, "Make a service token", async () => {
    await page.getByRole("checkbox", { name: /courses:write/ }).check();
    await page.getByLabel("Acts as").selectOption("ADMIN");
  });
  const row = page.getByRole("table", { name: "Service tokens" }).getByRole("row").filter({ hasText: name });
  await expect(row).toContainText("administrator: every course");

  // It acts as its own service account: the course it creates is that account's, listed as its own.
  const title = `Made by ${name}`;
  const created = await page.request.post("/api/v1/courses", { headers: { authorization: `Bearer ${secret}` }, data: { title } });
  expect(created.status()).toBe(200);
  const courses = await coursesWith(page, secret);
  expect(courses.status()).toBe(200);
  expect(((await courses.json()) as Array<{ title: string; role: string }>).map((course) => [course.title, course.role])).toEqual([[title, "INSTRUCTOR"]]);
  // The secret is shown once: a reload does not show it again.
  await page.reload();
  await expect(page.getByTestId("token-secret")).toHaveCount(0);
  await usedThenRevoked(page, "Service tokens", name, secret);
  await context.close();

  // An instructor is refused the page and the list behind it.
  const other = await freshPage(browser);
  await signIn(other.page, INSTRUCTOR);
  await other.page.goto("/admin/service-tokens");
  await expect(other.page.getByText("Only administrators can manage service tokens.")).toBeVisible();
  expect((await other.page.request.get("/api/trpc/apiToken.services")).status()).toBe(403);
  await other.context.close();
});

test("a person makes an API token on the account page, reads their courses with it, and revokes it", async ({ browser }) => {
  const { context, page } = await freshPage(browser);
  await signIn(page, INSTRUCTOR);
  await page.goto("/account");
  const { secret, name } = await makeToken(page, "Make a token");
  const courses = await coursesWith(page, secret);
  expect(courses.status()).toBe(200);
  expect(((await courses.json()) as Array<{ title: string }>).map((course) => course.title)).toContain(DEMO_COURSE);
  await usedThenRevoked(page, "Your API tokens", name, secret);
  await context.close();
});
