/**
 * The relying-party side of single sign-on, through openid-client (a certified client): the
 * code flow with PKCE, state and nonce. openid-client checks what matters in the answer: the
 * issuer (the `iss` of the authorization response and of the ID token), the audience, the
 * signature against the provider's JWKS, expiry, the nonce and the state.
 */
import * as client from "openid-client";
import type { Logger } from "../../../common/logger";
import type { OidcProviderConfig } from "./provider-config";
import type { SignInFlow } from "./flow-cookie";

/** What the provider said about the person, as claims (the ID token's, completed by userinfo). */
export type ProviderClaims = Record<string, unknown> & { sub: string };

export class OidcClients {
  private readonly byId: Map<string, OidcProviderConfig>;
  /** Discovery is done at the first sign-in and kept; a failed one is tried again next time. */
  private readonly discovered = new Map<string, Promise<client.Configuration>>();

  constructor(
    providers: readonly OidcProviderConfig[],
    private readonly log: Logger,
  ) {
    this.byId = new Map(providers.map((provider) => [provider.id, provider]));
  }

  /** What the sign-in page shows. */
  list(): { id: string; name: string }[] {
    return [...this.byId.values()].map(({ id, name }) => ({ id, name }));
  }

  provider(id: string): OidcProviderConfig | undefined {
    return this.byId.get(id);
  }

  /** Where to send the browser, and what its callback must match. */
  async begin(provider: OidcProviderConfig, redirectUri: string, next: string): Promise<{ url: URL; flow: SignInFlow }> {
    const config = await this.configuration(provider);
    const codeVerifier = client.randomPKCECodeVerifier();
    const flow: SignInFlow = { provider: provider.id, state: client.randomState(), nonce: client.randomNonce(), codeVerifier, next };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: provider.scopes,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: "S256",
      state: flow.state,
      nonce: flow.nonce,
    });
    return { url, flow };
  }

  /**
   * Redeems the code the browser brought back to `callbackUrl` (the redirect URI plus the
   * provider's query) and returns the person's claims. Throws when anything does not check out.
   */
  async complete(provider: OidcProviderConfig, callbackUrl: URL, flow: SignInFlow): Promise<ProviderClaims> {
    const config = await this.configuration(provider);
    const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: flow.codeVerifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims();
    if (!idClaims) throw new Error("the provider returned no ID token");
    // Providers may keep email and groups out of the ID token when an access token is issued.
    const userinfo = config.serverMetadata().userinfo_endpoint ? await client.fetchUserInfo(config, tokens.access_token, idClaims.sub) : {};
    return { ...userinfo, ...idClaims } as ProviderClaims;
  }

  private configuration(provider: OidcProviderConfig): Promise<client.Configuration> {
    let config = this.discovered.get(provider.id);
    if (!config) {
      const issuer = new URL(provider.issuer);
      // Plain http only for a provider on this machine (development and tests).
      const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(issuer.hostname);
      config = client.discovery(
        issuer,
        provider.clientId,
        undefined,
        client.ClientSecretBasic(provider.clientSecret),
        loopback && issuer.protocol === "http:" ? { execute: [client.allowInsecureRequests] } : undefined,
      );
      this.discovered.set(provider.id, config);
      config.catch((error: Error) => {
        this.discovered.delete(provider.id);
        this.log.warn({ provider: provider.id, err: error.message }, "OpenID Provider discovery failed");
      });
    }
    return config;
  }
}
