/**
 * The bounds on a preview, like the terminal's: requests per person, tunnels open at once per
 * person, bytes per request body, and a byte rate each way (a burst, then a steady pace that
 * slows the sender through backpressure instead of dropping anything).
 */
import { Transform, type TransformCallback } from "node:stream";
import type { RateLimitRule } from "../auth/rate-limit";

/** Requests (and websocket opens) per person: a page with many assets loads well within it. */
export const PREVIEW_REQUESTS_PER_USER: RateLimitRule = { name: "preview:user", limit: 1200, windowMs: 60_000 };
/** Tunnels one person holds open at once on this replica (browsers open about six per host). */
export const PREVIEW_TUNNELS_PER_USER = 24;
/** A request body (a form, an upload) is at most this. */
export const PREVIEW_BODY_BYTES = 16 * 1024 * 1024;
/** Each direction of a tunnel: this much at full speed, then PREVIEW_BYTES_PER_SECOND. */
export const PREVIEW_BURST_BYTES = 8 * 1024 * 1024;
export const PREVIEW_BYTES_PER_SECOND = 2 * 1024 * 1024;

/** A token bucket as a stream: past its burst, each chunk waits for the bytes it spends. */
export class ByteRate extends Transform {
  private tokens: number;
  private updatedAt = Date.now();

  constructor(
    private readonly burst = PREVIEW_BURST_BYTES,
    private readonly perSecond = PREVIEW_BYTES_PER_SECOND,
    /** Past this in all, the stream fails (a body too large). */
    private readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {
    super();
    this.tokens = burst;
  }

  private total = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
    this.total += chunk.length;
    if (this.total > this.maxBytes) return done(new Error(`more than ${this.maxBytes} bytes`));
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.perSecond);
    this.updatedAt = now;
    this.tokens -= chunk.length;
    if (this.tokens >= 0) return done(null, chunk);
    const waitMs = Math.ceil((-this.tokens / this.perSecond) * 1000);
    setTimeout(() => done(null, chunk), waitMs).unref?.();
  }
}

/** Tunnels open per person (this replica's count; the request rate above is shared). */
export class TunnelCount {
  private readonly open = new Map<string, number>();

  /** Takes a place for `userId`; false when they hold as many as they may. */
  take(userId: string): boolean {
    const held = this.open.get(userId) ?? 0;
    if (held >= PREVIEW_TUNNELS_PER_USER) return false;
    this.open.set(userId, held + 1);
    return true;
  }

  give(userId: string) {
    const held = (this.open.get(userId) ?? 1) - 1;
    if (held <= 0) this.open.delete(userId);
    else this.open.set(userId, held);
  }
}
