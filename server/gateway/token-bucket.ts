/**
 * A token bucket: `capacity` tokens, refilled at `perSecond`. Used per socket to rate-limit
 * what costs the worker real work (attach, resize, repaint) and input bytes. In memory: a
 * socket lives on one replica, so its buckets do too.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = capacity;
    this.updatedAt = now();
  }

  /** Takes `cost` tokens if there are that many; false (and nothing taken) otherwise. */
  take(cost = 1): boolean {
    this.refill();
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }

  /** Milliseconds until `cost` tokens are there (0 when they are now). */
  waitFor(cost = 1): number {
    this.refill();
    return this.tokens >= cost ? 0 : Math.ceil(((cost - this.tokens) / this.perSecond) * 1000);
  }

  private refill() {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.updatedAt) / 1000) * this.perSecond);
    this.updatedAt = now;
  }
}
