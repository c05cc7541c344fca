/**
 * Accounts, roles and the workshop join link, through the real platform in Chromium.
 * Every test makes its own users (unique emails) and puts back what it changes on the
 * seeded demo course, so the tests do not lean on each other's leftovers.
 */
import { expect, test, type Browser, type Page } from "@playwright/test";
import { expectConnectedTerminal, screenText, signIn, typeInTerminal, ADMIN, INSTRUCTOR, STUDENT } from "./helpers";

const DEMO_COURSE = "Intro to the Unix shell";
const DEMO_LAB = "First steps in the shell";
const JOIN_PATH = "/join/demo-workshop";

const unique = (label: string) => `${label}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

async function signUp(page: Page, user: { displayName: string; email: string; password: string }) {
  await page.goto("/sign-up");
  await page.getByLabel("Display name").fill(user.displayName);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("heading", { name: "Your courses" })).toBeVisible();
  await expect(page.getByTestId("signed-in-as")).toHaveText(user.displayName);
}

/** A visitor with no cookies: a fresh browser context. */
async function freshPage(browser: Browser) {
  const context = await browser.newContext();
  return { context, page: await context.newPage() };
}

/** Errors shown by the page itself (Next's route announcer is an alert too). */
const pageAlert = (page: Page) => page.locator("main").getByRole("alert");

test("a visitor signs up, is signed in, signs out, and signs in again", async ({ page }) => {
  const user = { displayName: "Sign-up Tester", email: `${unique("signup")}@example.test`, password: "correct horse battery" };

  await page.goto("/sign-in");
  await page.getByRole("link", { name: "Create an account" }).click();
  await expect(page).toHaveURL(/\/sign-up$/);

  // The form shows each field's problem beside it.
  await page.getByLabel("Display name").fill(user.displayName);
  await page.getByLabel("Email").fill("not-an-email");
  await page.getByLabel("Password", { exact: true }).fill("short");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText("Enter a valid email address")).toBeVisible();
  await expect(page.getByText("Use at least 10 characters")).toBeVisible();

  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId("signed-in-as")).toHaveText(user.displayName);
  await expect(page.getByRole("link", { name: "Account" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Admin" })).toHaveCount(0);

  // The same email cannot sign up twice.
  const { context: other, page: otherPage } = await freshPage(page.context().browser()!);
  await otherPage.goto("/sign-up");
  await otherPage.getByLabel("Display name").fill("Someone Else");
  await otherPage.getByLabel("Email").fill(user.email);
  await otherPage.getByLabel("Password", { exact: true }).fill("another good password");
  await otherPage.getByRole("button", { name: "Create account" }).click();
  await expect(pageAlert(otherPage)).toContainText("exists already");
  await other.close();

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await expect(page.getByTestId("signed-in-as")).toHaveCount(0);

  await signIn(page, user);
  await expect(page.getByTestId("signed-in-as")).toHaveText(user.displayName);
});

test("a guest joins by link, gets a terminal, and the same browser comes back to the same container", async ({ browser }) => {
  const { context, page } = await freshPage(browser);
  const name = `Guest ${Date.now() % 100000}`;

  await page.goto(JOIN_PATH);
  await expect(page.getByRole("heading", { name: DEMO_COURSE })).toBeVisible();
  await page.getByRole("button", { name: "Join and open the lab" }).click();
  await expect(page.getByText("Enter a name others will see")).toBeVisible();

  await page.getByLabel("Your name").fill(name);
  await page.getByRole("button", { name: "Join and open the lab" }).click();
  await expect(page).toHaveURL(/\/labs\/[^/]+$/);
  await expect(page.getByRole("heading", { name: DEMO_LAB })).toBeVisible();
  await expect(page.getByTestId("signed-in-as")).toHaveText(name);
  await expectConnectedTerminal(page);

  await typeInTerminal(page, "echo $((6*7))");
  await expect.poll(() => screenText(page)).toMatch(/^42\s*$/m);
  const marker = unique("joined");
  await typeInTerminal(page, `echo ${marker} > ~/workspace/join-marker.txt && echo saved-ok`);
  // The command has run before the page goes: keys still waiting for the shell when a page
  // unloads are the page's (flow control holds what is typed while a message is in flight).
  await expect.poll(() => screenText(page)).toMatch(/^saved-ok\s*$/m);
  const labUrl = page.url();

  // Opening the link again in this browser: the same student, offered the way back.
  await page.goto(JOIN_PATH);
  await expect(page.getByRole("heading", { name: DEMO_COURSE })).toBeVisible();
  await expect(page.getByText(`as ${name}`)).toBeVisible();
  await expect(page.getByLabel("Your name")).toHaveCount(0);
  await page.getByRole("link", { name: "Continue to the lab" }).click();
  await expect(page).toHaveURL(labUrl);
  await expectConnectedTerminal(page);
  await typeInTerminal(page, "cat ~/workspace/join-marker.txt | tr a-z A-Z");
  await expect.poll(() => screenText(page)).toContain(marker.toUpperCase());

  await context.close();
});

test("a guest who joined by link keeps the account with an email and password", async ({ browser }) => {
  const { context, page } = await freshPage(browser);
  const name = `Keeper ${Date.now() % 100000}`;
  const email = `${unique("keeper")}@example.test`;
  const password = "a password to keep";

  await page.goto(JOIN_PATH);
  await page.getByLabel("Your name").fill(name);
  await page.getByRole("button", { name: "Join and open the lab" }).click();
  await expect(page).toHaveURL(/\/labs\/[^/]+$/);

  await page.getByRole("link", { name: "Account" }).click();
  await expect(page.getByTestId("account-name")).toHaveText(name);
  await expect(page.getByText("Set an email and password to keep this account")).toBeVisible();
  await expect(page.getByLabel("Current password")).toHaveCount(0);

  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByLabel("Confirm password").fill("something else entirely");
  await page.getByRole("button", { name: "Keep my account" }).click();
  await expect(page.getByText("The two passwords are not the same")).toBeVisible();

  await page.getByLabel("Confirm password").fill(password);
  await page.getByRole("button", { name: "Keep my account" }).click();
  await expect(page.locator("main").getByRole("status")).toContainText(`sign in with ${email}`);
  await expect(page.getByTestId("account-email")).toHaveText(email);
  // Now that a password exists, changing it asks for the current one.
  await expect(page.getByLabel("Current password")).toBeVisible();

  await page.getByRole("button", { name: "Sign out everywhere" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await signIn(page, { email, password });
  await expect(page.getByTestId("signed-in-as")).toHaveText(name);
  await expect(page.getByRole("link", { name: DEMO_COURSE })).toBeVisible();

  await context.close();
});

test("an instructor turns the join link off and sets an expiry; visitors see why they cannot join", async ({ page, browser }) => {
  await signIn(page, INSTRUCTOR);
  await page.getByRole("link", { name: DEMO_COURSE }).click();
  await expect(page).toHaveURL(/\/courses\/[^/]+$/);
  const courseId = page.url().split("/").pop()!;

  const panel = page.getByTestId("join-link-panel");
  const status = page.getByTestId("join-status");
  await expect(panel.getByRole("heading", { name: "Workshop join link" })).toBeVisible();
  await expect(page.getByTestId("join-url")).toHaveValue(new RegExp(`^http://[^/]+${JOIN_PATH}$`));
  await expect(status).toHaveText("Open");
  await expect(page.getByTestId("members-table")).toContainText("Ines Instructor");

  const { context: visitorContext, page: visitor } = await freshPage(browser);
  try {
    // Off: the visitor sees the reason and no form.
    await panel.getByLabel("Link enabled").uncheck();
    await panel.getByRole("button", { name: "Save link settings" }).click();
    await expect(status).toHaveText("Turned off");
    await expect(page.getByTestId("join-message")).toContainText("turned off");

    await visitor.goto(JOIN_PATH);
    await expect(visitor.getByRole("heading", { name: DEMO_COURSE })).toBeVisible();
    await expect(pageAlert(visitor)).toContainText("This join link has been turned off");
    await expect(visitor.getByLabel("Your name")).toHaveCount(0);

    // On again.
    await panel.getByLabel("Link enabled").check();
    await panel.getByRole("button", { name: "Save link settings" }).click();
    await expect(status).toHaveText("Open");
    await visitor.reload();
    await expect(visitor.getByLabel("Your name")).toBeVisible();

    // An expiry in the past: expired.
    await panel.getByLabel("Expires at").fill("2020-01-01T09:00");
    await panel.getByRole("button", { name: "Save link settings" }).click();
    await expect(status).toHaveText("Expired");
    await visitor.reload();
    await expect(pageAlert(visitor)).toContainText("This join link has expired");
    await expect(visitor.getByLabel("Your name")).toHaveCount(0);

    // No expiry again.
    await panel.getByRole("button", { name: "Clear expiry" }).click();
    await panel.getByRole("button", { name: "Save link settings" }).click();
    await expect(status).toHaveText("Open");
    await expect(panel.getByText("No expiry")).toBeVisible();
    await visitor.reload();
    await expect(visitor.getByLabel("Your name")).toBeVisible();

    // A seat limit the server refuses is explained beside the field.
    await panel.getByLabel("Seat limit").fill("0");
    await panel.getByRole("button", { name: "Save link settings" }).click();
    await expect(panel.getByText("At least one seat")).toBeVisible();
    await expect(status).toHaveText("Open");
  } finally {
    await visitorContext.close();
    // Whatever happened above, the demo link is open for everyone else.
    await page.evaluate(async (id) => {
      const response = await fetch("/api/trpc/course.updateJoinLink", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ courseId: id, enabled: true, expiresAt: null, seatLimit: null }),
      });
      if (!response.ok) throw new Error(`restoring the join link failed: HTTP ${response.status}`);
    }, courseId);
  }
});

test("an admin grants the instructor role to a new user, who can then create a course", async ({ page, browser }) => {
  const user = { displayName: `New Teacher ${Date.now() % 100000}`, email: `${unique("teacher")}@example.test`, password: "teaching is fun" };
  const { context: userContext, page: userPage } = await freshPage(browser);
  await signUp(userPage, user);
  await expect(userPage.getByRole("heading", { name: "New course" })).toHaveCount(0);

  await signIn(page, ADMIN);
  await page.getByRole("link", { name: "Admin" }).click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
  // The admin's own role cannot be changed from here.
  await expect(page.getByLabel("Role of Ada Admin")).toBeDisabled();

  await page.getByLabel("Search users").fill(user.email);
  const row = page.getByTestId("user-row");
  await expect(row).toHaveCount(1);
  await expect(row).toContainText(user.displayName);
  const role = page.getByLabel(`Role of ${user.displayName}`);
  await expect(role).toHaveValue("STUDENT");
  await role.selectOption("INSTRUCTOR");
  await expect(row.getByText("Saved")).toBeVisible();
  await expect(role).toHaveValue("INSTRUCTOR");

  await page.getByLabel("Search users").fill(`nobody-${Date.now()}`);
  await expect(page.getByText("Nobody matches")).toBeVisible();

  // The new instructor creates a course and lands on it, with its join link.
  await userPage.reload();
  await expect(userPage.getByRole("heading", { name: "New course" })).toBeVisible();
  const title = `Shell workshop ${Date.now() % 100000}`;
  await userPage.getByLabel("Title").fill("ab");
  await userPage.getByRole("button", { name: "Create course" }).click();
  await expect(userPage.getByText("Use at least 3 characters")).toBeVisible();
  await userPage.getByLabel("Title").fill(title);
  await userPage.getByLabel("Description").fill("Pipes, redirection and friends.");
  await userPage.getByRole("button", { name: "Create course" }).click();
  await expect(userPage).toHaveURL(/\/courses\/[^/]+$/);
  await expect(userPage.getByRole("heading", { name: title })).toBeVisible();
  await expect(userPage.getByTestId("join-status")).toHaveText("Open");
  await expect(userPage.getByTestId("members-table")).toContainText(user.displayName);
  await expect(userPage.getByText("This course has no labs yet.")).toBeVisible();

  // Rotating its link (after a confirm dialog) gives a new code; the old one is unknown.
  const oldUrl = await userPage.getByTestId("join-url").inputValue();
  userPage.once("dialog", (dialog) => void dialog.accept());
  await userPage.getByRole("button", { name: "Rotate link" }).click();
  await expect(userPage.getByText("A new link is ready")).toBeVisible();
  await expect(userPage.getByTestId("join-url")).not.toHaveValue(oldUrl);
  await userPage.goto(new URL(oldUrl).pathname);
  await expect(pageAlert(userPage)).toContainText("This join link does not exist");

  await userContext.close();
});

test("a student cannot use the admin pages or the staff panels", async ({ page }) => {
  await signIn(page, STUDENT);
  await expect(page.getByRole("link", { name: "Admin" })).toHaveCount(0);
  await page.goto("/admin/users");
  await expect(pageAlert(page)).toContainText("Only administrators");
  await expect(page.getByRole("table")).toHaveCount(0);

  await page.goto("/");
  await page.getByRole("link", { name: DEMO_COURSE }).click();
  await expect(page.getByRole("link", { name: DEMO_LAB })).toBeVisible();
  await expect(page.getByTestId("join-link-panel")).toHaveCount(0);
  await expect(page.getByTestId("members-table")).toHaveCount(0);
});
