/**
 * The preview: `/preview/<environmentId>/<port>/<path>` relays a browser's HTTP requests and
 * websockets to a web server the student runs on a declared port of their environment's own
 * loopback (browser -> server -> worker -> an exec'd relay inside the container). Nothing is
 * published on the host and the container keeps no network. Who may open it is the access
 * policy's (the owner and course staff); the bounds are preview-limits.ts's.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { Duplex as DuplexStream, PassThrough } from "node:stream";
import type { Logger } from "../../common/logger";
import type { Actor, EnvironmentAccess } from "../../common/access";
import { SESSION_COOKIE, readCookie } from "../auth/cookies";
import { mutationOriginAllowed } from "../auth/origin";
import type { RateLimiter } from "../auth/rate-limit";
import { validateSessionToken } from "../auth/sessions";
import type { Database } from "../database/client";
import { AppAccessError, type AppRefusal, type EnvironmentApps } from "../environments/environment-apps";
import { ByteRate, PREVIEW_BODY_BYTES, PREVIEW_REQUESTS_PER_USER, TunnelCount } from "./preview-limits";

const PREVIEW_PATH = /^\/preview\/([A-Za-z0-9_-]{1,64})\/(\d{1,5})(\/[^#]*)?$/;

export interface PreviewTarget {
  environmentId: string;
  port: number;
  /** The path and query the app sees (its own root, without the platform's prefix); null: the prefix without its slash. */
  path: string | null;
}

export function parsePreviewPath(url: string): PreviewTarget | null {
  const match = PREVIEW_PATH.exec(url);
  if (!match) return null;
  const port = Number(match[2]);
  if (port < 1 || port > 65_535) return null;
  return { environmentId: match[1]!, port, path: match[3] ?? null };
}

export const isPreviewUrl = (url: string) => url.startsWith("/preview/");

const REFUSAL_STATUS: Record<AppRefusal, number> = { not_found: 404, not_running: 409, not_previewable: 403, no_such_service: 404, unavailable: 502 };

/** Hop-by-hop headers (RFC 9110 7.6.1) never cross a proxy. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"]);

/** The request's cookies without the platform's session: the student's server never sees a viewer's session. */
function withoutSession(cookie: string | undefined) {
  const kept = (cookie ?? "")
    .split(";")
    .map((part) => part.trim())
    .filter((part) => part && !part.startsWith(`${SESSION_COOKIE}=`));
  return kept.length > 0 ? kept.join("; ") : undefined;
}

function forwardedHeaders(headers: IncomingHttpHeaders, target: PreviewTarget): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name) && name !== "cookie" && value !== undefined) out[name] = value;
  const cookie = withoutSession(headers.cookie);
  if (cookie) out.cookie = cookie;
  // Dev servers check the host they are asked for: it is theirs, on loopback.
  out.host = `localhost:${target.port}`;
  out["x-forwarded-prefix"] = `/preview/${target.environmentId}/${target.port}`;
  return out;
}

/**
 * The app's answer headers as the browser gets them. Its pages run on the platform's origin:
 * for anyone but the owner they are sandboxed (an opaque origin), so a student's script cannot
 * act as the staff member who looks at it; and no answer may set the platform's session cookie.
 */
function answerHeaders(headers: IncomingHttpHeaders, access: EnvironmentAccess): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
  if (out["set-cookie"]) out["set-cookie"] = headers["set-cookie"]!.filter((cookie) => !cookie.trim().startsWith(`${SESSION_COOKIE}=`));
  if (access !== "owner") out["content-security-policy"] = "sandbox allow-scripts allow-forms allow-popups allow-modals";
  out["x-content-type-options"] = "nosniff";
  return out;
}

export function previewProxy(options: { db: Database; apps: EnvironmentApps; rateLimiter: RateLimiter; publicUrl?: string; log: Logger }) {
  const tunnels = new TunnelCount();

  /** Who asks, within their limits, with a place among their tunnels; or the status that refuses them. */
  async function admit(req: IncomingMessage): Promise<{ userId: string; target: PreviewTarget; actor: Actor } | { status: number; message: string }> {
    const target = parsePreviewPath(req.url ?? "");
    if (!target) return { status: 404, message: "Not a preview address." };
    const token = readCookie(req.headers.cookie, SESSION_COOKIE);
    const session = token ? await validateSessionToken(options.db, token) : null;
    if (!session) return { status: 401, message: "Sign in to see this preview." };
    const limited = await options.rateLimiter.hit(PREVIEW_REQUESTS_PER_USER, session.user.id);
    if (!limited.allowed) return { status: 429, message: "Too many preview requests: wait a moment." };
    if (!tunnels.take(session.user.id)) return { status: 429, message: "Too many previews open at once." };
    return { userId: session.user.id, target, actor: session.user };
  }

  /** Opens the tunnel for an admitted request (its place is given back when `release` runs). */
  async function open(admitted: { actor: Actor; target: PreviewTarget }, upload: PassThrough) {
    return options.apps.openPreview(admitted.actor, admitted.target.environmentId, admitted.target.port, upload);
  }

  const refusalOf = (error: unknown) =>
    error instanceof AppAccessError
      ? { status: REFUSAL_STATUS[error.code], message: error.message }
      : { status: 502, message: "The preview could not be opened." };

  return {
    async request(req: IncomingMessage, res: ServerResponse) {
      const refuse = ({ status, message }: { status: number; message: string }) => {
        if (res.headersSent) return res.destroy();
        res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
        res.end(`${message}\n`);
      };
      const admitted = await admit(req).catch((error: Error) => ({ status: 500, message: error.message }));
      if ("status" in admitted) return refuse(admitted);
      // Relative links resolve against a folder: the app's root needs its trailing slash.
      if (admitted.target.path === null) {
        tunnels.give(admitted.userId);
        res.writeHead(308, { location: `${(req.url ?? "").split("?")[0]}/` });
        return res.end();
      }
      let released = false;
      const release = () => {
        if (!released) tunnels.give(admitted.userId);
        released = true;
      };
      const upload = new PassThrough();
      let opened: Awaited<ReturnType<typeof open>>;
      try {
        opened = await open(admitted, upload);
      } catch (error) {
        release();
        return refuse(refusalOf(error));
      }
      const download = opened.output.pipe(new ByteRate());
      const connection = DuplexStream.from({ readable: download, writable: upload });
      const proxied = http.request({
        method: req.method,
        path: admitted.target.path,
        headers: forwardedHeaders(req.headers, admitted.target),
        createConnection: () => connection as never,
      });
      const body = new ByteRate(undefined, undefined, PREVIEW_BODY_BYTES);
      const finish = () => {
        release();
        connection.destroy();
        opened.output.destroy();
      };
      res.once("close", finish);
      body.once("error", () => refuse({ status: 413, message: "The request is too large for a preview." }));
      proxied.once("error", () => refuse({ status: 502, message: `Nothing answered on port ${admitted.target.port} in this environment.` }));
      proxied.once("response", (answer) => {
        res.writeHead(answer.statusCode ?? 502, answerHeaders(answer.headers, opened.access));
        answer.pipe(res);
      });
      req.pipe(body).pipe(proxied);
    },

    /** A websocket (a dev server's live reload): the handshake is relayed and bytes then flow both ways. */
    async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
      const refuse = (status: number, message: string) => {
        socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? "Refused"}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${message}\n`);
      };
      socket.on("error", () => socket.destroy());
      // A page of another site must not open a websocket with the visitor's session.
      if (!mutationOriginAllowed(req.headers, options.publicUrl)) return refuse(403, "Cross-origin request refused.");
      const admitted = await admit(req).catch((error: Error) => ({ status: 500, message: error.message }));
      if ("status" in admitted) return refuse(admitted.status, admitted.message);
      if (admitted.target.path === null) {
        tunnels.give(admitted.userId);
        return refuse(404, "A preview's websocket lives under its folder.");
      }
      const upload = new PassThrough();
      let opened: Awaited<ReturnType<typeof open>>;
      try {
        opened = await open(admitted, upload);
      } catch (error) {
        tunnels.give(admitted.userId);
        const refusal = refusalOf(error);
        return refuse(refusal.status, refusal.message);
      }
      const headers = forwardedHeaders(req.headers, admitted.target);
      headers.connection = "Upgrade";
      headers.upgrade = req.headers.upgrade;
      const lines = Object.entries(headers).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((one) => `${name}: ${String(one)}`));
      upload.write(`${req.method ?? "GET"} ${admitted.target.path} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`);
      if (head.length > 0) upload.write(head);
      socket.pipe(new ByteRate()).pipe(upload);
      opened.output.pipe(new ByteRate()).pipe(socket);
      socket.once("close", () => {
        tunnels.give(admitted.userId);
        opened.output.destroy();
        upload.destroy();
      });
      opened.output.once("error", () => socket.destroy());
    },
  };
}
