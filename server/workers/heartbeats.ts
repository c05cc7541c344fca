/**
 * Worker heartbeats: every few seconds per worker, so they live in Redis (shared by all
 * server replicas) or, single-node, in this process; Postgres keeps the worker's record.
 */
import type { createClient } from "redis";

export interface HeartbeatStore {
  beat(workerId: string, at?: number): Promise<void>;
  /** Last heartbeat (ms since epoch) per worker; absent when never seen. */
  lastSeen(workerIds: string[]): Promise<Map<string, number>>;
}

export class MemoryHeartbeats implements HeartbeatStore {
  private readonly seen = new Map<string, number>();

  async beat(workerId: string, at = Date.now()) {
    this.seen.set(workerId, at);
  }

  async lastSeen(workerIds: string[]) {
    return new Map(workerIds.flatMap((id) => (this.seen.has(id) ? [[id, this.seen.get(id)!] as const] : [])));
  }
}

export class RedisHeartbeats implements HeartbeatStore {
  private readonly key: string;

  constructor(private readonly redis: ReturnType<typeof createClient>, prefix: string) {
    this.key = `${prefix}:worker-heartbeats`;
  }

  async beat(workerId: string, at = Date.now()) {
    await this.redis.hSet(this.key, workerId, String(at));
  }

  async lastSeen(workerIds: string[]) {
    if (workerIds.length === 0) return new Map<string, number>();
    const values = await this.redis.hmGet(this.key, workerIds);
    return new Map(workerIds.flatMap((id, index) => (values[index] ? [[id, Number(values[index])] as const] : [])));
  }
}
