/**
 * Who may read /metrics. The metrics name workers, counts and timings: not secrets, but not
 * for the public either. With SHELLROOM_METRICS_TOKEN set a scraper sends it as a bearer
 * token (from anywhere, through the same proxy and TLS as everything else); without one only
 * a client on this machine is answered, and a request a proxy forwarded never counts as local.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import proxyAddr from "proxy-addr";

export type MetricsDecision = { allowed: true } | { allowed: false; status: 401 | 403; message: string; headers?: Record<string, string> };

const isLoopback = proxyAddr.compile("loopback");
const FORWARDING_HEADERS = ["forwarded", "x-forwarded-for", "x-real-ip"] as const;

/** Same-length digests, so the comparison takes the same time whatever was sent. */
const digest = (value: string) => createHash("sha256").update(value).digest();

export function metricsAccess(token: string | undefined): (req: IncomingMessage) => MetricsDecision {
  if (token) {
    const expected = digest(token);
    return (req) => {
      const sent = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1]?.trim();
      if (sent && timingSafeEqual(digest(sent), expected)) return { allowed: true };
      return {
        allowed: false,
        status: 401,
        message: "metrics need the bearer token (SHELLROOM_METRICS_TOKEN)\n",
        headers: { "www-authenticate": 'Bearer realm="metrics"' },
      };
    };
  }
  return (req) => {
    const peer = req.socket.remoteAddress;
    const local = peer !== undefined && isLoopback(peer, 0) && FORWARDING_HEADERS.every((name) => req.headers[name] === undefined);
    return local
      ? { allowed: true }
      : { allowed: false, status: 403, message: "metrics answer only this machine: set SHELLROOM_METRICS_TOKEN to scrape from elsewhere\n" };
  };
}
