/**
 * The tool's HTTP endpoints, answered before Next.js:
 *   GET|POST /api/lti/login         OIDC login initiation -> the platform's authorization URL
 *   POST     /api/lti/launch        the id_token -> account, course, membership, session -> the lab or the live room
 *   GET      /api/lti/jwks          the tool's public keys
 *   GET|POST /api/lti/deep-link/:id the lab picker of a deep linking request, and its signed answer
 * The launch is a cross-site form POST from the LMS, so it carries no Origin check; what it
 * carries is verified instead (server/lti/oidc-launch.ts).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../../common/logger";
import type { AuditLog } from "../audit";
import { isCourseStaff } from "../auth/access";
import { SESSION_COOKIE, embeddedSessionCookie, readCookie } from "../auth/cookies";
import { originAllowed } from "../auth/origin";
import { createSession, generateSessionToken, validateSessionToken } from "../auth/sessions";
import type { Database } from "../database/client";
import { CLAIM, DEEP_LINKING_REQUEST } from "./claims";
import { beginDeepLinking, deepLinkingResponse, openDeepLinking, pickableLabs } from "./deep-linking";
import { escapeHtml, sendAutoPost, sendPage, sendRefusal } from "./lti-pages";
import { LtiRefusal, beginLogin, verifyLaunch } from "./oidc-launch";
import { provisionLaunch } from "./provisioning";
import { publishedToolKeys } from "./tool-keys";

export const LTI_PATH = "/api/lti/";
const FORM_LIMIT_BYTES = 64 * 1024;

export interface LtiRouteOptions {
  db: Database;
  log: Logger;
  audit: AuditLog;
  publicUrl?: string;
  secureCookies: boolean;
  clientAddress(req: IncomingMessage): string;
  /** An instructor launched from a context with a roster service: its members may be fetched. */
  onStaffLaunch?(contextId: string): void;
}

class FormTooLarge extends Error {}

async function readForm(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > FORM_LIMIT_BYTES) throw new FormTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
}

async function paramsOf(req: IncomingMessage, url: URL): Promise<Record<string, string>> {
  return req.method === "POST" ? readForm(req) : Object.fromEntries(url.searchParams);
}

/** Returns a handler that answers the LTI paths (true) and leaves every other request alone (false). */
export function ltiRoutes(options: LtiRouteOptions) {
  const { db, log } = options;
  const toolBase = (req: IncomingMessage) => new URL(options.publicUrl ?? `http://${req.headers.host ?? "localhost"}`).origin;

  async function signedInUser(req: IncomingMessage) {
    const token = readCookie(req.headers.cookie, SESSION_COOKIE);
    return token ? ((await validateSessionToken(db, token))?.user ?? null) : null;
  }

  async function login(req: IncomingMessage, res: ServerResponse, url: URL) {
    const base = toolBase(req);
    const target = await beginLogin(db, await paramsOf(req, url), `${base}${LTI_PATH}launch`, base);
    res.writeHead(302, { location: target.toString(), "cache-control": "no-store" });
    res.end();
  }

  async function launch(req: IncomingMessage, res: ServerResponse) {
    const { platform, claims } = await verifyLaunch(db, await readForm(req));
    const provisioned = await provisionLaunch(db, platform.id, claims);
    const ip = options.clientAddress(req);
    if (provisioned.courseCreated) await options.audit.record({ action: "course.created", actorId: provisioned.userId, courseId: provisioned.courseId, ip });
    await options.audit.record({
      action: "auth.lti_launch",
      actorId: provisioned.userId,
      courseId: provisioned.courseId,
      ip,
      details: { issuer: platform.issuer, context: claims[CLAIM.context].id, role: provisioned.role, messageType: claims[CLAIM.messageType] },
    });
    const deepLinking = claims[CLAIM.messageType] === DEEP_LINKING_REQUEST;
    if (deepLinking && !isCourseStaff(provisioned.role)) throw new LtiRefusal("unsupported_message", "Only the course's instructors can add Shellroom labs.");
    if (!deepLinking && !isCourseStaff(provisioned.role) && !provisioned.labId) {
      throw new LtiRefusal("invalid_request", "This link is not connected to a Shellroom lab yet. Ask your instructor to choose one.");
    }
    // Signed in as sign-in does it; the cookie works inside the LMS's frame (see embeddedSessionCookie).
    const token = generateSessionToken();
    const session = await createSession(db, token, provisioned.userId);
    if (isCourseStaff(provisioned.role) && claims[CLAIM.nrps]) options.onStaffLaunch?.(provisioned.contextId);
    const location = deepLinking
      ? `${LTI_PATH}deep-link/${await beginDeepLinking(db, platform.id, provisioned.contextId, provisioned.userId, claims)}`
      : isCourseStaff(provisioned.role)
        ? `/courses/${provisioned.courseId}/live`
        : `/labs/${provisioned.labId}`;
    res.writeHead(303, { location, "set-cookie": embeddedSessionCookie(token, session.expiresAt, options.secureCookies), "cache-control": "no-store" });
    res.end();
  }

  async function jwks(res: ServerResponse) {
    const body = JSON.stringify(await publishedToolKeys(db));
    res.writeHead(200, { "content-type": "application/json", "cache-control": "public, max-age=300" });
    res.end(body);
  }

  async function deepLink(req: IncomingMessage, res: ServerResponse, id: string) {
    const user = await signedInUser(req);
    const request = user ? await openDeepLinking(db, id, user.id) : null;
    if (!user || !request) return sendRefusal(res, 404, "invalid_state", "This choice was made already or has expired. Start again from the LMS.");
    const labs = await pickableLabs(db, request.context.courseId);
    if (req.method !== "POST") {
      const items = labs
        .map(
          (lab) =>
            `<li><form method="post"><input type="hidden" name="labId" value="${escapeHtml(lab.id)}">` +
            `<button type="submit">${escapeHtml(lab.title)}</button> ${lab.published ? "" : "(draft) "}` +
            `<small>${lab.checks} check${lab.checks === 1 ? "" : "s"}</small></form></li>`,
        )
        .join("");
      const body = labs.length
        ? `<p>Choose the lab this link opens. Its checks become the grade.</p><ul>${items}</ul>`
        : `<p>This course has no labs yet. <a href="/courses/${escapeHtml(request.context.courseId)}" target="_blank">Open the course</a> to write or import one, then start again from the LMS.</p>`;
      return sendPage(res, 200, "Choose a Shellroom lab", body);
    }
    // A form of this site only (the session cookie alone would let another site choose).
    if (!req.headers.origin || !originAllowed(req.headers, options.publicUrl)) return sendRefusal(res, 403, "invalid_request", "Cross-origin request refused.");
    const form = await readForm(req);
    const lab = labs.find((candidate) => candidate.id === form.labId);
    if (!lab) return sendRefusal(res, 400, "invalid_request", "Choose one of the course's labs.");
    const answer = await deepLinkingResponse(db, id, user.id, lab, `${toolBase(req)}${LTI_PATH}launch`);
    if (!answer) return sendRefusal(res, 404, "invalid_state", "This choice was made already or has expired. Start again from the LMS.");
    sendAutoPost(res, "Returning to the LMS", answer.returnUrl, { JWT: answer.jwt });
  }

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (!req.url?.startsWith(LTI_PATH)) return false;
    const url = new URL(req.url, "http://tool.invalid");
    const route = url.pathname.slice(LTI_PATH.length);
    let work: Promise<void> | undefined;
    if (route === "login" && (req.method === "GET" || req.method === "POST")) work = login(req, res, url);
    else if (route === "launch" && req.method === "POST") work = launch(req, res);
    else if (route === "jwks" && req.method === "GET") work = jwks(res);
    else if (/^deep-link\/[0-9a-f-]{36}$/.test(route) && (req.method === "GET" || req.method === "POST"))
      work = deepLink(req, res, route.slice("deep-link/".length));
    if (!work) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("Not found\n");
      return true;
    }
    work.catch((error: unknown) => {
      if (res.headersSent) return;
      if (error instanceof LtiRefusal) {
        log.info({ code: error.code, route }, "LTI request refused");
        return sendRefusal(res, error.code === "unknown_platform" || error.code === "invalid_request" ? 400 : 401, error.code, error.message);
      }
      if (error instanceof FormTooLarge) return sendRefusal(res, 413, "invalid_request", "The request is too large.");
      log.error({ err: (error as Error).message, route }, "LTI request failed");
      sendRefusal(res, 500, "failed", "Something went wrong in Shellroom. Try again in a moment.");
    });
    return true;
  };
}
