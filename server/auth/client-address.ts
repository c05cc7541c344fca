/**
 * Who the client is, for rate limits and the audit trail. Behind a reverse proxy every
 * request comes from the proxy, so its X-Forwarded-For is believed, but only from the
 * proxies the operator lists: anyone else could write any address into that header.
 */
import type { IncomingMessage } from "node:http";
import proxyAddr from "proxy-addr";

export type ClientAddress = (req: IncomingMessage) => string;

/** IPv4 peers on a dual-stack socket read as ::ffff:a.b.c.d; one client, one key. */
function normalise(address: string | undefined): string {
  if (!address) return "unknown";
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

export function clientAddressResolver(trustedProxies: readonly string[] = []): ClientAddress {
  if (trustedProxies.length === 0) return (req) => normalise(req.socket.remoteAddress);
  const trust = proxyAddr.compile([...trustedProxies]);
  return (req) => normalise(proxyAddr(req, trust));
}
