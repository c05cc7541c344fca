/**
 * The two legs of an LTI 1.3 launch (1EdTech Security Framework, OIDC third-party initiated
 * login): the platform's login initiation, which Shellroom answers with an authentication
 * request carrying a fresh state and nonce, and the launch itself, whose id_token is
 * verified against the platform's JWKS before anything in it is believed.
 */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from "jose";
import { z } from "zod";
import { encodeBase64urlNoPadding } from "@oslojs/encoding";
import type { Database } from "../database/client";
import { CLAIM, DEEP_LINKING_REQUEST, LaunchClaims, RESOURCE_LINK_REQUEST } from "./claims";
import { framesFrom, platformFor } from "./platforms";

/** A login's state and nonce are good this long: the platform answers at once. */
export const LOGIN_STATE_LIFETIME_MS = 10 * 60_000;
/** Clock difference tolerated between the platform and Shellroom. */
const CLOCK_TOLERANCE_SECONDS = 60;

export type LtiRefusalCode =
  | "invalid_request"
  | "unknown_platform"
  | "invalid_state"
  | "invalid_token"
  | "expired_token"
  | "wrong_audience"
  | "nonce_mismatch"
  | "unknown_deployment"
  | "unsupported_message";

/** A launch refused, with a code for programs and words for the person in the LMS. */
export class LtiRefusal extends Error {
  constructor(
    readonly code: LtiRefusalCode,
    message: string,
  ) {
    super(message);
  }
}

const Param = z.string().min(1).max(4000);
export const LoginInitiation = z.object({
  iss: z.url().max(2000),
  login_hint: Param,
  target_link_uri: z.url().max(2000),
  lti_message_hint: Param.optional(),
  client_id: z.string().min(1).max(255).optional(),
  lti_deployment_id: z.string().min(1).max(255).optional(),
});

const randomToken = () => encodeBase64urlNoPadding(crypto.getRandomValues(new Uint8Array(24)));

/**
 * Answers a login initiation: the platform's authorization URL with a new state and nonce
 * (stored, single use). `launchUrl` is the tool's redirect_uri, `toolOrigin` its site: a
 * target outside it is refused.
 */
export async function beginLogin(db: Database, params: Record<string, string>, launchUrl: string, toolOrigin: string): Promise<URL> {
  const parsed = LoginInitiation.safeParse(params);
  if (!parsed.success) throw new LtiRefusal("invalid_request", "The LMS's login request is incomplete (iss, login_hint and target_link_uri are needed).");
  const login = parsed.data;
  const platform = await platformFor(db, login.iss, login.client_id);
  if (!platform) throw new LtiRefusal("unknown_platform", "This LMS is not registered with Shellroom. Ask the Shellroom administrator to add it.");
  if (login.lti_deployment_id && !platform.deploymentIds.includes(login.lti_deployment_id)) {
    throw new LtiRefusal("unknown_deployment", "This deployment of Shellroom in the LMS is not registered.");
  }
  if (new URL(login.target_link_uri).origin !== toolOrigin) throw new LtiRefusal("invalid_request", "The launch names a target outside Shellroom.");
  await framesFrom(db, platform);
  const state = randomToken();
  const nonce = randomToken();
  await db.ltiLoginState.deleteMany({ where: { expiresAt: { lt: new Date() } } });
  await db.ltiLoginState.create({
    data: { id: state, nonce, platformId: platform.id, targetLinkUri: login.target_link_uri, expiresAt: new Date(Date.now() + LOGIN_STATE_LIFETIME_MS) },
  });
  const url = new URL(platform.authLoginUrl);
  const query: Record<string, string | undefined> = {
    scope: "openid",
    response_type: "id_token",
    response_mode: "form_post",
    prompt: "none",
    client_id: platform.clientId,
    redirect_uri: launchUrl,
    login_hint: login.login_hint,
    lti_message_hint: login.lti_message_hint,
    state,
    nonce,
  };
  for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, value);
  return url;
}

// jose caches each platform's keys and refetches them when a token names an unknown kid.
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
function platformKeys(jwksUrl: string) {
  let keys = keySets.get(jwksUrl);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: 5000 });
    keySets.set(jwksUrl, keys);
  }
  return keys;
}

async function verifiedPayload(idToken: string, platform: { issuer: string; clientId: string; jwksUrl: string }) {
  try {
    const { payload } = await jwtVerify(idToken, platformKeys(platform.jwksUrl), {
      issuer: platform.issuer,
      audience: platform.clientId,
      algorithms: ["RS256", "RS384", "RS512", "ES256", "ES384"],
      requiredClaims: ["exp", "iat", "nonce", "sub"],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    });
    // With several audiences, the authorized party must be Shellroom (OIDC Core 3.1.3.7).
    if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== platform.clientId) {
      throw new LtiRefusal("wrong_audience", "The launch was not meant for Shellroom.");
    }
    return payload;
  } catch (error) {
    if (error instanceof LtiRefusal) throw error;
    if (error instanceof joseErrors.JWTExpired) throw new LtiRefusal("expired_token", "The launch has expired. Open the link in the LMS again.");
    if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === "aud") {
      throw new LtiRefusal("wrong_audience", "The launch was not meant for Shellroom.");
    }
    throw new LtiRefusal("invalid_token", "The launch's signature or claims could not be verified.");
  }
}

export interface VerifiedLaunch {
  platform: { id: string; issuer: string; clientId: string; accessTokenUrl: string };
  claims: LaunchClaims;
}

/**
 * Verifies a launch: the state is taken (once: a replayed launch finds it used), the
 * id_token's signature, issuer, audience, times, nonce (the one sent with this state),
 * deployment, version and message type are checked.
 */
export async function verifyLaunch(db: Database, form: { id_token?: string; state?: string }): Promise<VerifiedLaunch> {
  if (!form.id_token || !form.state || form.state.length > 100 || form.id_token.length > 60_000) {
    throw new LtiRefusal("invalid_request", "The launch is incomplete (id_token and state are needed).");
  }
  const now = new Date();
  const taken = await db.ltiLoginState.updateMany({ where: { id: form.state, usedAt: null, expiresAt: { gt: now } }, data: { usedAt: now } });
  if (taken.count !== 1) throw new LtiRefusal("invalid_state", "This launch was used already or has expired. Open the link in the LMS again.");
  const login = await db.ltiLoginState.findUniqueOrThrow({ where: { id: form.state }, include: { platform: true } });
  const payload = await verifiedPayload(form.id_token, login.platform);
  const parsed = LaunchClaims.safeParse(payload);
  if (!parsed.success) {
    const messageType = (payload as Record<string, unknown>)[CLAIM.messageType];
    if (typeof messageType === "string" && messageType !== RESOURCE_LINK_REQUEST && messageType !== DEEP_LINKING_REQUEST) {
      throw new LtiRefusal("unsupported_message", `Shellroom does not handle ${messageType.slice(0, 60)} messages.`);
    }
    throw new LtiRefusal("invalid_token", "The launch lacks claims Shellroom needs (LTI 1.3.0, a context, roles).");
  }
  const claims = parsed.data;
  if (claims.nonce !== login.nonce) throw new LtiRefusal("nonce_mismatch", "The launch does not answer this sign-in (its nonce was used or is unknown).");
  if (!login.platform.deploymentIds.includes(claims[CLAIM.deploymentId])) {
    throw new LtiRefusal("unknown_deployment", "This deployment of Shellroom in the LMS is not registered.");
  }
  const messageType = claims[CLAIM.messageType];
  if (messageType === RESOURCE_LINK_REQUEST && !claims[CLAIM.resourceLink]) throw new LtiRefusal("invalid_token", "The launch names no resource link.");
  if (messageType === DEEP_LINKING_REQUEST && !claims[CLAIM.deepLinkingSettings])
    throw new LtiRefusal("invalid_token", "The deep linking request has no settings.");
  // The launch may reach another replica than its login did: the page it opens is framed here.
  await framesFrom(db, login.platform);
  return { platform: login.platform, claims };
}
