import { describe, expect, it } from "vitest";
import { maskValue } from "../../common/config-help";
import { personFrom } from "../../server/auth/oidc/external-accounts";
import { FLOW_COOKIE, FlowCookies } from "../../server/auth/oidc/flow-cookie";
import { OidcProviderConfig, OidcProvidersSetting } from "../../server/auth/oidc/provider-config";

const SECRET = "a-server-secret-of-at-least-32-characters";
const provider = (fields: Record<string, unknown> = {}) =>
  OidcProviderConfig.parse({ id: "campus", name: "Campus", issuer: "https://login.campus.test", clientId: "shellroom", clientSecret: "s", ...fields });
const flow = { provider: "campus", state: "state-1", nonce: "nonce-1", codeVerifier: "verifier-1", next: "/join/abc" };
const cookieValue = (setCookie: string) => setCookie.split(";")[0]!;

describe("the providers setting", () => {
  it("is empty when unset and fills in the claim names", () => {
    expect(OidcProvidersSetting.parse(undefined)).toEqual([]);
    expect(provider().claims).toEqual({ name: "name", email: "email", groups: "groups" });
  });

  it("refuses malformed JSON, a bad id and two providers with one id", () => {
    expect(OidcProvidersSetting.safeParse("[{").success).toBe(false);
    expect(OidcProvidersSetting.safeParse(JSON.stringify([{ ...provider(), id: "Not OK/" }])).success).toBe(false);
    expect(OidcProvidersSetting.safeParse(JSON.stringify([provider(), provider()])).success).toBe(false);
  });

  it("masks client secrets when the configuration is printed", () => {
    const printed = maskValue("SHELLROOM_OIDC_PROVIDERS", JSON.stringify([provider({ clientSecret: "hunter2" })]));
    expect(printed).not.toContain("hunter2");
    expect(printed).toContain('"clientSecret":"********"');
  });
});

describe("the sign-in flow cookie", () => {
  it("opens what it sealed, HttpOnly and only for the sign-on routes", async () => {
    const cookies = new FlowCookies(SECRET, true);
    const sealed = await cookies.seal(flow);
    expect(sealed).toMatch(/HttpOnly; SameSite=Lax; Path=\/api\/auth\/oidc\/; Max-Age=600; Secure$/);
    expect(sealed).not.toContain("verifier-1");
    expect(await cookies.open(cookieValue(sealed))).toEqual(flow);
  });

  it("refuses a cookie that was altered or sealed with another secret", async () => {
    const sealed = cookieValue(await new FlowCookies(SECRET, false).seal(flow));
    const altered = sealed.slice(0, -3) + (sealed.endsWith("A") ? "BBB" : "AAA");
    expect(await new FlowCookies(SECRET, false).open(altered)).toBeNull();
    expect(await new FlowCookies(`${SECRET}-other`, false).open(sealed)).toBeNull();
    expect(await new FlowCookies(SECRET, false).open(`${FLOW_COOKIE}=garbage`)).toBeNull();
    expect(await new FlowCookies(SECRET, false).open(undefined)).toBeNull();
  });
});

describe("reading a person from the provider's claims", () => {
  it("follows the claim mapping", () => {
    const mapped = provider({ claims: { name: "displayName", email: "mail", groups: "roles" } });
    const person = personFrom(mapped, { sub: "u1", displayName: "Ana Lyst", mail: " Ana@Campus.TEST ", email_verified: true, roles: ["cs101", 7] });
    expect(person).toEqual({ subject: "u1", email: "ana@campus.test", emailVerified: true, displayName: "Ana Lyst", groups: ["cs101"] });
  });

  it("does not call an email verified unless the provider says so, and makes a name when there is none", () => {
    const person = personFrom(provider(), { sub: "u2", email: "bo@campus.test", name: "<script>" });
    expect(person.emailVerified).toBe(false);
    expect(person.displayName).toBe("bo");
    expect(personFrom(provider(), { sub: "u3" }).displayName).toBe("Campus user");
  });
});
