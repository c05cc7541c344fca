/**
 * Webhook POSTs that cannot reach the server's own network: course staff choose the URL, so
 * without a guard a webhook could probe or poke internal services (SSRF). The address is
 * checked where the connection is made (the socket's own DNS lookup), so a name that resolves
 * to a public address when saved and to a private one later (DNS rebinding) is refused too.
 * node:http rather than fetch: fetch offers no hook at connect time without undici's API.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import http from "node:http";
import https from "node:https";
import { BlockList, isIP, type LookupFunction } from "node:net";

/** Addresses no webhook may reach unless the operator allows private ones (one list per family: BlockList matches IPv4 against IPv6 rules as mapped addresses). */
const INTERNAL_V4 = new BlockList();
const INTERNAL_V6 = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 3],
] as const)
  INTERNAL_V4.addSubnet(network, prefix, "ipv4");
for (const [network, prefix] of [
  ["::", 127],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const)
  INTERNAL_V6.addSubnet(network, prefix, "ipv6");

/** Whether a webhook may connect to this address (IPv4-mapped IPv6 is judged as its IPv4). */
export function publicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return publicAddress(mapped);
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex) {
    const [high, low] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
    return publicAddress(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`);
  }
  const family = isIP(address);
  if (family === 4) return !INTERNAL_V4.check(address, "ipv4");
  if (family === 6) return !INTERNAL_V6.check(address, "ipv6");
  return false;
}

export class InternalAddressError extends Error {
  override name = "InternalAddressError";
}

/** A DNS lookup that fails when any address of the name is internal. */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, "", 0);
    const refused = addresses.find((entry) => !publicAddress(entry.address));
    if (refused) return callback(new InternalAddressError(`${hostname} is ${refused.address}, an internal address: webhooks may not reach it`), "", 0);
    if (options.all) return (callback as unknown as (error: null, all: LookupAddress[]) => void)(null, addresses);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  });
};

export interface OutboundPost {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Lets loopback and private addresses through (a lab network, or tests). */
  allowInternal: boolean;
}

/** POSTs `body`; resolves with the status code (redirects are not followed); rejects on a refused address, an error or the timeout. */
export function postOutbound(request: OutboundPost): Promise<number> {
  const url = new URL(request.url);
  const literal = url.hostname.replace(/^\[|\]$/g, "");
  if (!request.allowInternal && isIP(literal) && !publicAddress(literal)) {
    return Promise.reject(new InternalAddressError(`${literal} is an internal address: webhooks may not reach it`));
  }
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const outgoing = client.request(url, {
      method: "POST",
      headers: { ...request.headers, "content-length": Buffer.byteLength(request.body) },
      lookup: request.allowInternal ? undefined : publicOnlyLookup,
      timeout: request.timeoutMs,
    });
    outgoing.on("response", (response) => {
      response.resume(); // the answer's body is not kept
      resolve(response.statusCode ?? 0);
    });
    outgoing.on("timeout", () => outgoing.destroy(new Error(`no answer within ${Math.round(request.timeoutMs / 1000)} s`)));
    outgoing.on("error", reject);
    outgoing.end(request.body);
  });
}
