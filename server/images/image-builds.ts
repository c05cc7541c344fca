/**
 * Instructors' image builds: every live worker builds the Dockerfile (each host needs the
 * image to start environments from it); log lines stream into the Image row as they come,
 * so the page can follow along.
 *
 * A build is a job on the durable queue, so it outlives the request that asked for it and
 * never stays BUILDING forever: a build whose server stops, whose worker disconnects or that
 * runs past its deadline ends FAILED with a reason starting "interrupted:". The Dockerfile
 * was checked against the build policy when it was submitted; each worker checks it again.
 */
import type { Logger } from "../../common/logger";
import type { BuildImageRequest, BuildLimits } from "../../protocol/worker-messages";
import { WorkerRequests } from "../../protocol/worker-contract";
import type { Database } from "../database/client";
import { JOB_SCHEMA, type JobQueue } from "../jobs/job-queue";
import type { WorkerDirectory } from "../workers/scheduler";
import type { WorkerLink } from "../workers/worker-link";
import { buildLimitsFrom } from "./build-config";
import type { WorkerImages } from "./worker-images";

export const BUILD_QUEUE = "image-build";
/** pg-boss moves a build job here when it failed outside our handler (server stopped, expired). */
export const BUILD_INTERRUPTED_QUEUE = "image-build-interrupted";

const LOG_LIMIT = 256 * 1024;
const FLUSH_MS = 300;
/** Builds one server replica drives at once (each worker still builds one at a time). */
const BUILDS_PER_SERVER = 4;
/** How often a running build checks that its workers are still connected. */
const WORKER_WATCH_MS = 2000;
/** A job not picked up soon after it was queued has been lost: only then is a BUILDING row an orphan. */
const ORPHAN_AFTER_MS = 60_000;

interface BuildJob {
  imageId: string;
}

export class ImageBuilds {
  private readonly pending = new Map<string, string[]>();
  private flushTimer: NodeJS.Timeout | undefined;
  private jobs: JobQueue | undefined;
  private stopping = false;
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  /** A build may wait in its worker's queue behind others: the server waits this long for any worker. */
  private readonly deadlineMs: number;

  constructor(
    private readonly db: Database,
    private readonly workers: WorkerLink,
    private readonly directory: WorkerDirectory,
    private readonly log: Logger,
    private readonly workerImages: WorkerImages,
    readonly limits: BuildLimits = buildLimitsFrom(),
  ) {
    this.deadlineMs = limits.timeoutMs * 4 + 5 * 60_000;
  }

  /** Takes build jobs from the durable queue, and fails builds whose job was lost. */
  async attach(jobs: JobQueue) {
    await jobs.createQueue(BUILD_INTERRUPTED_QUEUE);
    const options = { name: BUILD_QUEUE, retryLimit: 0, expireInSeconds: Math.ceil(this.deadlineMs / 1000) + 60, deadLetter: BUILD_INTERRUPTED_QUEUE };
    await jobs.createQueue(BUILD_QUEUE, options);
    await jobs.updateQueue(BUILD_QUEUE, options); // the operator may have changed the time limit
    for (let slot = 0; slot < BUILDS_PER_SERVER; slot++) {
      await jobs.work<BuildJob>(BUILD_QUEUE, { batchSize: 1, pollingIntervalSeconds: 2 }, async ([job]) => {
        if (job) await this.run(job.data.imageId);
      });
    }
    await jobs.work<BuildJob>(BUILD_INTERRUPTED_QUEUE, { pollingIntervalSeconds: 2 }, async (dead) => {
      for (const job of dead) {
        await this.fail(job.data.imageId, "interrupted: the server running this build stopped before it finished. Build it again.");
      }
    });
    this.jobs = jobs;
    await this.failOrphans();
  }

  async start(input: { courseId: string; name: string; dockerfile: string; userId: string }) {
    const slug =
      input.name
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-|-$/g, "")
        .slice(0, 40) || "image";
    const tag = `shellroom/c-${input.courseId.toLowerCase()}-${slug}:${Date.now().toString(36)}`;
    const image = await this.db.image.create({
      data: { courseId: input.courseId, name: input.name, tag, dockerfile: input.dockerfile, createdById: input.userId },
    });
    try {
      if (!this.jobs) throw new Error("this server is not taking builds right now");
      await this.jobs.send(BUILD_QUEUE, { imageId: image.id } satisfies BuildJob, { singletonKey: image.id });
    } catch (error) {
      await this.fail(image.id, `The build could not be queued: ${(error as Error).message}`);
    }
    return image;
  }

  /** A worker's log line for a build (arrives over the worker gateway): the image's log while it builds, and that worker's tail. */
  appendLog(buildId: string, line: string, workerId?: string) {
    if (workerId) this.workerImages.appendBuildLog(workerId, buildId, line);
    const lines = this.pending.get(buildId) ?? [];
    lines.push(line);
    this.pending.set(buildId, lines);
    this.flushTimer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Stops driving builds: each running one ends FAILED ("interrupted") and its workers are told to stop. */
  async stop() {
    this.jobs = undefined;
    this.stopping = true;
    for (const { controller } of this.running.values()) controller.abort("the server restarted during the build");
    await Promise.all([...this.running.values()].map(({ done }) => done));
    await this.flush();
  }

  private async run(imageId: string) {
    // Failing the job dead-letters it: whichever replica runs next marks the build interrupted.
    if (this.stopping) throw new Error("the server was stopping when the build was to begin");
    const image = await this.db.image.findUnique({ where: { id: imageId }, select: { status: true, tag: true, dockerfile: true } });
    if (image?.status !== "BUILDING" || this.running.has(imageId)) return; // finished already (a repeated delivery)
    const controller = new AbortController();
    const done = this.build(imageId, image.tag, image.dockerfile, controller.signal);
    this.running.set(imageId, { controller, done });
    try {
      await done;
    } finally {
      this.running.delete(imageId);
    }
  }

  private async build(imageId: string, tag: string, dockerfile: string, signal: AbortSignal) {
    const log = this.log.child({ imageId, tag });
    try {
      const workerIds = await this.directory.liveIds();
      if (workerIds.length === 0) throw new Error("No worker is online to build the image. Try again when one is.");
      const request: BuildImageRequest = { buildId: imageId, tag, dockerfile, limits: this.limits };
      const failures = await Promise.all(
        workerIds.map(async (workerId) => {
          const error = await this.buildOn(workerId, request, signal);
          return error && (workerIds.length > 1 ? `${workerId}: ${error}` : error);
        }),
      );
      await this.flush();
      const failed = failures.filter((failure): failure is string => Boolean(failure));
      if (failed.length > 0) throw new Error(failed.join("\n"));
      await this.db.image.updateMany({ where: { id: imageId, status: "BUILDING" }, data: { status: "READY", finishedAt: new Date() } });
      log.info("image built");
    } catch (error) {
      await this.flush();
      const message = (error as Error).message;
      await this.fail(imageId, message);
      log.warn({ err: message }, "image build failed");
    }
  }

  /**
   * A READY image built again on a worker that lacks it (one that joined later): the same
   * request, limits and policy checks as its first build; `retryAt` is recorded if it fails.
   */
  buildCopy(workerId: string, image: { id: string; tag: string; dockerfile: string }, signal: AbortSignal, retryAt: Date) {
    return this.buildOn(workerId, { buildId: image.id, tag: image.tag, dockerfile: image.dockerfile, limits: this.limits }, signal, retryAt);
  }

  /**
   * One worker's build; resolves to its error, if any. It ends early (and the worker is told
   * to stop) when this server stops, the worker's connection drops (its reply would be lost
   * with it), or the deadline passes.
   */
  async buildOn(workerId: string, request: BuildImageRequest, signal: AbortSignal, retryAt: Date | null = null): Promise<string | null> {
    await this.workerImages.begin(workerId, request.tag, request.buildId, "BUILDING", `Building ${request.tag} on this worker.`);
    const error = await this.requestBuild(workerId, request, signal);
    if (error) await this.workerImages.failed(workerId, request.tag, error, retryAt);
    else await this.workerImages.succeeded(workerId, request.tag);
    return error;
  }

  /** The build request itself and its watch (buildOn records where it stands on the worker). */
  private async requestBuild(workerId: string, request: BuildImageRequest, signal: AbortSignal): Promise<string | null> {
    const startedAt = new Date();
    let watch: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const interrupted = new Promise<string>((resolve) => {
      onAbort = () => resolve(`interrupted: ${String(signal.reason)}. Build it again.`);
      if (signal.aborted) onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      watch = setInterval(() => {
        void this.db.worker
          .findUnique({ where: { id: workerId }, select: { status: true, connectedAt: true } })
          .then((worker) => {
            // A reconnect is a new connection: the reply to this request cannot come on it.
            if (!worker || worker.status !== "ONLINE" || worker.connectedAt > startedAt) {
              resolve(`interrupted: worker ${workerId} disconnected during the build. Build it again.`);
            }
          })
          .catch(() => undefined);
      }, WORKER_WATCH_MS);
    });
    const reply = this.workers
      .request(workerId, WorkerRequests.buildImage, request, this.deadlineMs)
      .then((answer) => (answer.ok ? null : answer.error))
      .catch((error: Error) => `interrupted: ${error.message}`);
    try {
      const outcome = await Promise.race([reply.then((error) => ({ error, finished: true })), interrupted.then((error) => ({ error, finished: false }))]);
      if (!outcome.finished || outcome.error?.startsWith("interrupted:")) {
        // Whatever the worker is still doing for this build is of no use now.
        this.workers.send(workerId, WorkerRequests.cancelBuild, { buildId: request.buildId, reason: "the server gave up on this build" });
      }
      return outcome.error;
    } finally {
      clearInterval(watch);
      if (onAbort) signal.removeEventListener("abort", onAbort);
    }
  }

  private async fail(imageId: string, error: string) {
    await this.db.image
      .updateMany({ where: { id: imageId, status: "BUILDING" }, data: { status: "FAILED", error, finishedAt: new Date() } })
      .catch((failure: Error) => this.log.error({ imageId, err: failure.message }, "could not record a failed build"));
  }

  /** BUILDING rows with no live job (lost before the queue held them, or by a crash the queue already buried). */
  private async failOrphans() {
    const orphans = await this.db.$queryRawUnsafe<Array<{ id: string }>>(
      `SELECT i."id" FROM "Image" i
        WHERE i."status" = 'BUILDING' AND i."createdAt" < $1
          AND NOT EXISTS (SELECT 1 FROM ${JOB_SCHEMA}.job j
                           WHERE j.name = $2 AND j.data->>'imageId' = i."id" AND j.state IN ('created', 'retry', 'active'))`,
      new Date(Date.now() - ORPHAN_AFTER_MS),
      BUILD_QUEUE,
    );
    for (const { id } of orphans) await this.fail(id, "interrupted: the build was lost when its server stopped. Build it again.");
    if (orphans.length > 0) this.log.warn({ count: orphans.length }, "builds left BUILDING marked failed");
  }

  private async flush() {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batches = [...this.pending];
    this.pending.clear();
    for (const [imageId, lines] of batches) {
      // Appended in SQL (no read-modify-write), keeping the newest LOG_LIMIT characters.
      // A READY image's log stays as its build left it: a later copy's build on a new worker logs on that worker's row.
      await this.db
        .$executeRaw`UPDATE "Image" SET "log" = right("log" || ${`${lines.join("\n")}\n`}, ${LOG_LIMIT}) WHERE "id" = ${imageId} AND "status" = 'BUILDING'`.catch(
        (error: Error) => this.log.error({ imageId, err: error.message }, "could not store build log"),
      );
    }
  }
}
