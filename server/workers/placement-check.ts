/**
 * What a worker may report on: the environments placed on it (their record names it) and the
 * builds in progress (every live worker builds each image). Answers are cached briefly per
 * connection, so terminal output, which flows in many small chunks, costs no query per chunk.
 */
import type { Database } from "../database/client";

/** A placement rarely changes (a new placement is recorded before the worker is asked). */
const PLACED_FOR_MS = 30_000;
/** A refusal is remembered less long: a start may be recording its placement right now. */
const REFUSED_FOR_MS = 3_000;
/** Bounded: a worker reporting on endless ids cannot grow the cache without limit. */
const MAX_ENTRIES = 10_000;

type Entry = { answer: Promise<boolean>; until: number };

export class PlacementCheck {
  private readonly environments = new Map<string, Entry>();
  private readonly builds = new Map<string, Entry>();

  constructor(
    private readonly db: Database,
    private readonly workerId: string,
  ) {}

  /** Whether the environment is placed on this worker. */
  environment(environmentId: string): Promise<boolean> {
    return this.cached(
      this.environments,
      environmentId,
      async () => (await this.db.environment.count({ where: { id: environmentId, workerId: this.workerId } })) > 0,
    );
  }

  /** Whether the build is in progress (so this worker may have been asked to build it), or its copy on this worker is. */
  build(buildId: string): Promise<boolean> {
    return this.cached(
      this.builds,
      buildId,
      async () =>
        (await this.db.image.count({ where: { id: buildId, status: "BUILDING" } })) > 0 ||
        // A READY image being built again here (this worker joined after its first build).
        (await this.db.workerImage.count({ where: { workerId: this.workerId, imageId: buildId, status: "BUILDING" } })) > 0,
    );
  }

  /** The entries of `byEnvironment` that are placed on this worker (one query for them all). */
  async only<T>(byEnvironment: Record<string, T>): Promise<Record<string, T>> {
    const ids = Object.keys(byEnvironment);
    const placed = await this.db.environment.findMany({ where: { id: { in: ids }, workerId: this.workerId }, select: { id: true } });
    return Object.fromEntries(placed.map(({ id }) => [id, byEnvironment[id]!]));
  }

  private cached(cache: Map<string, Entry>, id: string, ask: () => Promise<boolean>): Promise<boolean> {
    const now = Date.now();
    const entry = cache.get(id);
    if (entry && entry.until > now) return entry.answer;
    if (cache.size >= MAX_ENTRIES) cache.clear();
    const answer = ask();
    const fresh: Entry = { answer, until: now + PLACED_FOR_MS };
    cache.set(id, fresh);
    // A refusal, or a failed query, is kept only briefly.
    answer.then(
      (ok) => {
        if (!ok) fresh.until = Math.min(fresh.until, Date.now() + REFUSED_FOR_MS);
      },
      () => {
        if (cache.get(id) === fresh) cache.delete(id);
      },
    );
    return answer;
  }
}
