/**
 * The OpenID Providers an operator lets people sign in with (SHELLROOM_OIDC_PROVIDERS, a JSON
 * array). Each names its issuer and this platform's client there, which email domains it may
 * bring in, which claims carry the name, email and groups, and which groups enrol into which
 * course.
 */
import { z } from "zod";

export const OidcProviderConfig = z.object({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, "lowercase letters, digits and dashes (it is part of the callback URL)")
    .describe("short name in the callback URL /api/auth/oidc/<id>/callback"),
  name: z.string().trim().min(1).max(60).describe('shown as "Sign in with <name>"'),
  issuer: z.url().describe("the issuer URL; its /.well-known/openid-configuration is read at the first sign-in"),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  /** Empty: any email; otherwise the verified email's domain must be one of these. */
  allowedDomains: z.array(z.string().trim().toLowerCase().min(1)).default([]),
  claims: z
    .object({
      name: z.string().min(1).default("name"),
      email: z.string().min(1).default("email"),
      groups: z.string().min(1).default("groups"),
    })
    .prefault({}),
  /** Group -> course slug: a member of the group is enrolled in the course as a student at each sign-in. */
  groupCourses: z.record(z.string().min(1), z.string().min(1)).default({}),
  scopes: z.string().default("openid email profile"),
});
export type OidcProviderConfig = z.infer<typeof OidcProviderConfig>;

/** The setting's value: a JSON array of providers with distinct ids; unset or empty: no single sign-on. */
export const OidcProvidersSetting = z
  .string()
  .default("")
  .transform((text, context) => {
    if (!text.trim()) return [];
    try {
      return JSON.parse(text) as unknown;
    } catch {
      context.addIssue({ code: "custom", message: "SHELLROOM_OIDC_PROVIDERS must be a JSON array" });
      return z.NEVER;
    }
  })
  .pipe(z.array(OidcProviderConfig))
  .refine((providers) => new Set(providers.map((provider) => provider.id)).size === providers.length, "two providers have the same id");
