/**
 * The OpenID Provider the browser tests sign in through: its settings as the platform reads
 * them (playwright.config.ts passes them in SHELLROOM_OIDC_PROVIDERS), and the port near the
 * platform's where tests/e2e/sso.spec.ts runs it (the worker's metrics take port + 1). The platform only contacts it at a
 * sign-in, so the other specs never need it running.
 */
export const E2E_OIDC_CLIENT = { clientId: "shellroom-e2e", clientSecret: "shellroom-e2e-client-secret" };
/** Members of this group are enrolled in the demo course at sign-in. */
export const E2E_OIDC_CLASS_GROUP = "unix-class";

export function e2eOpenIdProvider(platformPort: number) {
  return {
    id: "test-idp",
    name: "Test IdP",
    issuer: `http://127.0.0.1:${platformPort + 5}`,
    ...E2E_OIDC_CLIENT,
    scopes: "openid email profile groups",
    groupCourses: { [E2E_OIDC_CLASS_GROUP]: "intro-unix-shell" },
  };
}
