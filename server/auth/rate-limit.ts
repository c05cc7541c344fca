/**
 * Fixed-window rate limits for sign-in and join. With Redis the count is shared by every
 * server replica; single-node keeps it in process.
 */
import type { createClient } from "redis";

export interface RateLimitRule {
  /** What is limited, e.g. "sign-in:email"; the key is appended to it. */
  name: string;
  limit: number;
  windowMs: number;
}

export interface RateLimitResult {
  allowed: boolean;
  retryAfterMs: number;
}

export interface RateLimiter {
  hit(rule: RateLimitRule, key: string): Promise<RateLimitResult>;
}

export const SIGN_IN_PER_EMAIL: RateLimitRule = { name: "sign-in:email", limit: 10, windowMs: 10 * 60_000 };
export const SIGN_IN_PER_ADDRESS: RateLimitRule = { name: "sign-in:ip", limit: 50, windowMs: 10 * 60_000 };
export const JOIN_PER_ADDRESS: RateLimitRule = { name: "join:ip", limit: 200, windowMs: 10 * 60_000 };
export const SIGN_UP_PER_ADDRESS: RateLimitRule = { name: "sign-up:ip", limit: 20, windowMs: 60 * 60_000 };

export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  async hit(rule: RateLimitRule, key: string): Promise<RateLimitResult> {
    const now = Date.now();
    const id = `${rule.name}:${key}`;
    let window = this.windows.get(id);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + rule.windowMs };
      this.windows.set(id, window);
      if (this.windows.size > 100_000) this.evictExpired(now);
    }
    window.count += 1;
    return { allowed: window.count <= rule.limit, retryAfterMs: window.resetAt - now };
  }

  private evictExpired(now: number) {
    for (const [id, window] of this.windows) if (window.resetAt <= now) this.windows.delete(id);
  }
}

type RedisClient = ReturnType<typeof createClient>;

export class RedisRateLimiter implements RateLimiter {
  constructor(private readonly redis: RedisClient, private readonly prefix: string) {}

  async hit(rule: RateLimitRule, key: string): Promise<RateLimitResult> {
    const id = `${this.prefix}:rate:${rule.name}:${key}`;
    const [count, ttl] = (await this.redis.multi()
      .incr(id)
      .pExpire(id, rule.windowMs, "NX")
      .pTTL(id)
      .exec()) as unknown as [number, number, number];
    return { allowed: Number(count) <= rule.limit, retryAfterMs: Math.max(0, Number(ttl)) };
  }
}
