/** /metrics answers a scraper with the token, or without one only this machine. */
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { metricsAccess } from "../../server/auth/metrics-access";
import { loadServerConfig } from "../../server/config";

const TOKEN = "scrape-me-please-0123456789";
const request = (peer: string, headers: Record<string, string> = {}) => ({ socket: { remoteAddress: peer }, headers }) as unknown as IncomingMessage;

describe("with SHELLROOM_METRICS_TOKEN set", () => {
  const access = metricsAccess(TOKEN);

  it("answers the bearer token from any address", () => {
    expect(access(request("203.0.113.9", { authorization: `Bearer ${TOKEN}` }))).toEqual({ allowed: true });
    expect(access(request("127.0.0.1", { authorization: `bearer ${TOKEN}` }))).toEqual({ allowed: true });
  });

  it("refuses a missing, wrong or differently-schemed token with 401, this machine included", () => {
    for (const headers of [
      {},
      { authorization: "Bearer wrong-token-0123456789" },
      { authorization: `Basic ${TOKEN}` },
      { authorization: `Bearer ${TOKEN}x` },
    ] as Record<string, string>[]) {
      const decision = access(request("127.0.0.1", headers));
      expect(decision).toMatchObject({ allowed: false, status: 401, headers: { "www-authenticate": 'Bearer realm="metrics"' } });
    }
  });
});

describe("without a token", () => {
  const access = metricsAccess(undefined);

  it("answers loopback peers", () => {
    for (const peer of ["127.0.0.1", "::1", "::ffff:127.0.0.1"]) expect(access(request(peer))).toEqual({ allowed: true });
  });

  it("refuses any other peer with 403 and says how to scrape from elsewhere", () => {
    const decision = access(request("192.0.2.5"));
    expect(decision).toMatchObject({ allowed: false, status: 403 });
    expect(decision.allowed || decision.message).toMatch(/SHELLROOM_METRICS_TOKEN/);
  });

  it("refuses what a proxy on this machine forwarded, whoever it names", () => {
    for (const headers of [{ "x-forwarded-for": "127.0.0.1" }, { forwarded: "for=198.51.100.7" }, { "x-real-ip": "198.51.100.7" }] as Record<
      string,
      string
    >[]) {
      expect(access(request("127.0.0.1", headers))).toMatchObject({ allowed: false, status: 403 });
    }
  });
});

describe("the token in the configuration", () => {
  const base = { SHELLROOM_WORKER_SECRET: "x".repeat(32) };
  it("is optional, and refused when too short to be a secret", () => {
    expect(loadServerConfig(base).SHELLROOM_METRICS_TOKEN).toBeUndefined();
    expect(loadServerConfig({ ...base, SHELLROOM_METRICS_TOKEN: TOKEN }).SHELLROOM_METRICS_TOKEN).toBe(TOKEN);
    expect(() => loadServerConfig({ ...base, SHELLROOM_METRICS_TOKEN: "short" })).toThrow(/SHELLROOM_METRICS_TOKEN/);
  });
});
