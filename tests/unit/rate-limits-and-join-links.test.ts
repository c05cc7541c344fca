import { describe, expect, it } from "vitest";
import { MemoryRateLimiter } from "../../server/auth/rate-limit";
import { generateJoinCode, joinStatus } from "../../server/courses/join-codes";

describe("the in-process rate limiter", () => {
  it("allows `limit` hits per key per window, then refuses with the time left", async () => {
    const limiter = new MemoryRateLimiter();
    const rule = { name: "test", limit: 3, windowMs: 60_000 };
    const results = [];
    for (let hit = 0; hit < 4; hit++) results.push(await limiter.hit(rule, "a@example.test"));
    expect(results.map((result) => result.allowed)).toEqual([true, true, true, false]);
    expect(results[3]!.retryAfterMs).toBeGreaterThan(59_000);
    expect((await limiter.hit(rule, "b@example.test")).allowed).toBe(true);
  });

  it("opens again when the window has passed", async () => {
    const limiter = new MemoryRateLimiter();
    const rule = { name: "short", limit: 1, windowMs: 20 };
    expect((await limiter.hit(rule, "k")).allowed).toBe(true);
    expect((await limiter.hit(rule, "k")).allowed).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect((await limiter.hit(rule, "k")).allowed).toBe(true);
  });
});

describe("join links", () => {
  it("have unguessable codes of 64 random bits", () => {
    const codes = new Set(Array.from({ length: 200 }, generateJoinCode));
    expect(codes.size).toBe(200);
    for (const code of codes) expect(code).toMatch(/^[a-z2-7]{4}-[a-z2-7]{9}$/);
  });

  it("are refused when off, expired or full, in that order of precedence", () => {
    const now = new Date("2026-01-01T12:00:00Z");
    const open = { joinEnabled: true, joinExpiresAt: null, joinSeatLimit: null };
    expect(joinStatus(open, 500, now)).toBe("open");
    expect(joinStatus({ ...open, joinEnabled: false, joinExpiresAt: new Date("2025-01-01") }, 0, now)).toBe("disabled");
    expect(joinStatus({ ...open, joinExpiresAt: now }, 0, now)).toBe("expired");
    expect(joinStatus({ ...open, joinExpiresAt: new Date("2026-01-02") }, 0, now)).toBe("open");
    expect(joinStatus({ ...open, joinSeatLimit: 30 }, 29, now)).toBe("open");
    expect(joinStatus({ ...open, joinSeatLimit: 30 }, 30, now)).toBe("full");
  });
});
