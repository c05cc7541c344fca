/**
 * Actions on every environment of a course (extend, reset, stop all; ending the workshop)
 * run outside the request that asked for them, a bounded number at a time, so "Reset all"
 * on 200 students neither starts 200 containers at once nor holds a request open for
 * minutes. Staff with the room open see the progress as it goes; one such action runs per
 * course at a time (a claim in Redis, or in process single-node), and a second is refused.
 */
import { randomUUID } from "node:crypto";
import pLimit from "p-limit";
import type { createClient } from "redis";
import { TRPCError } from "@trpc/server";
import type { Logger } from "../../common/logger";
import type { BulkActionProgress } from "../../protocol/browser-contract";
import type { LiveRoomChannel } from "./live-room-channel";

/** Environments acted on at once by default: enough to finish a class quickly, few enough for one worker host. */
export const DEFAULT_BULK_CONCURRENCY = 8;
/** A claim lapses this long after its last progress (its server died): the course is free again. */
const CLAIM_MS = 2 * 60_000;
/** A finished action's outcome stays visible this long (a reload still shows what failed). */
const KEEP_MS = 30 * 60_000;

export type BulkKind = BulkActionProgress["kind"];
export type BulkTarget = { environmentId: string; name: string };

const VERBS: Record<BulkKind, string> = { extend: "Extending", reset: "Resetting", stop: "Stopping", end: "Ending the workshop: stopping" };

/** "Resetting 45 of 200" */
export const describeProgress = (progress: BulkActionProgress) => `${VERBS[progress.kind]} ${progress.done + progress.failed.length} of ${progress.total}`;

/** Claims on a course's one running action, and the latest action's progress. */
export interface BulkActionStore {
  /** Takes the course's claim; when another action holds it, returns that action instead. */
  claim(progress: BulkActionProgress): Promise<BulkActionProgress | null>;
  save(progress: BulkActionProgress): Promise<void>;
  release(progress: BulkActionProgress): Promise<void>;
  latest(courseId: string): Promise<BulkActionProgress | null>;
}

/** An unfinished action nobody has reported on for a claim's length: its server stopped. */
function settled(progress: BulkActionProgress | null, now = Date.now()): BulkActionProgress | null {
  if (!progress || progress.finished || now - Date.parse(progress.updatedAt) < CLAIM_MS) return progress;
  return { ...progress, inFlight: 0, finished: true, interrupted: true };
}

export class MemoryBulkActionStore implements BulkActionStore {
  private readonly claims = new Map<string, { id: string; until: number }>();
  private readonly progress = new Map<string, BulkActionProgress>();

  async claim(progress: BulkActionProgress) {
    const held = this.claims.get(progress.courseId);
    if (held && held.until > Date.now()) return settled(this.progress.get(progress.courseId) ?? null) ?? progress;
    this.claims.set(progress.courseId, { id: progress.id, until: Date.now() + CLAIM_MS });
    this.progress.set(progress.courseId, progress);
    return null;
  }

  async save(progress: BulkActionProgress) {
    this.progress.set(progress.courseId, progress);
    const held = this.claims.get(progress.courseId);
    if (held?.id === progress.id) held.until = Date.now() + CLAIM_MS;
  }

  async release(progress: BulkActionProgress) {
    if (this.claims.get(progress.courseId)?.id === progress.id) this.claims.delete(progress.courseId);
  }

  async latest(courseId: string) {
    const progress = this.progress.get(courseId) ?? null;
    if (progress && Date.now() - Date.parse(progress.updatedAt) > KEEP_MS) {
      this.progress.delete(courseId);
      return null;
    }
    return settled(progress);
  }
}

/** Deletes the claim only if it is still this action's (it may have lapsed and been taken since). */
const RELEASE_SCRIPT = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

export class RedisBulkActionStore implements BulkActionStore {
  constructor(
    private readonly redis: ReturnType<typeof createClient>,
    private readonly prefix: string,
  ) {}

  private claimKey = (courseId: string) => `${this.prefix}:bulk-claim:${courseId}`;
  private progressKey = (courseId: string) => `${this.prefix}:bulk-progress:${courseId}`;

  async claim(progress: BulkActionProgress) {
    const taken = await this.redis.set(this.claimKey(progress.courseId), progress.id, { condition: "NX", expiration: { type: "PX", value: CLAIM_MS } });
    if (taken !== "OK") return (await this.latest(progress.courseId)) ?? progress;
    await this.save(progress);
    return null;
  }

  async save(progress: BulkActionProgress) {
    await this.redis
      .multi()
      .set(this.progressKey(progress.courseId), JSON.stringify(progress), { expiration: { type: "PX", value: KEEP_MS } })
      .pExpire(this.claimKey(progress.courseId), CLAIM_MS)
      .exec();
  }

  async release(progress: BulkActionProgress) {
    await this.redis.eval(RELEASE_SCRIPT, { keys: [this.claimKey(progress.courseId)], arguments: [progress.id] });
  }

  async latest(courseId: string) {
    const value = await this.redis.get(this.progressKey(courseId));
    return settled(value ? (JSON.parse(value) as BulkActionProgress) : null);
  }
}

export class BulkActions {
  constructor(
    private readonly store: BulkActionStore,
    private readonly live: Pick<LiveRoomChannel, "changed" | "bulkProgress">,
    private readonly log: Logger,
    private readonly concurrency = DEFAULT_BULK_CONCURRENCY,
  ) {}

  latest(courseId: string) {
    return this.store.latest(courseId);
  }

  /**
   * Claims the course, lists the targets (`prepare` may change things first, e.g. end the
   * workshop, once the claim is held), and returns at once; `act` runs on each target a
   * bounded number at a time, and `after` once all are done. Refused with CONFLICT while
   * another action runs in the course.
   */
  async begin<T extends BulkTarget>(
    courseId: string,
    kind: BulkKind,
    options: {
      prepare: () => Promise<T[]>;
      act: (target: T) => Promise<unknown>;
      after?: (progress: BulkActionProgress) => Promise<unknown>;
    },
  ): Promise<BulkActionProgress> {
    const now = new Date().toISOString();
    const progress: BulkActionProgress = {
      id: randomUUID(),
      courseId,
      kind,
      total: 0,
      done: 0,
      failed: [],
      inFlight: 0,
      finished: false,
      interrupted: false,
      startedAt: now,
      updatedAt: now,
    };
    const running = await this.store.claim(progress);
    if (running) {
      throw new TRPCError({ code: "CONFLICT", message: `${describeProgress(running)} is still going: wait for it to finish, then try again.` });
    }
    let targets: T[];
    try {
      targets = await options.prepare();
    } catch (error) {
      await this.store.release(progress);
      throw error;
    }
    progress.total = targets.length;
    await this.report(progress);
    void this.run(progress, targets, options);
    return { ...progress };
  }

  private async run<T extends BulkTarget>(
    progress: BulkActionProgress,
    targets: T[],
    options: {
      act: (target: T) => Promise<unknown>;
      after?: (progress: BulkActionProgress) => Promise<unknown>;
    },
  ) {
    const log = this.log.child({ courseId: progress.courseId, bulkActionId: progress.id, kind: progress.kind });
    log.info({ total: progress.total }, "bulk action started");
    const limit = pLimit(this.concurrency);
    // Reports are saved one after another, so the stored progress never goes backwards.
    let reports = Promise.resolve();
    const queueReport = () => {
      const snapshot = { ...progress, failed: [...progress.failed] };
      reports = reports.then(() => this.report(snapshot)).catch((error: Error) => log.error({ err: error.message }, "could not report progress"));
    };
    await Promise.all(
      targets.map((target) =>
        limit(async () => {
          progress.inFlight += 1;
          try {
            await options.act(target);
            progress.done += 1;
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            progress.failed.push({ environmentId: target.environmentId, name: target.name, error: message.slice(0, 300) });
            log.warn({ environmentId: target.environmentId, err: message }, "bulk action failed for one environment");
          } finally {
            progress.inFlight -= 1;
            queueReport();
          }
        }),
      ),
    );
    await options.after?.(progress).catch((error: Error) => log.error({ err: error.message }, "bulk action's last step failed"));
    progress.finished = true;
    progress.updatedAt = new Date().toISOString();
    await reports;
    // Released before staff hear it finished: whoever reacts by starting the next one gets the course.
    await this.store.save(progress).catch((error: Error) => log.error({ err: error.message }, "could not report progress"));
    await this.store.release(progress).catch((error: Error) => log.error({ err: error.message }, "could not release the course's bulk claim"));
    this.live.bulkProgress(progress);
    this.live.changed(progress.courseId);
    log.info({ done: progress.done, failed: progress.failed.length }, "bulk action finished");
  }

  private async report(progress: BulkActionProgress) {
    progress.updatedAt = new Date().toISOString();
    await this.store.save(progress);
    this.live.bulkProgress(progress);
  }
}
