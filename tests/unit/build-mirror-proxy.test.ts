/**
 * The builds' allowlisting proxy, on its unix socket with a loopback server as the mirror:
 * listed mirrors are reached (plain and tunnelled), anything else is refused, and a listed
 * name that resolves to an internal address is refused too.
 */
import http from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rootLogger } from "../../common/logger";
import { createMirrorProxy, parseMirrors } from "../../runtime-worker/images/mirror-proxy";

describe("the mirror list", () => {
  it("reads hosts, wildcard domains and ports", () => {
    expect(parseMirrors(" deb.debian.org, *.PythonHosted.org ,registry.npmjs.org:443,[::1]:8080,")).toEqual([
      { host: "deb.debian.org" },
      { host: "*.pythonhosted.org" },
      { host: "registry.npmjs.org", port: 443 },
      { host: "::1", port: 8080 },
    ]);
  });

  it("refuses what is not a host", () => {
    expect(() => parseMirrors("http://deb.debian.org")).toThrow(/"http:\/\/deb\.debian\.org" is not a host/);
    expect(() => parseMirrors("deb.debian.org/debian")).toThrow(/is not a host/);
  });
});

describe("the proxy", () => {
  let directory: string;
  let socketPath: string;
  let proxy: http.Server;
  let mirror: http.Server;
  let other: http.Server;
  let mirrorPort = 0;
  let otherPort = 0;
  let otherHits = 0;

  beforeAll(async () => {
    mirror = http.createServer((req, res) => res.end(`mirror ${req.method} ${req.url}`));
    other = http.createServer((_req, res) => {
      otherHits += 1;
      res.end("secret");
    });
    for (const server of [mirror, other]) await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    mirrorPort = (mirror.address() as AddressInfo).port;
    otherPort = (other.address() as AddressInfo).port;
    directory = await mkdtemp(path.join(tmpdir(), "mirror-proxy-"));
    socketPath = path.join(directory, "proxy.sock");
    const log = rootLogger.child({});
    log.level = "silent";
    proxy = createMirrorProxy(parseMirrors(`127.0.0.1:${mirrorPort},localhost:${otherPort},*.example.test`), log);
    await new Promise<void>((resolve) => proxy.listen(socketPath, resolve));
  });

  afterAll(async () => {
    for (const server of [proxy, mirror, other]) await new Promise((resolve) => server?.close(resolve));
    await rm(directory, { recursive: true, force: true });
  });

  const get = (url: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      http
        .get({ socketPath, path: url, headers: { host: URL.canParse(url) ? new URL(url).host : "mirror" } }, (res) => {
          let body = "";
          res.on("data", (chunk) => (body += chunk));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        })
        .on("error", reject);
    });

  const connect = (target: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = http.request({ socketPath, method: "CONNECT", path: target });
      request.on("connect", (res, socket) => {
        if (res.statusCode !== 200) {
          socket.destroy();
          return resolve({ status: res.statusCode ?? 0, body: "" });
        }
        // Speak HTTP through the tunnel, as a client speaks TLS through it to an HTTPS mirror.
        socket.write(`GET /tunnelled HTTP/1.1\r\nHost: ${target}\r\nConnection: close\r\n\r\n`);
        let body = "";
        socket.on("data", (chunk) => (body += chunk));
        socket.on("end", () => resolve({ status: 200, body }));
      });
      request.on("error", reject);
      request.end();
    });

  it("forwards a request to a listed mirror", async () => {
    expect(await get(`http://127.0.0.1:${mirrorPort}/dists/bookworm/Release`)).toEqual({ status: 200, body: "mirror GET /dists/bookworm/Release" });
  });

  it("tunnels to a listed mirror", async () => {
    const tunnelled = await connect(`127.0.0.1:${mirrorPort}`);
    expect(tunnelled.status).toBe(200);
    expect(tunnelled.body).toContain("mirror GET /tunnelled");
  });

  it("refuses an unlisted host or port, plainly or through a tunnel", async () => {
    const plain = await get(`http://127.0.0.1:${otherPort}/metrics`);
    expect(plain.status).toBe(403);
    expect(plain.body).toContain(`127.0.0.1:${otherPort} is not an allowed package mirror`);
    expect((await connect(`127.0.0.1:${otherPort}`)).status).toBe(403);
    expect((await get("http://169.254.169.254/latest/meta-data/")).status).toBe(403);
    expect(otherHits).toBe(0);
  });

  it("refuses a listed name that resolves to an internal address", async () => {
    const plain = await get(`http://localhost:${otherPort}/metrics`);
    expect(plain).toEqual({ status: 403, body: "Refused by the build proxy: localhost resolves to an internal address.\n" });
    expect(otherHits).toBe(0);
  });

  it("takes only absolute http URLs", async () => {
    expect((await get("/relative")).status).toBe(400);
  });
});
