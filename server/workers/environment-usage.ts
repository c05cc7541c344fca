/**
 * CPU, memory and processes per running environment, as workers report them with each
 * heartbeat. Like heartbeats they change every few seconds, so they live in Redis (shared
 * by all replicas) or, single-node, in this process; a figure older than STALE_MS is dropped.
 *
 * The store also decides runaways: an environment whose consecutive readings sit at its
 * pids limit (a fork bomb) or CPU limit for long enough is flagged. A worker reports to one
 * replica, so one replica updates an environment's streak at a time.
 */
import type { createClient } from "redis";
import type { EnvironmentUsage } from "../../protocol/worker-messages";

const STALE_MS = 30_000;
/** "At the limit" leaves a little room: a fork bomb's processes die and respawn around it. */
const AT_LIMIT_SHARE = 0.9;

export type RunawayReason = "pids" | "cpu";

export interface RunawayPolicy {
  /** At the pids limit this long (and `minSamples` readings in a row): a runaway. */
  pidsAfterMs: number;
  /** At the CPU limit this long: a runaway (longer: a compile legitimately saturates a core). */
  cpuAfterMs: number;
  minSamples: number;
  /** A runaway this long is stopped (files kept) so an unattended one does not load the host for hours; 0: never. */
  stopAfterMs: number;
}

export const DEFAULT_RUNAWAY_POLICY: RunawayPolicy = { pidsAfterMs: 20_000, cpuAfterMs: 5 * 60_000, minSamples: 3, stopAfterMs: 15 * 60_000 };

/** Consecutive readings at a limit: since when, how many, and whether that made it a runaway. */
export type LimitStreak = { reason: RunawayReason; since: number; samples: number; runaway: boolean; overdue: boolean };

export type UsageReading = EnvironmentUsage & { at: number; streak: LimitStreak | null };

/** What a recording changed: a runaway began, ended, or has now gone on past `stopAfterMs`. */
export type RunawayChange = { environmentId: string; change: "flagged" | "cleared" | "overdue"; reason: RunawayReason; since: number };

export interface UsageStore {
  /** Records readings and returns the runaway flags they raised or cleared. */
  record(usage: Record<string, EnvironmentUsage>, at?: number): Promise<RunawayChange[]>;
  /** The latest fresh reading per environment; absent when none is fresh. */
  read(environmentIds: string[]): Promise<Map<string, UsageReading>>;
  /** Forgets an environment's readings (its processes were just ended: the flag goes at once). */
  forget(environmentId: string): Promise<void>;
}

const fresh = (reading: UsageReading | undefined, now: number): reading is UsageReading => reading !== undefined && now - reading.at < STALE_MS;

function limitReached(usage: EnvironmentUsage): RunawayReason | null {
  if (usage.pidsLimit > 0 && usage.pids >= usage.pidsLimit * AT_LIMIT_SHARE) return "pids";
  if (usage.cpuLimitPercent > 0 && usage.cpuPercent >= usage.cpuLimitPercent * AT_LIMIT_SHARE) return "cpu";
  return null;
}

/** The next reading of an environment given its previous one, and what changed. */
export function nextReading(
  previous: UsageReading | undefined,
  usage: EnvironmentUsage,
  at: number,
  policy: RunawayPolicy,
): { reading: UsageReading; change: RunawayChange["change"] | null } {
  const reached = limitReached(usage);
  const before = previous && fresh(previous, at) ? previous.streak : null;
  if (!reached) return { reading: { ...usage, at, streak: null }, change: before?.runaway ? "cleared" : null };
  // A streak that was ever at the pids limit stays a pids streak (a fork bomb also saturates CPU).
  const reason: RunawayReason = before?.reason === "pids" ? "pids" : reached;
  const since = before?.since ?? at;
  const samples = (before?.samples ?? 0) + 1;
  const afterMs = reason === "pids" ? policy.pidsAfterMs : policy.cpuAfterMs;
  const runaway = before?.runaway || (samples >= policy.minSamples && at - since >= afterMs);
  const overdue = runaway && policy.stopAfterMs > 0 && at - since >= policy.stopAfterMs;
  const change = runaway && !before?.runaway ? "flagged" : overdue && !before?.overdue ? "overdue" : null;
  return { reading: { ...usage, at, streak: { reason, since, samples, runaway, overdue } }, change };
}

function advance(previous: Map<string, UsageReading>, usage: Record<string, EnvironmentUsage>, at: number, policy: RunawayPolicy) {
  const readings = new Map<string, UsageReading>();
  const changes: RunawayChange[] = [];
  for (const [environmentId, reported] of Object.entries(usage)) {
    const { reading, change } = nextReading(previous.get(environmentId), reported, at, policy);
    readings.set(environmentId, reading);
    const streak = reading.streak ?? previous.get(environmentId)?.streak;
    if (change && streak) changes.push({ environmentId, change, reason: streak.reason, since: streak.since });
  }
  return { readings, changes };
}

export class MemoryUsageStore implements UsageStore {
  private readonly readings = new Map<string, UsageReading>();

  constructor(private readonly policy: RunawayPolicy = DEFAULT_RUNAWAY_POLICY) {}

  async record(usage: Record<string, EnvironmentUsage>, at = Date.now()) {
    // Environments that stopped stop reporting: their readings go once stale, so the map stays bounded.
    for (const [environmentId, reading] of this.readings) if (!fresh(reading, at)) this.readings.delete(environmentId);
    const { readings, changes } = advance(this.readings, usage, at, this.policy);
    for (const [environmentId, reading] of readings) this.readings.set(environmentId, reading);
    return changes;
  }

  async read(environmentIds: string[]) {
    const now = Date.now();
    return new Map(
      environmentIds.flatMap((id) => {
        const reading = this.readings.get(id);
        return fresh(reading, now) ? [[id, reading] as const] : [];
      }),
    );
  }

  async forget(environmentId: string) {
    this.readings.delete(environmentId);
  }
}

export class RedisUsageStore implements UsageStore {
  constructor(
    private readonly redis: ReturnType<typeof createClient>,
    private readonly prefix: string,
    private readonly policy: RunawayPolicy = DEFAULT_RUNAWAY_POLICY,
  ) {}

  private keyOf(environmentId: string) {
    return `${this.prefix}:environment-usage:${environmentId}`;
  }

  async record(usage: Record<string, EnvironmentUsage>, at = Date.now()) {
    const ids = Object.keys(usage);
    if (ids.length === 0) return [];
    const { readings, changes } = advance(await this.readAt(ids, at), usage, at, this.policy);
    // One key per environment that expires with its freshness: stopped environments leave nothing behind.
    const batch = this.redis.multi();
    for (const [id, reading] of readings) batch.set(this.keyOf(id), JSON.stringify(reading), { expiration: { type: "PX", value: STALE_MS } });
    await batch.exec();
    return changes;
  }

  read(environmentIds: string[]) {
    return this.readAt(environmentIds, Date.now());
  }

  async forget(environmentId: string) {
    await this.redis.del(this.keyOf(environmentId));
  }

  private async readAt(environmentIds: string[], now: number) {
    if (environmentIds.length === 0) return new Map<string, UsageReading>();
    const values = await this.redis.mGet(environmentIds.map((id) => this.keyOf(id)));
    return new Map(
      environmentIds.flatMap((id, index) => {
        const value = values[index];
        if (!value) return [];
        const reading = JSON.parse(value) as UsageReading;
        return fresh(reading, now) ? [[id, reading] as const] : [];
      }),
    );
  }
}
