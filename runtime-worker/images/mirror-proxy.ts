/**
 * The allowlisting proxy builds reach package mirrors through (off unless the operator lists
 * mirrors): plain HTTP requests (apt) and CONNECT tunnels (npm, pip over HTTPS) to the listed
 * hosts only. Names are resolved here and the connection goes to the address checked, so a
 * listed name that resolves to loopback, a private range or cloud metadata is refused (no
 * rebinding either); an address is allowed only when the operator listed it literally.
 * It listens on a unix socket: the build network reaches it through a relay container, and
 * nothing of the host listens where build steps can connect.
 */
import { lookup } from "node:dns/promises";
import http from "node:http";
import net from "node:net";
import type { Logger } from "../../common/logger";

export interface MirrorRule {
  /** Lower-case host name, `*.suffix`, or an IP address. */
  host: string;
  /** Allowed ports; absent: 80 and 443. */
  port?: number;
}

/** "deb.debian.org, *.pythonhosted.org, registry.npmjs.org:443" -> rules. */
export function parseMirrors(list: string): MirrorRule[] {
  return list
    .split(",")
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean)
    .map((entry) => {
      const match = /^(\*\.)?([a-z0-9.-]+|\[[0-9a-f:]+\])(?::(\d{1,5}))?$/.exec(entry);
      if (!match) throw new Error(`SHELLROOM_BUILD_MIRRORS: "${entry}" is not a host, *.domain or host:port`);
      return { host: `${match[1] ?? ""}${match[2]!.replace(/^\[|\]$/g, "")}`, ...(match[3] ? { port: Number(match[3]) } : {}) };
    });
}

function ruleFor(rules: MirrorRule[], host: string, port: number): MirrorRule | undefined {
  const name = host
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "");
  return rules.find((rule) => {
    if (rule.port ? rule.port !== port : port !== 80 && port !== 443) return false;
    return rule.host.startsWith("*.") ? name.endsWith(rule.host.slice(1)) : name === rule.host;
  });
}

/** Loopback, private, link-local (metadata), CGNAT, unspecified, multicast: never reached by name. */
function isInternal(address: string): boolean {
  if (net.isIPv6(address)) {
    const lower = address.toLowerCase();
    if (lower.startsWith("::ffff:")) return isInternal(lower.slice(7));
    return lower === "::" || lower === "::1" || /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower) || lower.startsWith("ff");
  }
  const [a, b] = address.split(".").map(Number) as [number, number];
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 100 && b >= 64 && b <= 127) ||
    a >= 224
  );
}

/** The address to connect to for an allowed host, or why not. */
async function resolveAllowed(rules: MirrorRule[], host: string, port: number): Promise<{ address: string } | { refused: string }> {
  const rule = ruleFor(rules, host, port);
  if (!rule) return { refused: `${host}:${port} is not an allowed package mirror` };
  const literal = host.replace(/^\[|\]$/g, "");
  if (net.isIP(literal)) return { address: literal }; // listed literally by the operator
  const addresses = await lookup(literal, { all: true }).catch(() => []);
  if (addresses.length === 0) return { refused: `${host} does not resolve` };
  if (addresses.some(({ address }) => isInternal(address))) return { refused: `${host} resolves to an internal address` };
  return { address: addresses[0]!.address };
}

export function createMirrorProxy(rules: MirrorRule[], log: Logger): http.Server {
  const server = http.createServer(async (req, res) => {
    let target: URL;
    try {
      target = new URL(req.url ?? "");
      if (target.protocol !== "http:") throw new Error("not http");
    } catch {
      res.writeHead(400).end("This proxy takes absolute http:// URLs.\n");
      return;
    }
    const port = Number(target.port || 80);
    const allowed = await resolveAllowed(rules, target.hostname, port);
    if ("refused" in allowed) {
      log.warn({ host: target.hostname, port }, "build proxy refused a request");
      res.writeHead(403).end(`Refused by the build proxy: ${allowed.refused}.\n`);
      return;
    }
    const headers = { ...req.headers };
    delete headers["proxy-connection"];
    delete headers["proxy-authorization"];
    const upstream = http.request(
      { host: allowed.address, port, method: req.method, path: `${target.pathname}${target.search}`, headers, setHost: false },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", (error) => {
      if (!res.headersSent) res.writeHead(502).end(`The mirror did not answer: ${error.message}\n`);
      else res.destroy();
    });
    req.pipe(upstream);
  });

  server.on("connect", async (req, socket, head) => {
    const match = /^(\[[0-9a-fA-F:]+\]|[^:]+):(\d{1,5})$/.exec(req.url ?? "");
    const host = match?.[1] ?? "";
    const port = Number(match?.[2] ?? 0);
    const allowed = match ? await resolveAllowed(rules, host, port) : { refused: "malformed CONNECT" };
    if ("refused" in allowed) {
      log.warn({ host, port }, "build proxy refused a tunnel");
      socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n\r\nRefused by the build proxy: ${allowed.refused}.\n`);
      return;
    }
    const upstream = net.connect(port, allowed.address, () => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    const close = () => {
      upstream.destroy();
      socket.destroy();
    };
    upstream.on("error", () => socket.end("HTTP/1.1 502 Bad Gateway\r\n\r\n"));
    socket.on("error", close);
    upstream.on("close", close);
    socket.on("close", close);
  });
  return server;
}
