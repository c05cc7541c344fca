/**
 * The two HTTP routes of single sign-on, served by the server next to tRPC:
 *   GET /api/auth/oidc/<provider>/start?next=/path   -> the provider's authorization page
 *   GET /api/auth/oidc/<provider>/callback?code=...   -> a session, then back to `next`
 * A refusal lands on the sign-in page with `sso_error=<code>`: the page words it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../../../common/logger";
import { sameOriginPath } from "../../../common/same-origin-path";
import type { AuditLog } from "../../audit";
import type { Database } from "../../database/client";
import type { ClientAddress } from "../client-address";
import { startSession } from "../start-session";
import { signInExternal, SignInRefusedError, type SignInRefusal } from "./external-accounts";
import type { FlowCookies } from "./flow-cookie";
import type { OidcClients } from "./oidc-client";

export const OIDC_ROUTE_PREFIX = "/api/auth/oidc/";

/** Codes the sign-in page explains. */
export type SsoError = SignInRefusal | "unknown_provider" | "provider_unavailable" | "flow_expired" | "refused";

export interface OidcRouteOptions {
  db: Database;
  clients: OidcClients;
  flows: FlowCookies;
  audit: AuditLog;
  clientAddress: ClientAddress;
  /** The origin browsers use; unset: the request's Host over http (development). */
  publicUrl?: string;
  secureCookies: boolean;
  log: Logger;
}

export function oidcRouteHandler(options: OidcRouteOptions) {
  const { clients, flows, log } = options;

  const redirect = (res: ServerResponse, location: string, cookies: string[] = []) => {
    res.writeHead(302, { location, "set-cookie": cookies, "cache-control": "no-store" });
    res.end();
  };
  const refuse = (res: ServerResponse, error: SsoError, next = "/") => {
    const query = new URLSearchParams({ sso_error: error });
    if (next !== "/") query.set("next", next);
    redirect(res, `/sign-in?${query}`, [flows.blank()]);
  };
  const baseUrl = (req: IncomingMessage) => options.publicUrl?.replace(/\/$/, "") ?? `http://${req.headers.host ?? "localhost"}`;

  async function start(req: IncomingMessage, res: ServerResponse, providerId: string, url: URL) {
    const next = sameOriginPath(url.searchParams.get("next"));
    const provider = clients.provider(providerId);
    if (!provider) return refuse(res, "unknown_provider", next);
    try {
      const redirectUri = `${baseUrl(req)}${OIDC_ROUTE_PREFIX}${provider.id}/callback`;
      const { url: authorization, flow } = await clients.begin(provider, redirectUri, next);
      redirect(res, authorization.href, [await flows.seal(flow)]);
    } catch (error) {
      log.warn({ provider: provider.id, err: (error as Error).message }, "could not start a single sign-on");
      refuse(res, "provider_unavailable", next);
    }
  }

  async function callback(req: IncomingMessage, res: ServerResponse, providerId: string, url: URL) {
    const ip = options.clientAddress(req);
    const flow = await flows.open(req.headers.cookie);
    const provider = clients.provider(providerId);
    if (!provider) return refuse(res, "unknown_provider");
    // No flow (expired, another browser) or one started for another provider: nothing to check the answer against.
    if (!flow || flow.provider !== provider.id) return refuse(res, "flow_expired", flow?.next);
    const failed = (reason: string) => options.audit.record({ action: "auth.sign_in_failed", ip, details: { method: "oidc", provider: provider.id, reason } });

    let claims;
    try {
      const callbackUrl = new URL(`${baseUrl(req)}${OIDC_ROUTE_PREFIX}${provider.id}/callback`);
      callbackUrl.search = url.search;
      claims = await clients.complete(provider, callbackUrl, flow);
    } catch (error) {
      // openid-client's code and the check that failed (e.g. the `iss` that did not match) say why.
      const { message, code, cause } = error as Error & { code?: string; cause?: unknown };
      const detail = cause instanceof Error ? cause.message : typeof cause === "object" && cause ? JSON.stringify(cause) : "";
      const reason = [code, message, detail].filter(Boolean).join(": ").slice(0, 300);
      log.warn({ provider: provider.id, err: reason }, "single sign-on refused");
      await failed(reason);
      return refuse(res, "refused", flow.next);
    }
    try {
      const signedIn = await signInExternal(options.db, provider, claims);
      const session = await startSession(options.db, signedIn.userId, options.secureCookies);
      await options.audit.record({
        action: "auth.sign_in",
        actorId: signedIn.userId,
        ip,
        details: { method: "oidc", provider: provider.id, matched: signedIn.matched },
      });
      for (const courseId of signedIn.enrolledCourseIds) {
        await options.audit.record({ action: "course.join", actorId: signedIn.userId, courseId, ip, details: { via: "oidc-group", provider: provider.id } });
      }
      redirect(res, flow.next, [session, flows.blank()]);
    } catch (error) {
      if (!(error instanceof SignInRefusedError)) throw error;
      await failed(error.code);
      refuse(res, error.code, flow.next);
    }
  }

  /** Answers the request if it is one of ours; returns false otherwise. */
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? "/", "http://request.invalid");
    const match = /^\/api\/auth\/oidc\/([^/]+)\/(start|callback)$/.exec(url.pathname);
    if (!url.pathname.startsWith(OIDC_ROUTE_PREFIX)) return false;
    if (!match || req.method !== "GET") {
      res.writeHead(404);
      res.end();
      return true;
    }
    const [, providerId, step] = match;
    const handled = step === "start" ? start(req, res, providerId!, url) : callback(req, res, providerId!, url);
    handled.catch((error: Error) => {
      log.error({ provider: providerId, err: error.message }, "single sign-on failed");
      if (!res.headersSent) refuse(res, "refused");
    });
    return true;
  };
}
