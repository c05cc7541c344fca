/**
 * Worker heartbeats: every few seconds per worker, so they live in Redis (shared by all
 * server replicas) or, single-node, in this process; Postgres keeps the worker's record.
 * A beat carries the host's memory too (placement's reality check): kept beside its time,
 * replaced by each beat (a beat without it forgets the last one, rather than trust it forever).
 * It carries each warm pool's ready containers too (a class's preparation progress).
 */
import type { createClient } from "redis";
import { HostMemory, PoolReadiness } from "../../protocol/worker-messages";

export interface HeartbeatStore {
  /** `pools`: ready containers per pool key, when the beat carried them (kept until the next such beat). */
  beat(workerId: string, at?: number, memory?: HostMemory, pools?: PoolReadiness[]): Promise<void>;
  /** Last heartbeat (ms since epoch) per worker; absent when never seen. */
  lastSeen(workerIds: string[]): Promise<Map<string, number>>;
  /** The host memory each worker reported with its last beat; absent when it reported none. */
  memory(workerIds: string[]): Promise<Map<string, HostMemory>>;
  /** Ready pooled containers per pool key, per worker, as last reported. */
  pools(workerIds: string[]): Promise<Map<string, Map<string, number>>>;
}

const readinessMap = (pools: PoolReadiness[]) => new Map(pools.map((pool) => [pool.key, pool.ready]));

export class MemoryHeartbeats implements HeartbeatStore {
  private readonly seen = new Map<string, number>();
  private readonly reported = new Map<string, HostMemory>();
  private readonly pooled = new Map<string, Map<string, number>>();

  async beat(workerId: string, at = Date.now(), memory?: HostMemory, pools?: PoolReadiness[]) {
    this.seen.set(workerId, at);
    if (pools) this.pooled.set(workerId, readinessMap(pools));
    if (memory) this.reported.set(workerId, memory);
    else this.reported.delete(workerId);
  }

  async lastSeen(workerIds: string[]) {
    return new Map(workerIds.flatMap((id) => (this.seen.has(id) ? [[id, this.seen.get(id)!] as const] : [])));
  }

  async memory(workerIds: string[]) {
    return new Map(workerIds.flatMap((id) => (this.reported.has(id) ? [[id, this.reported.get(id)!] as const] : [])));
  }

  async pools(workerIds: string[]) {
    return new Map(workerIds.flatMap((id) => (this.pooled.has(id) ? [[id, this.pooled.get(id)!] as const] : [])));
  }
}

export class RedisHeartbeats implements HeartbeatStore {
  private readonly key: string;
  private readonly memoryKey: string;
  private readonly poolsKey: string;

  constructor(
    private readonly redis: ReturnType<typeof createClient>,
    prefix: string,
  ) {
    this.key = `${prefix}:worker-heartbeats`;
    this.memoryKey = `${prefix}:worker-memory`;
    this.poolsKey = `${prefix}:worker-pools`;
  }

  async beat(workerId: string, at = Date.now(), memory?: HostMemory, pools?: PoolReadiness[]) {
    await this.redis.hSet(this.key, workerId, String(at));
    if (pools) await this.redis.hSet(this.poolsKey, workerId, JSON.stringify(pools));
    if (memory) await this.redis.hSet(this.memoryKey, workerId, JSON.stringify(memory));
    else await this.redis.hDel(this.memoryKey, workerId);
  }

  async lastSeen(workerIds: string[]) {
    if (workerIds.length === 0) return new Map<string, number>();
    const values = await this.redis.hmGet(this.key, workerIds);
    return new Map(workerIds.flatMap((id, index) => (values[index] ? [[id, Number(values[index])] as const] : [])));
  }

  async memory(workerIds: string[]) {
    if (workerIds.length === 0) return new Map<string, HostMemory>();
    const values = await this.redis.hmGet(this.memoryKey, workerIds);
    return new Map(
      workerIds.flatMap((id, index) => {
        // Parsed again: Redis is shared, and a malformed entry must not reach placement.
        const parsed = values[index] ? HostMemory.safeParse(parseJson(values[index]!)) : null;
        return parsed?.success ? [[id, parsed.data] as const] : [];
      }),
    );
  }

  async pools(workerIds: string[]) {
    if (workerIds.length === 0) return new Map<string, Map<string, number>>();
    const values = await this.redis.hmGet(this.poolsKey, workerIds);
    return new Map(
      workerIds.flatMap((id, index) => {
        const parsed = values[index] ? PoolReadiness.array().safeParse(parseJson(values[index]!)) : null;
        return parsed?.success ? [[id, readinessMap(parsed.data)] as const] : [];
      }),
    );
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
