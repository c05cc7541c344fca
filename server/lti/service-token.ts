/**
 * Access tokens for the platform's services (grades, roster): the OAuth 2 client-credentials
 * grant with a JWT client assertion signed by the tool's key (1EdTech Security Framework
 * 4.1). Tokens are kept per platform and scope until shortly before they expire.
 */
import type { Database } from "../database/client";
import { AccessTokenResponse } from "./claims";
import { signWithToolKey } from "./tool-keys";

const CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/** A token is renewed this long before the platform said it expires. */
const RENEW_BEFORE_MS = 60_000;
const SERVICE_TIMEOUT_MS = 10_000;

export interface ServicePlatform {
  id: string;
  clientId: string;
  accessTokenUrl: string;
}

/** A platform service answered with an error (retried by the job that called it). */
export class PlatformServiceError extends Error {}

export class PlatformTokens {
  private readonly tokens = new Map<string, { value: string; expiresAt: number }>();

  constructor(private readonly db: Database) {}

  async token(platform: ServicePlatform, scopes: readonly string[]): Promise<string> {
    const key = `${platform.id} ${[...scopes].sort().join(" ")}`;
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > Date.now()) return cached.value;
    const assertion = await signWithToolKey(this.db, { iss: platform.clientId, sub: platform.clientId, aud: platform.accessTokenUrl });
    const response = await fetch(platform.accessTokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: assertion,
        scope: scopes.join(" "),
      }),
      signal: AbortSignal.timeout(SERVICE_TIMEOUT_MS),
    });
    if (!response.ok) throw new PlatformServiceError(`the platform's token endpoint answered ${response.status}`);
    const parsed = AccessTokenResponse.safeParse(await response.json().catch(() => null));
    if (!parsed.success) throw new PlatformServiceError("the platform's token endpoint sent no access token");
    const lifetimeMs = (parsed.data.expires_in ?? 3600) * 1000;
    this.tokens.set(key, { value: parsed.data.access_token, expiresAt: Date.now() + Math.max(0, lifetimeMs - RENEW_BEFORE_MS) });
    return parsed.data.access_token;
  }

  /** A call to a platform service with a bearer token for `scopes`; a refused token is dropped. */
  async call(platform: ServicePlatform, scopes: readonly string[], url: string, init: RequestInit): Promise<Response> {
    const token = await this.token(platform, scopes);
    const response = await fetch(url, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(SERVICE_TIMEOUT_MS),
    });
    if (response.status === 401) this.tokens.delete(`${platform.id} ${[...scopes].sort().join(" ")}`);
    return response;
  }
}
