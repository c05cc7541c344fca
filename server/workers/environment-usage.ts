/**
 * CPU and memory per running environment, as workers report them with each heartbeat.
 * Like heartbeats they change every few seconds, so they live in Redis (shared by all
 * replicas) or, single-node, in this process; a figure older than STALE_MS is dropped.
 */
import type { createClient } from "redis";
import type { EnvironmentUsage } from "../../protocol/worker-messages";

const STALE_MS = 30_000;

export type UsageReading = EnvironmentUsage & { at: number };

export interface UsageStore {
  record(usage: Record<string, EnvironmentUsage>, at?: number): Promise<void>;
  /** The latest fresh reading per environment; absent when none is fresh. */
  read(environmentIds: string[]): Promise<Map<string, UsageReading>>;
}

const fresh = (reading: UsageReading | undefined, now: number) => reading !== undefined && now - reading.at < STALE_MS;

export class MemoryUsageStore implements UsageStore {
  private readonly readings = new Map<string, UsageReading>();

  async record(usage: Record<string, EnvironmentUsage>, at = Date.now()) {
    // Environments that stopped stop reporting: their readings go once stale, so the map stays bounded.
    for (const [environmentId, reading] of this.readings) if (!fresh(reading, at)) this.readings.delete(environmentId);
    for (const [environmentId, reading] of Object.entries(usage)) this.readings.set(environmentId, { ...reading, at });
  }

  async read(environmentIds: string[]) {
    const now = Date.now();
    return new Map(environmentIds.flatMap((id) => {
      const reading = this.readings.get(id);
      return fresh(reading, now) ? [[id, reading!] as const] : [];
    }));
  }
}

export class RedisUsageStore implements UsageStore {
  constructor(private readonly redis: ReturnType<typeof createClient>, private readonly prefix: string) {}

  private keyOf(environmentId: string) {
    return `${this.prefix}:environment-usage:${environmentId}`;
  }

  async record(usage: Record<string, EnvironmentUsage>, at = Date.now()) {
    const entries = Object.entries(usage);
    if (entries.length === 0) return;
    // One key per environment that expires with its freshness: stopped environments leave nothing behind.
    const batch = this.redis.multi();
    for (const [id, reading] of entries) batch.set(this.keyOf(id), JSON.stringify({ ...reading, at }), { expiration: { type: "PX", value: STALE_MS } });
    await batch.exec();
  }

  async read(environmentIds: string[]) {
    if (environmentIds.length === 0) return new Map<string, UsageReading>();
    const values = await this.redis.mGet(environmentIds.map((id) => this.keyOf(id)));
    const now = Date.now();
    return new Map(environmentIds.flatMap((id, index) => {
      const value = values[index];
      if (!value) return [];
      const reading = JSON.parse(value) as UsageReading;
      return fresh(reading, now) ? [[id, reading] as const] : [];
    }));
  }
}
