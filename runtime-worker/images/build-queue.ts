/**
 * Image builds on one worker run one after another (SHELLROOM_BUILD_CONCURRENCY at a time,
 * default 1): a build is heavy on the host, and a class's images must not all build at once.
 * Each queued or running build can be stopped by its id (the server gave up on it, or the
 * connection its reply would travel on is gone).
 */
import pLimit from "p-limit";
import { z } from "zod";

/** SHELLROOM_BUILD_CONCURRENCY (the worker's boot schema checks it too). */
export const BuildConcurrency = z.coerce.number().int().min(1).max(16).default(1);

export class BuildQueue {
  private readonly limit;
  private readonly builds = new Map<string, AbortController>();

  constructor(concurrency = BuildConcurrency.parse(process.env.SHELLROOM_BUILD_CONCURRENCY || undefined)) {
    this.limit = pLimit(concurrency);
  }

  /** Runs `build` when a slot is free; `queued` is told how many builds are ahead when it has to wait. */
  async run(buildId: string, build: (signal: AbortSignal) => Promise<void>, queued?: (ahead: number) => void): Promise<void> {
    if (this.builds.has(buildId)) throw new Error(`Build ${buildId} is already queued or running on this worker.`);
    const controller = new AbortController();
    this.builds.set(buildId, controller);
    const ahead = this.limit.activeCount + this.limit.pendingCount;
    if (ahead >= this.limit.concurrency) queued?.(ahead);
    try {
      await this.limit(async () => {
        controller.signal.throwIfAborted();
        await build(controller.signal);
      });
    } catch (error) {
      if (controller.signal.aborted && !(error instanceof Error && error.name === "BuildFailedError")) {
        throw new Error(`The build was stopped: ${String(controller.signal.reason)}`, { cause: error });
      }
      throw error;
    } finally {
      this.builds.delete(buildId);
    }
  }

  cancel(buildId: string, reason: string) {
    this.builds.get(buildId)?.abort(reason);
  }

  cancelAll(reason: string) {
    for (const controller of this.builds.values()) controller.abort(reason);
  }

  get size() {
    return this.builds.size;
  }
}
