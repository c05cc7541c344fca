/**
 * The websocket transport of the worker's link to the server. A websocket client masks every
 * frame it sends (RFC 6455 5.3): the payload is XORed with a random key, byte by byte, and the
 * server XORs it back. The mask protects proxies that do not understand websockets from frames
 * whose bytes an attacker chose (here: a student's terminal output) being read as HTTP. Where no
 * such proxy can see the frames, it is pure cost: on the worker it was 18% of the CPU per
 * megabyte of output (ws's `_mask` in the bench's profile), and the server's unmasking more.
 *
 * So the link sends an all-zero key (ws then skips both loops; the frames stay valid websocket
 * frames) only where nothing in between can read them: a loopback server (the same host), or TLS
 * (an intermediary that reads TLS-terminated frames passed the upgrade, so it speaks websocket).
 * Anywhere else (a plain ws:// link across a network) the frames are masked as the RFC says.
 */
import { NodeWebSocket } from "engine.io-client";
import { isIP } from "node:net";

const zeroMask = (mask: Buffer) => void mask.fill(0);

/** engine.io-client's Node websocket transport, with ws told to use a zero masking key. */
export class UnmaskedWebSocket extends NodeWebSocket {
  override createSocket(uri: string, protocols: string | string[] | undefined, opts: Record<string, unknown>): unknown {
    return super.createSocket(uri, protocols, { ...opts, generateMask: zeroMask }) as unknown;
  }
}

const isLoopback = (hostname: string) => {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
};

/** True when no intermediary that could misread a frame can see the link to `serverUrl`. */
export function frameMaskingNeeded(serverUrl: string): boolean {
  const url = new URL(serverUrl);
  if (url.protocol === "https:" || url.protocol === "wss:") return false;
  return !isLoopback(url.hostname);
}

/** The transports for socket.io-client's `transports` option on the link to `serverUrl`. */
export function serverLinkTransports(serverUrl: string) {
  return frameMaskingNeeded(serverUrl) ? ["websocket"] : [UnmaskedWebSocket];
}
