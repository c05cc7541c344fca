/**
 * What a sign-in through an OpenID Provider must remember between leaving and coming back:
 * the provider, state, nonce, PKCE verifier and the page to return to. It rides in a
 * short-lived HttpOnly cookie, encrypted and authenticated (JWE, A256GCM) with a key derived
 * from the server's secret, so the browser can neither read nor alter it, and every replica
 * can open it.
 */
import { createHmac } from "node:crypto";
import { EncryptJWT, jwtDecrypt } from "jose";
import { z } from "zod";
import { readCookie } from "../cookies";

export const FLOW_COOKIE = "shellroom_oidc_flow";
const FLOW_PATH = "/api/auth/oidc/";
/** Long enough to type a password and a second factor at the provider; short enough to be useless later. */
export const FLOW_LIFETIME_SECONDS = 10 * 60;

export const SignInFlow = z.object({
  provider: z.string(),
  state: z.string(),
  nonce: z.string(),
  codeVerifier: z.string(),
  next: z.string(),
});
export type SignInFlow = z.infer<typeof SignInFlow>;

export class FlowCookies {
  private readonly key: Uint8Array;

  constructor(
    serverSecret: string,
    private readonly secure: boolean,
  ) {
    this.key = createHmac("sha256", serverSecret).update("shellroom oidc sign-in flow").digest();
  }

  async seal(flow: SignInFlow): Promise<string> {
    const sealed = await new EncryptJWT({ ...flow })
      .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
      .setIssuedAt()
      .setExpirationTime(`${FLOW_LIFETIME_SECONDS}s`)
      .encrypt(this.key);
    return this.cookie(sealed, FLOW_LIFETIME_SECONDS);
  }

  /** The flow this browser started, or null when there is none, it expired, or it was tampered with. */
  async open(cookieHeader: string | undefined): Promise<SignInFlow | null> {
    const sealed = readCookie(cookieHeader, FLOW_COOKIE);
    if (!sealed) return null;
    try {
      const { payload } = await jwtDecrypt(sealed, this.key);
      const flow = SignInFlow.safeParse(payload);
      return flow.success ? flow.data : null;
    } catch {
      return null;
    }
  }

  /** Clears the cookie: a flow is used once. */
  blank(): string {
    return this.cookie("", 0);
  }

  // SameSite=Lax: the provider brings the browser back with a top-level GET, which carries it.
  private cookie(value: string, maxAgeSeconds: number): string {
    const attributes = [`${FLOW_COOKIE}=${value}`, "HttpOnly", "SameSite=Lax", `Path=${FLOW_PATH}`, `Max-Age=${maxAgeSeconds}`];
    if (this.secure) attributes.push("Secure");
    return attributes.join("; ");
  }
}
