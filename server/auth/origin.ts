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
