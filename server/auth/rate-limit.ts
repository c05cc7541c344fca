/**
 * Fixed-window rate limits for sign-in and join, keyed on the client's IP (see
 * client-address.ts) and, for sign-in, the account. With Redis the count is shared by
 * every server replica; single-node keeps it in process.
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
  /** Counts one use of `key` and says whether it is within the rule. */
  hit(rule: RateLimitRule, key: string): Promise<RateLimitResult>;
  /** Takes one use back (an attempt that turned out not to count). */
  refund(rule: RateLimitRule, key: string): Promise<void>;
  reset(rule: RateLimitRule, key: string): Promise<void>;
}

/*
 * Sign-in counts only failures (a success gives its attempt back), so a class signing in
 * at once never trips anything. The tight limit is per account *and* address: a stranger
 * guessing from elsewhere cannot lock the owner out. The two wide limits stop guessing
 * spread over many addresses (per account: only ten addresses' worth of failures) and
 * spraying many accounts from one (per address: loose enough for a classroom behind one
 * NAT, where fifty typos must not lock everyone out).
 */
export const SIGN_IN_FAILURES_PER_ACCOUNT_AND_ADDRESS: RateLimitRule = { name: "sign-in:email+ip", limit: 10, windowMs: 10 * 60_000 };
export const SIGN_IN_FAILURES_PER_ACCOUNT: RateLimitRule = { name: "sign-in:email", limit: 100, windowMs: 10 * 60_000 };
export const SIGN_IN_FAILURES_PER_ADDRESS: RateLimitRule = { name: "sign-in:ip", limit: 300, windowMs: 10 * 60_000 };
export const JOIN_PER_ADDRESS: RateLimitRule = { name: "join:ip", limit: 200, windowMs: 10 * 60_000 };
/** A class creating accounts behind one NAT stays well inside this. */
export const SIGN_UP_PER_ADDRESS: RateLimitRule = { name: "sign-up:ip", limit: 200, windowMs: 60 * 60_000 };
/** Reset mails: a few per account (no inbox flooding), more per address (a class forgetting at once). */
export const RESET_MAILS_PER_ACCOUNT: RateLimitRule = { name: "reset-mail:email", limit: 3, windowMs: 60 * 60_000 };
export const RESET_MAILS_PER_ADDRESS: RateLimitRule = { name: "reset-mail:ip", limit: 50, windowMs: 60 * 60_000 };
/** Uses of reset links: tokens are unguessable, this only stops hammering. */
export const RESET_ATTEMPTS_PER_ADDRESS: RateLimitRule = { name: "reset:ip", limit: 50, windowMs: 10 * 60_000 };

/**
 * Counts one use against every (rule, key) in order; if one refuses, the uses already
 * counted are given back, so a refused attempt costs nothing but its own refusal.
 */
export async function hitAll(limiter: RateLimiter, limits: ReadonlyArray<readonly [RateLimitRule, string]>): Promise<RateLimitResult> {
  for (const [index, [rule, key]] of limits.entries()) {
    const result = await limiter.hit(rule, key);
    if (!result.allowed) {
      await Promise.all(limits.slice(0, index + 1).map(([counted, countedKey]) => limiter.refund(counted, countedKey)));
      return result;
    }
  }
  return { allowed: true, retryAfterMs: 0 };
}

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

  async refund(rule: RateLimitRule, key: string) {
    const window = this.windows.get(`${rule.name}:${key}`);
    if (window && window.count > 0) window.count -= 1;
  }

  async reset(rule: RateLimitRule, key: string) {
    this.windows.delete(`${rule.name}:${key}`);
  }

  private evictExpired(now: number) {
    for (const [id, window] of this.windows) if (window.resetAt <= now) this.windows.delete(id);
  }
}

type RedisClient = ReturnType<typeof createClient>;

export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  async hit(rule: RateLimitRule, key: string): Promise<RateLimitResult> {
    const id = `${this.prefix}:rate:${rule.name}:${key}`;
    const [count, ttl] = (await this.redis.multi().incr(id).pExpire(id, rule.windowMs, "NX").pTTL(id).exec()) as unknown as [number, number, number];
    return { allowed: Number(count) <= rule.limit, retryAfterMs: Math.max(0, Number(ttl)) };
  }

  async refund(rule: RateLimitRule, key: string) {
    const id = `${this.prefix}:rate:${rule.name}:${key}`;
    // A key that expired meanwhile comes back at -1 with the window's TTL: one spare use, no leak.
    await this.redis.multi().decr(id).pExpire(id, rule.windowMs, "NX").exec();
  }

  async reset(rule: RateLimitRule, key: string) {
    await this.redis.del(`${this.prefix}:rate:${rule.name}:${key}`);
  }
}
