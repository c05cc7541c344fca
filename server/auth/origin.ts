/**
 * CSRF defence for state-changing requests and socket handshakes: the browser's Origin
 * must be this site's. Browsers always send Origin on cross-site POSTs and WebSocket
 * handshakes, so a missing Origin is only accepted from non-browser clients.
 */
import type { IncomingHttpHeaders } from "node:http";

export function originAllowed(headers: IncomingHttpHeaders, publicUrl: string | undefined): boolean {
  const origin = headers.origin;
  if (!origin) return headers["sec-fetch-site"] === undefined || headers["sec-fetch-site"] === "same-origin";
  if (publicUrl) return origin === new URL(publicUrl).origin;
  // Without a configured public URL, the request's own Host is this site.
  const host = headers["x-forwarded-host"] ?? headers.host;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/**
 * For tRPC mutations (POSTs) the Origin is required: every browser sends it on a POST, so
 * only scripts omit it, and they can name the site like a page does. No exception is left
 * for a CSRF to hide in.
 */
export function mutationOriginAllowed(headers: IncomingHttpHeaders, publicUrl: string | undefined): boolean {
  return headers.origin !== undefined && originAllowed(headers, publicUrl);
}
