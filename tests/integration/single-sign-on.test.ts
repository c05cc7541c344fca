/**
 * Single sign-on against a real OpenID Provider (oidc-provider on loopback): the code flow
 * with PKCE, state and nonce through the platform's start and callback routes, account
 * creation and linking, group enrolment, and the refusals: an answer from another issuer, a
 * code issued to another client, a tampered state, a flow from another browser, an email
 * outside the allowed domains, and linking on an unverified email.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_COURSE_SLUG } from "../../server/database/seed";
import type { OidcProviderConfig } from "../../server/auth/oidc/provider-config";
import { OidcProviderConfig as ProviderSchema } from "../../server/auth/oidc/provider-config";
import { CookieBrowser } from "../support/cookie-browser";
import { startHarness, type Harness } from "../support/platform-harness";
import { startTestOpenIdProvider, type TestOpenIdProvider } from "../support/test-openid-provider";

const CLIENT_SECRET = "shellroom-test-client-secret";
let harness: Harness;
let campus: TestOpenIdProvider;
let elsewhere: TestOpenIdProvider;

const provider = (fields: Partial<OidcProviderConfig> & { id: string; issuer: string }): OidcProviderConfig =>
  ProviderSchema.parse({ name: fields.id, clientId: "shellroom", clientSecret: CLIENT_SECRET, scopes: "openid email profile groups", ...fields });

beforeAll(async () => {
  campus = await startTestOpenIdProvider({ name: "Campus" });
  elsewhere = await startTestOpenIdProvider({ name: "Elsewhere" });
  harness = await startHarness({
    server: {
      oidcProviders: [
        provider({ id: "campus", issuer: campus.issuer, allowedDomains: ["campus.test"], groupCourses: { "linux-101": DEMO_COURSE_SLUG } }),
        provider({ id: "anyone", issuer: campus.issuer }),
      ],
    },
  });
  const callback = (id: string) => `${harness.url}/api/auth/oidc/${id}/callback`;
  campus.register([
    { client_id: "shellroom", client_secret: CLIENT_SECRET, redirect_uris: [callback("campus"), callback("anyone")] },
    { client_id: "other-app", client_secret: "another-secret", redirect_uris: [callback("campus")] },
  ]);
  // Another provider where the platform is registered under the same client id.
  elsewhere.register([{ client_id: "shellroom", client_secret: CLIENT_SECRET, redirect_uris: [callback("campus")] }]);
  const alice = { email: "alice@campus.test", email_verified: true, name: "Alice Campus", groups: ["linux-101", "staff-room"] };
  campus.accounts.set("alice", alice);
  elsewhere.accounts.set("alice", alice);
  campus.accounts.set("outsider", { email: "out@elsewhere.test", email_verified: true, name: "Out Sider" });
  campus.accounts.set("unverified-student", { email: "student@shellroom.local", email_verified: false, name: "Not Sam" });
  campus.accounts.set("verified-instructor", { email: "instructor@shellroom.local", email_verified: true, name: "Ines at Campus" });
});
afterAll(async () => {
  await harness?.close();
  await campus?.close();
  await elsewhere?.close();
});

interface SignInAttempt {
  next?: string;
  browser?: CookieBrowser;
  /** Changes the authorization request on its way to the provider. */
  alterAuthorization?: (url: URL) => URL;
  /** Changes the provider's answer on its way back to the platform. */
  alterCallback?: (url: URL) => URL;
  /** Replays the callback in this browser instead (one without the flow's cookie). */
  callbackBrowser?: CookieBrowser;
}

/** Plays a browser through start, the provider's sign-in page and the callback; returns where the platform sent it. */
async function signInThrough(providerId: string, login: string, attempt: SignInAttempt = {}) {
  const browser = attempt.browser ?? new CookieBrowser();
  const platform = new URL(harness.url);
  const start = await browser.follow(`${harness.url}/api/auth/oidc/${providerId}/start?next=${encodeURIComponent(attempt.next ?? "/courses")}`, {
    stopAt: (hop) => hop.host !== platform.host,
  });
  expect(start.stopped).toBe(true);
  const authorization = attempt.alterAuthorization?.(start.url) ?? start.url;
  const page = await browser.follow(authorization);
  expect(page.response.status).toBe(200);
  expect(await page.response.text()).toContain('name="login"');
  const answered = await browser.follow(page.url, { method: "POST", form: { login }, stopAt: (hop) => hop.host === platform.host });
  expect(answered.stopped).toBe(true);
  const callbackUrl = attempt.alterCallback?.(answered.url) ?? answered.url;
  const back = attempt.callbackBrowser ?? browser;
  const response = await back.request(callbackUrl);
  expect(response.status).toBe(302);
  const location = new URL(response.headers.get("location")!, harness.url);
  const session = back.cookie(harness.url, "shellroom_session");
  return { location, cookie: session ? `shellroom_session=${session}` : undefined, callbackUrl };
}

/** Why the last refused sign-in was refused, as the audit trail recorded it. */
async function lastRefusal(): Promise<string> {
  const event = await harness.db.auditEvent.findFirstOrThrow({ where: { action: "auth.sign_in_failed" }, orderBy: { createdAt: "desc" } });
  return String((event.details as { reason?: string }).reason);
}

const me = async (cookie: string | undefined) => (await harness.trpc("auth.me", null, { cookie, method: "GET" })).body.result.data;

describe("single sign-on through an OpenID Provider", () => {
  it("the sign-in page is told which providers there are", async () => {
    const options = (await harness.trpc("auth.signInOptions", null, { method: "GET" })).body.result.data;
    expect(options.providers).toEqual([
      { id: "campus", name: "campus" },
      { id: "anyone", name: "anyone" },
    ]);
  });

  it("a code flow creates the user, enrols them by group, starts a session and returns to the page asked for", async () => {
    const { location, cookie } = await signInThrough("campus", "alice", { next: "/courses?tab=mine" });
    expect(location.pathname + location.search).toBe("/courses?tab=mine");
    expect(await me(cookie)).toMatchObject({ email: "alice@campus.test", displayName: "Alice Campus", hasPassword: false });

    const identity = await harness.db.externalIdentity.findUniqueOrThrow({ where: { provider_subject: { provider: "campus", subject: "alice" } } });
    const member = await harness.db.courseMember.findFirst({ where: { userId: identity.userId, course: { slug: DEMO_COURSE_SLUG } } });
    expect(member?.role).toBe("STUDENT");
    const signIn = await harness.db.auditEvent.findFirst({ where: { actorId: identity.userId, action: "auth.sign_in" } });
    expect(signIn?.details).toMatchObject({ method: "oidc", provider: "campus", matched: "created" });
  });

  it("a second sign-in is the same user, through the identity", async () => {
    const first = await harness.db.externalIdentity.findUniqueOrThrow({ where: { provider_subject: { provider: "campus", subject: "alice" } } });
    const { cookie } = await signInThrough("campus", "alice");
    expect((await me(cookie)).id).toBe(first.userId);
    expect(await harness.db.externalIdentity.count({ where: { userId: first.userId } })).toBe(1);
    expect(await harness.db.user.count({ where: { email: "alice@campus.test" } })).toBe(1);
  });

  it("a verified email links the existing account; an unverified one is refused", async () => {
    const linked = await signInThrough("anyone", "verified-instructor");
    expect((await me(linked.cookie)).id).toBe("demo-instructor");
    expect(await harness.db.externalIdentity.findUnique({ where: { provider_subject: { provider: "anyone", subject: "verified-instructor" } } })).toMatchObject(
      {
        userId: "demo-instructor",
      },
    );

    const refused = await signInThrough("anyone", "unverified-student");
    expect(refused.location.pathname).toBe("/sign-in");
    expect(refused.location.searchParams.get("sso_error")).toBe("email_not_verified");
    expect(refused.cookie).toBeUndefined();
    expect(await harness.db.externalIdentity.count({ where: { subject: "unverified-student" } })).toBe(0);
  });

  it("an email outside the provider's allowed domains is refused", async () => {
    const refused = await signInThrough("campus", "outsider");
    expect(refused.location.searchParams.get("sso_error")).toBe("domain_not_allowed");
    expect(refused.cookie).toBeUndefined();
    expect(await harness.db.user.count({ where: { email: "out@elsewhere.test" } })).toBe(0);
  });

  it("an answer from another issuer is refused", async () => {
    // The browser is sent to another provider where the platform's client id also exists.
    const refused = await signInThrough("campus", "alice", {
      alterAuthorization: (url) => new URL(`${url.pathname}${url.search}`, elsewhere.issuer),
    });
    expect(refused.callbackUrl.searchParams.get("iss")).toBe(elsewhere.issuer);
    expect(refused.location.searchParams.get("sso_error")).toBe("refused");
    expect(await lastRefusal()).toMatch(/unexpected "iss"/);
    expect(refused.cookie).toBeUndefined();
  });

  it("a code issued for another client (another audience) is refused", async () => {
    const refused = await signInThrough("campus", "alice", {
      alterAuthorization: (url) => {
        url.searchParams.set("client_id", "other-app");
        return url;
      },
    });
    expect(refused.callbackUrl.searchParams.get("code")).toBeTruthy();
    expect(refused.location.searchParams.get("sso_error")).toBe("refused");
    // The provider will not redeem another client's code for this one.
    expect(await lastRefusal()).toMatch(/invalid_grant/);
    expect(refused.cookie).toBeUndefined();
  });

  it("a state that does not match the browser's flow is refused", async () => {
    const refused = await signInThrough("campus", "alice", {
      alterCallback: (url) => {
        url.searchParams.set("state", "not-the-state-this-browser-sent");
        return url;
      },
    });
    expect(refused.location.searchParams.get("sso_error")).toBe("refused");
    expect(await lastRefusal()).toMatch(/unexpected "state"/);
    expect(refused.cookie).toBeUndefined();
  });

  it("a callback brought to another browser (no flow cookie) is refused", async () => {
    const refused = await signInThrough("campus", "alice", { callbackBrowser: new CookieBrowser() });
    expect(refused.location.searchParams.get("sso_error")).toBe("flow_expired");
    expect(refused.cookie).toBeUndefined();
  });

  it("a return path to another site is replaced by the home page", async () => {
    for (const next of ["//evil.test/x", "https://evil.test/", "/\\evil.test"]) {
      const { location, cookie } = await signInThrough("campus", "alice", { next });
      expect(cookie).toBeDefined();
      expect(location.href).toBe(`${harness.url}/`);
    }
  });

  it("an unknown provider is sent back to the sign-in page", async () => {
    const response = await new CookieBrowser().request(`${harness.url}/api/auth/oidc/nobody/start`);
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/sign-in?sso_error=unknown_provider");
  });
});
