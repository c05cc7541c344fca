/**
 * Single sign-on in the browser, through a real OpenID Provider (oidc-provider, started
 * here on the port playwright.config.ts told the platform): a student in the class's group
 * lands in their course; a student with the join link comes back to it signed in and joins;
 * an answer from another provider is refused.
 */
import { expect, test, type Page } from "@playwright/test";
import { startTestOpenIdProvider, type TestOpenIdProvider } from "../support/test-openid-provider";
import { E2E_OIDC_CLASS_GROUP, E2E_OIDC_CLIENT, e2eOpenIdProvider } from "./sso-provider";

const DEMO_COURSE = "Intro to the Unix shell";
const DEMO_LAB = "First steps in the shell";
const JOIN_PATH = "/join/demo-workshop";
const platformPort = Number(process.env.SHELLROOM_E2E_PORT ?? 3210);
const settings = e2eOpenIdProvider(platformPort);

let idp: TestOpenIdProvider;
let otherIdp: TestOpenIdProvider;

test.beforeAll(async () => {
  const client = {
    client_id: E2E_OIDC_CLIENT.clientId,
    client_secret: E2E_OIDC_CLIENT.clientSecret,
    redirect_uris: [`http://127.0.0.1:${platformPort}/api/auth/oidc/${settings.id}/callback`],
  };
  idp = await startTestOpenIdProvider({ port: Number(new URL(settings.issuer).port), name: "Test IdP" });
  idp.register([client]);
  // Another provider where the platform's client id also exists: its answers must not be taken.
  otherIdp = await startTestOpenIdProvider({ name: "Some Other IdP" });
  otherIdp.register([client]);
});
test.afterAll(async () => {
  await idp?.close();
  await otherIdp?.close();
});

const unique = (label: string) => `${label}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

/** Types the login on the provider's own sign-in page. */
async function signInAtProvider(page: Page, login: string, providerTitle = "Test IdP") {
  await expect(page.getByRole("heading", { name: providerTitle })).toBeVisible();
  await page.getByLabel("Login").fill(login);
  await page.getByRole("button", { name: "Continue" }).click();
}

test("a student in the class's group signs in through the provider and lands in their course", async ({ page }) => {
  const login = unique("grace");
  idp.accounts.set(login, { email: `${login}@campus.test`, email_verified: true, name: "Grace Group", groups: [E2E_OIDC_CLASS_GROUP] });

  await page.goto("/sign-in");
  await page.getByRole("link", { name: "Sign in with Test IdP" }).click();
  await signInAtProvider(page, login);

  await expect(page.getByRole("heading", { name: "Your courses" })).toBeVisible();
  await expect(page.getByTestId("signed-in-as")).toHaveText("Grace Group");
  await page.getByRole("link", { name: DEMO_COURSE }).first().click();
  await expect(page.getByRole("heading", { name: DEMO_COURSE })).toBeVisible();
  await expect(page.getByText(DEMO_LAB).first()).toBeVisible();
});

test("a student with the join link signs in through the provider, comes back to the link and joins", async ({ page }) => {
  const login = unique("june");
  idp.accounts.set(login, { email: `${login}@campus.test`, email_verified: true, name: "June Joiner" });

  await page.goto(JOIN_PATH);
  await page.getByRole("link", { name: "Sign in with Test IdP" }).click();
  await signInAtProvider(page, login);

  await expect(page).toHaveURL(new RegExp(`${JOIN_PATH}$`));
  await page.getByRole("button", { name: "Join as June Joiner" }).click();
  await expect(page).toHaveURL(/\/labs\//);
  await expect(page.getByRole("heading", { name: DEMO_LAB })).toBeVisible();
});

test("an answer from another provider is refused", async ({ page }) => {
  const login = unique("mallory");
  otherIdp.accounts.set(login, { email: `${login}@campus.test`, email_verified: true, name: "Mallory" });
  // The platform's way to the configured provider is bent to the other provider (its flow cookie kept).
  await page.route(`**/api/auth/oidc/${settings.id}/start**`, async (route) => {
    const response = await route.fetch({ maxRedirects: 0 });
    const location = new URL(response.headers().location!);
    const bent = `${otherIdp.issuer}${location.pathname}${location.search}`;
    return route.fulfill({ response, headers: { ...response.headers(), location: bent } });
  });

  await page.goto("/sign-in");
  await page.getByRole("link", { name: "Sign in with Test IdP" }).click();
  await signInAtProvider(page, login, "Some Other IdP");

  await expect(page).toHaveURL(/\/sign-in\?sso_error=refused/);
  await expect(page.locator("main").getByRole("alert")).toContainText("could not be verified");
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Your courses" })).toHaveCount(0);
});
