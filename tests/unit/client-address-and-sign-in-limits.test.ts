import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { clientAddressResolver } from "../../server/auth/client-address";
import { MemoryRateLimiter, hitAll } from "../../server/auth/rate-limit";
import { bodyLimitFor, procedurePaths, DEFAULT_BODY_LIMIT } from "../../server/auth/request-limits";
import { loadServerConfig } from "../../server/config";

const request = (peer: string, forwardedFor?: string) =>
  ({
    socket: { remoteAddress: peer },
    connection: { remoteAddress: peer },
    headers: forwardedFor ? { "x-forwarded-for": forwardedFor } : {},
  }) as unknown as IncomingMessage;

describe("the client's address", () => {
  it("is the socket's peer when no proxy is trusted, whatever X-Forwarded-For says", () => {
    const address = clientAddressResolver([]);
    expect(address(request("::ffff:192.0.2.5", "203.0.113.9"))).toBe("192.0.2.5");
  });

  it("is the first untrusted hop behind the trusted proxies", () => {
    const address = clientAddressResolver(["loopback", "10.0.0.0/8"]);
    expect(address(request("127.0.0.1", "198.51.100.7, 10.1.2.3"))).toBe("198.51.100.7");
    // A client that forges the header behind the proxy only adds hops before its own address.
    expect(address(request("127.0.0.1", "1.2.3.4, 198.51.100.8"))).toBe("198.51.100.8");
    expect(address(request("192.0.2.1", "198.51.100.7"))).toBe("192.0.2.1");
  });

  it("comes from a validated list in the configuration", () => {
    const base = { SHELLROOM_WORKER_TOKEN: "x".repeat(32), SHELLROOM_WORKER_SECRET: "x".repeat(32) };
    expect(loadServerConfig({ ...base, SHELLROOM_TRUSTED_PROXIES: "loopback, 10.0.0.0/8" }).SHELLROOM_TRUSTED_PROXIES).toEqual(["loopback", "10.0.0.0/8"]);
    expect(loadServerConfig(base).SHELLROOM_TRUSTED_PROXIES).toEqual([]);
    expect(() => loadServerConfig({ ...base, SHELLROOM_TRUSTED_PROXIES: "not-an-address" })).toThrow(/SHELLROOM_TRUSTED_PROXIES/);
  });
});

describe("several limits counted together", () => {
  it("count nothing when one refuses, so a refused attempt uses no one's budget", async () => {
    const limiter = new MemoryRateLimiter();
    const tight = { name: "tight", limit: 1, windowMs: 60_000 };
    const wide = { name: "wide", limit: 100, windowMs: 60_000 };
    expect(
      (
        await hitAll(limiter, [
          [tight, "a"],
          [wide, "w"],
        ])
      ).allowed,
    ).toBe(true);
    for (let attempt = 0; attempt < 5; attempt++)
      expect(
        (
          await hitAll(limiter, [
            [tight, "a"],
            [wide, "w"],
          ])
        ).allowed,
      ).toBe(false);
    // Only the one allowed attempt is on the wide counter.
    for (let used = 1; used < 100; used++) expect((await limiter.hit(wide, "w")).allowed).toBe(true);
    expect((await limiter.hit(wide, "w")).allowed).toBe(false);
  });

  it("can give an attempt back or start a key afresh", async () => {
    const limiter = new MemoryRateLimiter();
    const rule = { name: "r", limit: 1, windowMs: 60_000 };
    await limiter.hit(rule, "k");
    await limiter.refund(rule, "k");
    expect((await limiter.hit(rule, "k")).allowed).toBe(true);
    await limiter.reset(rule, "k");
    expect((await limiter.hit(rule, "k")).allowed).toBe(true);
  });
});

describe("request body limits", () => {
  it("are the largest any procedure of a batch allows", () => {
    expect(procedurePaths("/api/trpc/auth.me,course.mine?batch=1", "/api/trpc/")).toEqual(["auth.me", "course.mine"]);
    expect(bodyLimitFor(["auth.signIn"])).toBe(DEFAULT_BODY_LIMIT);
    expect(bodyLimitFor(["auth.me", "authoring.importLab"])).toBeGreaterThan(DEFAULT_BODY_LIMIT);
  });
});
