/**
 * The LTI 1.3 message formats Shellroom reads and writes, as named in the specifications
 * (LTI Core 1.3, Assignment and Grade Services 2.0, Names and Role Provisioning 2.0, Deep
 * Linking 2.0). Claim names are URIs; everything a platform sends is parsed here with zod
 * before it is used. The test platform (tests/support/lti-platform.ts) builds its messages
 * from the same names.
 */
import { z } from "zod";
import { Bounds } from "../../common/input-bounds";

const LTI = "https://purl.imsglobal.org/spec/lti/claim/";
export const CLAIM = {
  messageType: `${LTI}message_type`,
  version: `${LTI}version`,
  deploymentId: `${LTI}deployment_id`,
  targetLinkUri: `${LTI}target_link_uri`,
  resourceLink: `${LTI}resource_link`,
  roles: `${LTI}roles`,
  context: `${LTI}context`,
  custom: `${LTI}custom`,
  ags: "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint",
  nrps: "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice",
  deepLinkingSettings: "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings",
  contentItems: "https://purl.imsglobal.org/spec/lti-dl/claim/content_items",
  deepLinkingData: "https://purl.imsglobal.org/spec/lti-dl/claim/data",
} as const;

export const LTI_VERSION = "1.3.0";
export const RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest";
export const DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest";
export const DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse";

export const SCOPE = {
  score: "https://purl.imsglobal.org/spec/lti-ags/scope/score",
  lineItem: "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
  memberships: "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
} as const;

export const MEDIA_TYPE = {
  score: "application/vnd.ims.lis.v1.score+json",
  memberships: "application/vnd.ims.lti-nrps.v2.membershipcontainer+json",
} as const;

/**
 * The custom parameter naming the Shellroom lab a link opens (set by deep linking, or by hand
 * in the LMS). Only a lab of the LMS course's own Shellroom course is opened: LMS instructors
 * can edit custom parameters, and must not reach other courses through them.
 */
export const CUSTOM_LAB = "shellroom_lab";

const Text = z.string().max(1000);
const Id = z.string().min(1).max(255);
const Url = z.url().max(2000);

/** The claims of a launch's id_token that Shellroom uses (others are ignored). */
export const LaunchClaims = z.object({
  iss: Url,
  sub: Id,
  nonce: z.string().min(1).max(255),
  name: Text.optional(),
  given_name: Text.optional(),
  family_name: Text.optional(),
  email: z.string().max(320).optional(),
  [CLAIM.messageType]: z.enum([RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST]),
  [CLAIM.version]: z.literal(LTI_VERSION),
  [CLAIM.deploymentId]: Id,
  [CLAIM.targetLinkUri]: Url.optional(),
  [CLAIM.roles]: z.array(z.string().max(255)).max(100),
  [CLAIM.context]: z.object({ id: Id, label: Text.optional(), title: Text.optional() }),
  [CLAIM.resourceLink]: z.object({ id: Id, title: Text.optional() }).optional(),
  [CLAIM.custom]: z.record(z.string(), z.unknown()).optional(),
  [CLAIM.ags]: z.object({ scope: z.array(z.string()).max(20), lineitems: Url.optional(), lineitem: Url.optional() }).optional(),
  [CLAIM.nrps]: z.object({ context_memberships_url: Url, service_versions: z.array(z.string()).optional() }).optional(),
  [CLAIM.deepLinkingSettings]: z
    .object({
      deep_link_return_url: Url,
      accept_types: z.array(z.string()).max(20),
      accept_multiple: z.boolean().optional(),
      data: z.string().max(4000).optional(),
    })
    .optional(),
});
export type LaunchClaims = z.infer<typeof LaunchClaims>;

/** Context membership roles (LTI Core 1.3, A.2.2); the simple names are the deprecated short form. */
const MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership";
const INSTRUCTOR_ROLES = new Set([`${MEMBERSHIP}#Instructor`, `${MEMBERSHIP}#Administrator`, "Instructor"]);
const ASSISTANT_ROLES = new Set([`${MEMBERSHIP}/Instructor#TeachingAssistant`, `${MEMBERSHIP}#ContentDeveloper`, "TeachingAssistant"]);

/** The course role an LMS's roles map to: Instructor -> INSTRUCTOR, teaching assistant -> ASSISTANT, anything else a student. */
export function courseRoleForLtiRoles(roles: readonly string[]): "INSTRUCTOR" | "ASSISTANT" | "STUDENT" {
  if (roles.some((role) => INSTRUCTOR_ROLES.has(role))) return "INSTRUCTOR";
  if (roles.some((role) => ASSISTANT_ROLES.has(role))) return "ASSISTANT";
  return "STUDENT";
}

/** A display name from the standard OIDC claims, or a neutral one when the LMS shares none. */
export function displayNameOf(claims: Pick<LaunchClaims, "name" | "given_name" | "family_name">): string {
  const name = claims.name?.trim() || [claims.given_name, claims.family_name].filter(Boolean).join(" ").trim();
  return (name || "LMS user").slice(0, Bounds.displayName.max);
}

/** One member of an NRPS membership container (Names and Role Provisioning 2.0). */
export const RosterMember = z.object({
  user_id: Id,
  status: z.enum(["Active", "Inactive", "Deleted"]).optional(),
  name: Text.optional(),
  given_name: Text.optional(),
  family_name: Text.optional(),
  email: z.string().max(320).optional(),
  roles: z.array(z.string().max(255)).max(100),
});
export const MembershipContainer = z.object({ id: z.string().optional(), members: z.array(RosterMember).max(10_000) });

/** The platform's answer to a client-credentials grant. */
export const AccessTokenResponse = z.object({
  access_token: z.string().min(1).max(8000),
  token_type: z.string(),
  expires_in: z.coerce.number().positive().optional(),
  scope: z.string().optional(),
});
