/**
 * Where each image stands on each worker (the WorkerImage rows): the one module that writes
 * them. A worker's own report is the truth about what it holds (READY, or forgotten when it no
 * longer holds it); the image builds and the fleet's image sync say what is under way there
 * (BUILDING, TRANSFERRING) and what failed (FAILED, with when to try again). Placement reads
 * the READY rows (directory-store.ts); the image page reads them all.
 */
import type { Logger } from "../../common/logger";
import type { WorkerImageStatus } from "../../generated/prisma/client";
import type { Database } from "../database/client";

/** The tail of a build's or copy's log kept per worker: enough to see where it stands or why it failed. */
const LOG_TAIL = 4 * 1024;
const FLUSH_MS = 500;

export interface WorkerImageRow {
  workerId: string;
  tag: string;
  imageId: string | null;
  status: WorkerImageStatus;
  error: string | null;
  attempts: number;
  retryAt: Date | null;
}

export class WorkerImages {
  private readonly pending = new Map<string, { workerId: string; imageId: string; lines: string[] }>();
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database,
    private readonly log: Logger,
  ) {}

  /**
   * A worker's report of the images it holds: each becomes READY there (whatever was under
   * way), and a READY one it no longer holds is forgotten (the sync brings it back if needed).
   */
  async recordHeld(workerId: string, tags: readonly string[]): Promise<{ gained: string[]; lost: string[] }> {
    const held = new Set(tags);
    const rows = await this.db.workerImage.findMany({ where: { workerId }, select: { tag: true, status: true } });
    const known = new Map(rows.map((row) => [row.tag, row.status]));
    const gained = tags.filter((tag) => known.get(tag) !== "READY");
    const lost = rows.filter((row) => row.status === "READY" && !held.has(row.tag)).map((row) => row.tag);
    if (gained.length === 0 && lost.length === 0) return { gained, lost };
    const builtHere = await this.db.image.findMany({ where: { tag: { in: gained } }, select: { id: true, tag: true } });
    const imageIdOf = new Map(builtHere.map((image) => [image.tag, image.id]));
    const ready = { status: "READY" as const, error: null, attempts: 0, retryAt: null };
    await this.db.$transaction([
      this.db.workerImage.deleteMany({ where: { workerId, tag: { in: lost }, status: "READY" } }),
      this.db.workerImage.updateMany({ where: { workerId, tag: { in: gained.filter((tag) => known.has(tag)) } }, data: ready }),
      this.db.workerImage.createMany({
        data: gained.filter((tag) => !known.has(tag)).map((tag) => ({ workerId, tag, imageId: imageIdOf.get(tag) ?? null, ...ready })),
        skipDuplicates: true,
      }),
    ]);
    return { gained, lost };
  }

  /** A build or a copy begins on this worker: its row shows it, with a fresh log. */
  async begin(workerId: string, tag: string, imageId: string | null, status: "BUILDING" | "TRANSFERRING", note: string) {
    const data = { status, imageId, log: `${note}\n`, error: null, retryAt: null };
    await this.db.workerImage.upsert({ where: { workerId_tag: { workerId, tag } }, create: { workerId, tag, ...data }, update: data });
  }

  /** It is there now (the worker's next report says so too). */
  async succeeded(workerId: string, tag: string) {
    await this.flush();
    await this.db.workerImage.updateMany({ where: { workerId, tag }, data: { status: "READY", error: null, attempts: 0, retryAt: null } });
  }

  /** It failed; `retryAt`: when the sync may try again (none: only a new build does). */
  async failed(workerId: string, tag: string, error: string, retryAt: Date | null) {
    await this.flush();
    await this.db.workerImage.updateMany({
      where: { workerId, tag, status: { not: "READY" } },
      data: { status: "FAILED", error: error.slice(0, 2000), attempts: { increment: 1 }, retryAt },
    });
  }

  /** A line of a build's log on this worker (batched; the row keeps the last few KiB). */
  appendBuildLog(workerId: string, imageId: string, line: string) {
    const key = `${workerId}\n${imageId}`;
    const entry = this.pending.get(key) ?? { workerId, imageId, lines: [] };
    entry.lines.push(line);
    this.pending.set(key, entry);
    this.flushTimer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** The rows of these workers (all when none named). */
  rows(where: { workerIds?: string[]; imageId?: string } = {}): Promise<WorkerImageRow[]> {
    return this.db.workerImage.findMany({
      where: { ...(where.workerIds ? { workerId: { in: where.workerIds } } : {}), ...(where.imageId ? { imageId: where.imageId } : {}) },
      select: { workerId: true, tag: true, imageId: true, status: true, error: true, attempts: true, retryAt: true },
    });
  }

  /** Rows left BUILDING or TRANSFERRING by work that is gone (a server that stopped mid-copy): failed, to be tried again at once. */
  async abandon(workerId: string, tags: string[], reason: string) {
    if (tags.length === 0) return;
    await this.db.workerImage.updateMany({
      where: { workerId, tag: { in: tags }, status: { in: ["BUILDING", "TRANSFERRING"] } },
      data: { status: "FAILED", error: reason, retryAt: new Date() },
    });
  }

  async flush() {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batches = [...this.pending.values()];
    this.pending.clear();
    for (const { workerId, imageId, lines } of batches) {
      // Appended in SQL (no read-modify-write), keeping the newest LOG_TAIL characters.
      await this.db
        .$executeRaw`UPDATE "WorkerImage" SET "log" = right("log" || ${`${lines.join("\n")}\n`}, ${LOG_TAIL}) WHERE "workerId" = ${workerId} AND "imageId" = ${imageId}`.catch(
        (error: Error) => this.log.error({ workerId, imageId, err: error.message }, "could not store a worker's image log"),
      );
    }
  }
}
